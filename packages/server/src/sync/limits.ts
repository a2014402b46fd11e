/** A token bucket: `rate` tokens per second, holding at most `burst`. */
export class TokenBucket {
  #tokens: number
  #last: number
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#tokens = burst
    this.#last = now()
  }

  /** Milliseconds until `n` tokens are available (0 if they are now). */
  waitFor(n = 1): number {
    const t = this.now()
    const tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.rate)
    return tokens >= n ? 0 : Math.ceil(((n - tokens) / this.rate) * 1000)
  }

  take(n = 1): boolean {
    const t = this.now()
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.rate)
    this.#last = t
    if (this.#tokens < n) return false
    this.#tokens -= n
    return true
  }
}

/** Frames a connection may send: generous for fast typists with cursors, fatal for floods. */
export const FRAME_RATE = { rate: 100, burst: 400 }
/** Presence updates forwarded per connection per second (more are coalesced, not refused). */
export const PRESENCE_INTERVAL_MS = 50
/** Forbidden writes within this window before a connection is closed for good (4403). */
export const REPEAT_OFFENCE = { count: 3, windowMs: 10 * 60_000 }
/** Chat per participant: a burst of 5, then one message a second. */
export const CHAT_RATE = { rate: 1, burst: 5 }
/** Run reports per participant: a burst of 5, then one every two seconds. */
export const RUN_RATE = { rate: 0.5, burst: 5 }
/** Bytes of changes held from one peer while the server asks it for one they depend on. */
export const MAX_PARKED_BYTES = 4 * 1024 * 1024
