import { CloseCode, Permission, whyNot } from '@session-kit/core'
import type { WriteRefusal } from './intake.js'
import { REPEAT_OFFENCE, waitInWords } from './limits.js'
import type { Peer } from './peer.js'

/** Why a writer's edits were refused: core's reason, or that this connection is only a viewer. */
export function editRefusal(peer: Peer): string {
  const why = whyNot(peer.ctx, Permission.EDIT_CODE)
  if (!why && peer.kind !== 'full') return 'This connection is a viewer: switch it to a full peer (mode "full") before editing.'
  return why?.message ?? 'You do not have permission to edit the code.'
}

/**
 * A room's refused writes: each closes its connection as the refusal says, and someone whose
 * writes keep being refused is closed for good (4403) and kept out of the room for a while, so
 * that reconnecting does not start the same thing again.
 */
export class RefusedWrites {
  #offences = new Map<string, number[]>()

  constructor(
    private readonly cooldownMs: number,
    private readonly keepOut: (userId: string, until: Date) => void,
  ) {}

  refuse(peer: Peer, { error, close, offence }: WriteRefusal) {
    peer.send(error)
    if (!offence) return peer.close(close, error.message)
    const now = Date.now()
    const times = (this.#offences.get(peer.userId) ?? []).filter((t) => now - t < REPEAT_OFFENCE.windowMs)
    times.push(now)
    this.#offences.set(peer.userId, times)
    if (times.length < REPEAT_OFFENCE.count) return peer.close(close, error.message)
    const until = new Date(now + this.cooldownMs)
    peer.close(CloseCode.Forbidden, `Closed after repeated refused writes; you can rejoin in ${waitInWords(this.cooldownMs)}. ${error.message}`)
    this.keepOut(peer.userId, until)
  }
}
