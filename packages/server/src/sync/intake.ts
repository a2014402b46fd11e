import { can, CloseCode, Permission, type ServerError } from '@session-kit/core'
import { ChangeFormatError, countEdits, readEntries, type IncomingChange } from './changes.js'
import type { ChangeDecoder } from './decoder.js'
import { Allowances, chars, INLINE_DECODE_OPS, MAX_INFLATED_BYTES, type SyncLimits } from './limits.js'
import type { Peer } from './peer.js'
import type { Room } from './room.js'
import { editRefusal } from './write-refusals.js'
import { scanEntries, type MessageCost } from './scan.js'

/** A writer's message that will not be taken, and how its connection ends. */
export interface WriteRefusal {
  error: ServerError
  /** 4003: rejoin from the server's document; 4429: come back after `retryAfterMs`. */
  close: number
  /** Counts towards closing the connection for good after repeated refusals (4403). */
  offence: boolean
}

export type ReadResult = { ok: true; incoming: IncomingChange[] } | ({ ok: false } & WriteRefusal)

/** A refusal; unless said otherwise it closes 4003 (rejoin from the server) and counts as an offence. */
const refuse = (error: Omit<ServerError, 'type'>, how: { close?: number; offence?: boolean } = {}): ReadResult => ({
  ok: false,
  error: { type: 'error', ...error },
  close: how.close ?? CloseCode.WriteRejected,
  offence: how.offence ?? true,
})
const unreadable = (e: unknown) => refuse({ code: 'invalid_change', message: e instanceof ChangeFormatError ? `Your change was refused: ${e.message}.` : 'Your change could not be read.' })

/**
 * The door for writers' changes: what a sync message would cost is read from its bytes (scan.ts)
 * and held against the limits before Automerge decodes anything, so a refusal costs a few
 * milliseconds however large the message. Small messages (keystrokes) are then decoded at once;
 * large ones in the decoding thread, off the event loop.
 */
export class Intake {
  /** Each person's allowance of operations per room: a minute's worth, at least one whole edit. */
  readonly #allowances: Allowances

  constructor(
    readonly limits: SyncLimits,
    private readonly decoder: ChangeDecoder,
  ) {
    this.#allowances = new Allowances(limits.editsPerMinute / 60, Math.max(limits.editsPerMinute, limits.maxMessageOps))
  }

  read(room: Room, peer: Peer, entries: readonly Uint8Array[]): ReadResult | Promise<ReadResult> {
    if (!can(peer.ctx, Permission.EDIT_CODE)) return refuse({ code: 'forbidden', permission: Permission.EDIT_CODE, message: editRefusal(peer) })
    let cost: MessageCost
    try {
      cost = scanEntries(entries, MAX_INFLATED_BYTES)
    } catch (e) {
      if (e instanceof ChangeFormatError) return unreadable(e)
      throw e
    }
    if (!cost.bulk) {
      const over = this.#check(room, peer, cost.ops, cost.inserts)
      if (over) return over
      if (cost.ops <= INLINE_DECODE_OPS) {
        try {
          return { ok: true, incoming: readEntries(entries) }
        } catch (e) {
          return unreadable(e)
        }
      }
    } else if (cost.ops > this.limits.maxDocumentChars + this.limits.maxMessageOps) {
      return refuse({ code: 'too_large', message: `Your edits were refused: they hold ${chars(cost.ops)} operations, more than a document here may (${chars(this.limits.maxDocumentChars)} characters).` })
    }
    return this.decoder.decode(entries, room.heads).then(
      (all) => {
        // A whole document or bundle also holds what the room has: only the rest is new, and
        // only that counts against the limits (which were already held for plain changes).
        const incoming = all.filter((c) => !room.hasChange(c.change.hash))
        if (cost.bulk) {
          let ops = 0
          let inserts = 0
          for (const { change } of incoming) {
            ops += change.ops.length
            inserts += countEdits(change).inserted
          }
          const over = this.#check(room, peer, ops, inserts)
          if (over) return over
        }
        return { ok: true as const, incoming }
      },
      (e: Error) => unreadable(e),
    )
  }

  /** The message limit, the document's size, then the writer's allowance (taken if it passes). */
  #check(room: Room, peer: Peer, ops: number, inserts: number): ReadResult | undefined {
    const { maxMessageOps, maxDocumentChars, editsPerMinute } = this.limits
    if (ops > maxMessageOps) {
      return refuse({ code: 'too_large', message: `This edit changes ${chars(ops)} characters at once; one edit may change at most ${chars(maxMessageOps)}. Paste long code in parts.` })
    }
    if (inserts > 0 && room.size + inserts > maxDocumentChars) {
      const message = `This session's code has reached its size limit (${chars(maxDocumentChars)} characters typed over its life, deleted ones included), so new text was not saved. Deleting still works; an instructor can start a new session for more.`
      return refuse({ code: 'document_full', message }, { offence: false })
    }
    const allowance = this.#allowances.of(room, peer.userId)
    if (!allowance.take(ops)) {
      const retryAfterMs = Math.max(1000, allowance.waitFor(ops))
      const message = `You changed more than ${chars(editsPerMinute)} characters within a minute; your latest edits are kept and will be sent in ${Math.ceil(retryAfterMs / 1000)} s.`
      return refuse({ code: 'rate_limited', retryAfterMs, message }, { close: CloseCode.RateLimited, offence: false })
    }
    return undefined
  }

}
