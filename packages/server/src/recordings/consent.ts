import type { RecordingPolicy } from '@session-kit/core'
import type { ConsentDecision } from '../store/consents.js'

/**
 * Who may appear by name in a recording, and when: the server's rule, applied to the stored replay
 * (never left to the elements).
 *
 * - Everyone is recorded by name only once told of the recording — in the welcome of a connection
 *   made while it runs, or by the room event that said it started (`recording_notices` keeps the
 *   first time; the person who started it is told from its first moment). A connection's frames
 *   are read only after its welcome was sent and that notice stored, so a joiner's edits are never
 *   attributed before their page was told.
 * - Under `consent`, a person is also recorded by name only while their latest decision allows it:
 *   nobody is until they say yes, and anyone may change their mind at any moment.
 * - The server itself (user id '') is always named as it is.
 * - Recordings made before policies existed (`policy` null) name everyone, as they always did.
 */
export class Attribution {
  readonly #byUser = new Map<string, ConsentDecision[]>()

  constructor(
    readonly policy: RecordingPolicy | null,
    /** When each person was first told (epoch ms). */
    private readonly told: ReadonlyMap<string, number>,
    /** Every decision of the session, oldest first. */
    history: readonly ConsentDecision[],
  ) {
    for (const d of history) {
      const list = this.#byUser.get(d.userId) ?? []
      list.push(d)
      this.#byUser.set(d.userId, list)
    }
  }

  /** Whether this person's decision at `at` (epoch ms) allows recording them by name. */
  consents(userId: string, at: number): boolean {
    let latest = false
    for (const d of this.#byUser.get(userId) ?? []) {
      if (d.at > at) break
      latest = d.consent
    }
    return latest
  }

  #policyAllows(userId: string, at: number): boolean {
    return this.policy !== 'consent' || this.consents(userId, at)
  }

  /** An edit, a chat message, a run, a hand: theirs by name only once told and (under `consent`) while consenting. */
  named(userId: string, at: number): boolean {
    if (this.policy === null || userId === '') return true
    const told = this.told.get(userId)
    return told !== undefined && at >= told && this.#policyAllows(userId, at)
  }

  /**
   * Arriving or leaving: stamped around the welcome that told them (either may be stored first), so
   * only whether they were told of this recording at all counts — and their decision then.
   */
  presence(userId: string, at: number): boolean {
    if (this.policy === null || userId === '') return true
    return this.told.has(userId) && this.#policyAllows(userId, at)
  }

  /** Under `consent`: everyone whose decision allowed recording at some moment from `from` to `to`; null otherwise. */
  consentedBetween(from: number, to: number): string[] | null {
    if (this.policy !== 'consent') return null
    const out: string[] = []
    for (const [userId, list] of this.#byUser) {
      if (this.consents(userId, from) || list.some((d) => d.consent && d.at >= from && d.at <= to)) out.push(userId)
    }
    return out.sort()
  }
}

/** The id a replay gives anonymous edits: one no participant of it has. */
export function anonymousId(taken: Iterable<string>): string {
  const ids = new Set(taken)
  let id = 'anonymous'
  while (ids.has(id)) id = `~${id}`
  return id
}
