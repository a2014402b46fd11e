import type { ChatMessage, ServerEvent } from '@session-kit/core'
import type { RoomClient, ServerEventMessage } from '../internal/room-client.js'

/** How long a message may take to be said in a room before it counts as not sent. */
const SEND_MS = 8000
/** Rooms written to at once when a message goes to everyone. */
const AT_ONCE = 6

export interface MessageTarget {
  userId: string
  sessionId: string
  /** The room's connection, when the overview already streams it. */
  client: RoomClient | null
}

/**
 * Say `text` in the chat of one learner's room: on the connection the overview holds, or on a
 * short one of its own (events only: no code), closed once the room has the message.
 */
export async function sayInRoom(server: string, target: MessageTarget, token: () => Promise<string>, text: string): Promise<boolean> {
  if (target.client?.status === 'live' && target.client.send({ type: 'chat', text })) return true
  const { SessionRoom } = await import('../define/session-room.js')
  return new Promise<boolean>((resolve) => {
    let sent = false
    const done = (ok: boolean) => {
      clearTimeout(timer)
      client.events.removeEventListener('chat', onChat)
      client.stop()
      resolve(ok)
    }
    const onChat = (e: Event) => {
      const { message } = (e as ServerEventMessage<Extract<ServerEvent, { type: 'chat' }>>).detail as { message: ChatMessage }
      if (message.text === text) done(true)
    }
    const client = SessionRoom.connect({
      server,
      session: target.sessionId,
      token: () => undefined,
      tokenProvider: () => token,
      onChange: () => {
        if (client.status === 'live' && !sent) sent = client.send({ type: 'chat', text })
        if (client.status === 'error') done(false)
      },
    })
    const timer = setTimeout(() => done(false), SEND_MS)
    client.events.addEventListener('chat', onChat)
    client.start()
  })
}

/** Say `text` in every target's room, a few at a time; how many rooms have it. */
export async function sayInRooms(server: string, targets: readonly MessageTarget[], token: (t: MessageTarget) => Promise<string>, text: string): Promise<number> {
  let sent = 0
  const queue = [...targets]
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const target = t
      if (await sayInRoom(server, target, () => token(target), text).catch(() => false)) sent++
    }
  }
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, queue.length) }, worker))
  return sent
}
