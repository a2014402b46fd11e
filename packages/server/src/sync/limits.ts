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

/** A token bucket per person per room, kept with the room: when the room unloads, its buckets go. */
export class Allowances {
  #byRoom = new WeakMap<object, Map<string, TokenBucket>>()

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  of(room: object, userId: string): TokenBucket {
    let byUser = this.#byRoom.get(room)
    if (!byUser) this.#byRoom.set(room, (byUser = new Map()))
    let bucket = byUser.get(userId)
    if (!bucket) byUser.set(userId, (bucket = new TokenBucket(this.rate, this.burst)))
    return bucket
  }
}

/** Frames a connection may send: generous for fast typists with cursors, fatal for floods. */
export const FRAME_RATE = { rate: 100, burst: 400 }
/** Forbidden writes within this window before a connection is closed for good (4403). */
export const REPEAT_OFFENCE = { count: 3, windowMs: 10 * 60_000 }
/** Chat per participant: a burst of 5, then one message a second. */
export const CHAT_RATE = { rate: 1, burst: 5 }
/** Run reports per participant: a burst of 5, then one every two seconds. */
export const RUN_RATE = { rate: 0.5, burst: 5 }
/** Hands raised per participant (lowering is free): a burst of 3, then one every ten seconds. */
export const HAND_RATE = { rate: 0.1, burst: 3 }
/** Bytes of changes held from one peer while the server asks it for one they depend on. */
export const MAX_PARKED_BYTES = 4 * 1024 * 1024
/** Bytes compressed changes in one message may expand to (Automerge itself inflates without bound). */
export const MAX_INFLATED_BYTES = 8 * 1024 * 1024
/** Messages with more operations than this are decoded in a worker thread, off the event loop. */
export const INLINE_DECODE_OPS = 2_000

/** A change refused because of a document or file limit (routes answer 413 or 409 with its code). */
export class LimitError extends Error {
  constructor(
    readonly code: 'document_full' | 'too_many_files',
    message: string,
  ) {
    super(message)
    this.name = 'LimitError'
  }
}

/** 20000 → "20,000" (without toLocaleString, whose first call loads ICU data: ~15 ms on the event loop). */
export const chars = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/** "40 seconds", "1 minute", "10 minutes": how long someone has to wait, in a sentence. */
export function waitInWords(ms: number): string {
  if (ms < 60_000) {
    const s = Math.max(1, Math.ceil(ms / 1000))
    return `${s} second${s === 1 ? '' : 's'}`
  }
  const m = Math.ceil(ms / 60_000)
  return `${m} minute${m === 1 ? '' : 's'}`
}

/**
 * What one writer and one document may cost the server. Each has a default for a classroom and an
 * environment variable to change it (see config.ts and docs/guides/security.md).
 */
export interface SyncLimits {
  /** Operations (characters typed, pasted or deleted) one sync message may carry. */
  maxMessageOps: number
  /**
   * Characters a document may hold over its life, deleted ones included: Automerge keeps every
   * character ever inserted, and applying any change costs time in proportion to them. Deleting
   * stays possible once a document is full.
   */
  maxDocumentChars: number
  /** Operations one person may send into one room per minute (a token bucket of that size). */
  editsPerMinute: number
  /** Files a session's document may hold (instructors add them; learners cannot). */
  maxFiles: number
  /** How long someone closed for repeated refused writes (4403) is kept out of that room. */
  writeCooldownMs: number
}

export const DEFAULT_LIMITS: SyncLimits = {
  maxMessageOps: 20_000,
  maxDocumentChars: 200_000,
  editsPerMinute: 20_000,
  maxFiles: 100,
  writeCooldownMs: 10 * 60_000,
}

/**
 * WebSocket connections per client address: how many may be open at once, and how fast new ones
 * may come (a token bucket: a burst of thirty seconds' worth). Generous by default: a school's
 * pupils often share one address behind its NAT, and 300 of them arriving at the start of a
 * lesson — or reconnecting together after a restart — must fit. Either limit is off at 0.
 */
export class ConnectionCounter {
  #open = new Map<string, number>()
  #arrivals = new Map<string, TokenBucket>()
  #sweeps = 0

  constructor(
    private readonly maxOpen: number,
    private readonly perSecond: number,
  ) {}

  /** Whether `address` may open another connection now (counting it as an arrival if so). */
  allows(address: string): boolean {
    if (this.maxOpen > 0 && (this.#open.get(address) ?? 0) >= this.maxOpen) return false
    if (this.perSecond <= 0) return true
    let bucket = this.#arrivals.get(address)
    if (!bucket) this.#arrivals.set(address, (bucket = new TokenBucket(this.perSecond, this.perSecond * 30)))
    if (++this.#sweeps % 1000 === 0) this.#sweep()
    return bucket.take()
  }

  open(address: string) {
    this.#open.set(address, (this.#open.get(address) ?? 0) + 1)
  }

  close(address: string) {
    const n = (this.#open.get(address) ?? 1) - 1
    if (n > 0) this.#open.set(address, n)
    else this.#open.delete(address)
  }

  /** Forget the buckets that have filled up again: they say nothing a new one would not. */
  #sweep() {
    for (const [address, bucket] of this.#arrivals) if (bucket.waitFor(this.perSecond * 30) === 0) this.#arrivals.delete(address)
  }
}
