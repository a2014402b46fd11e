import type { LectureState, ServerEvent } from '@session-kit/core'
import type { ServerEventMessage } from '../internal/room-client.js'

/** How long the lecture room may take to show (or end) a spotlight before it counts as failed. */
const SPOTLIGHT_MS = 8000

export interface LectureTarget {
  server: string
  /** The lecture room's session id. */
  session: string
  /** An instructor's token for the lecture room that also names the assignment. */
  token: string
}

/** What came of a spotlight asked for: the lecture's spotlight now, or why it was refused. */
export type SpotlightOutcome = { ok: true; spotlight: LectureState['spotlight'] } | { ok: false; message: string }

/**
 * Show a learner's room (`sessionId`) in a lecture room, or end the lecture's spotlight (`null`),
 * on a short connection of its own to the lecture room (events only: no code), closed once the
 * lecture room has it.
 */
export async function spotlightInLecture(target: LectureTarget, sessionId: string | null): Promise<SpotlightOutcome> {
  const { SessionRoom } = await import('../define/session-room.js')
  return new Promise<SpotlightOutcome>((resolve) => {
    let sent = false
    let finished = false
    const done = (outcome: SpotlightOutcome) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      client.events.removeEventListener('lecture', onLecture)
      client.events.removeEventListener('error', onError)
      client.stop()
      resolve(outcome)
    }
    const onLecture = (e: Event) => {
      const { lecture } = (e as ServerEventMessage<Extract<ServerEvent, { type: 'lecture' }>>).detail
      if (sent && (sessionId ? lecture.spotlight?.sessionId === sessionId : lecture.spotlight === null)) done({ ok: true, spotlight: lecture.spotlight })
    }
    const onError = (e: Event) => {
      const { message } = (e as ServerEventMessage<Extract<ServerEvent, { type: 'error' }>>).detail
      if (sent) done({ ok: false, message })
    }
    const client = SessionRoom.connect({
      server: target.server,
      session: target.session,
      token: () => target.token,
      tokenProvider: () => undefined,
      onChange: () => {
        if (client.status === 'live' && !sent) {
          // Already as asked: nothing to send.
          if (sessionId ? client.lecture.spotlight?.sessionId === sessionId : client.lecture.spotlight === null) return done({ ok: true, spotlight: client.lecture.spotlight })
          sent = client.lead(sessionId ? { type: 'spotlight', userId: null, sessionId } : { type: 'spotlight', userId: null })
        }
        if (client.status === 'error') done({ ok: false, message: client.error?.message ?? 'The lecture room could not be reached.' })
      },
    })
    const timer = setTimeout(() => done({ ok: false, message: 'The lecture room did not answer.' }), SPOTLIGHT_MS)
    client.events.addEventListener('lecture', onLecture)
    client.events.addEventListener('error', onError)
    client.start()
  })
}
