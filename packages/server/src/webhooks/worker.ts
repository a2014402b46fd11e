import type { WebhookConfig } from '../config.js'
import type { Sql } from '../store/db.js'
import { claimDeliveries, markAttemptFailed, markDelivered, pruneDeliveries, type ClaimedDelivery } from '../store/webhooks.js'
import { webhookHeaders } from './signature.js'
import { AbortedError, postWebhook, type PostAnswer } from './send.js'

/**
 * How long to wait after each failed attempt before the next: 5 s, 30 s, 2 min, 10 min, 1 h, 2 h,
 * 4 h, 8 h, 8 h — ten attempts over about a day, long enough for a host's outage or a fix of its
 * receiver. After the last, the delivery is given up and its endpoint marked failing.
 */
export const RETRY_S = [5, 30, 120, 600, 3600, 7200, 14_400, 28_800, 28_800]
/** How often the outbox is looked at for due deliveries. */
const TICK_MS = 1_000
/** Deliveries under way at once in one instance (each to a different endpoint). */
const MAX_IN_FLIGHT = 16
/** Delivered rows are kept a week, given-up ones a month (to see what was lost), then forgotten. */
const KEEP_DELIVERED_MS = 7 * 86_400_000
const KEEP_FAILED_MS = 30 * 86_400_000
const PRUNE_EVERY_MS = 3_600_000
/** How long closing waits for deliveries under way (what they held is taken again when the lease ends). */
const CLOSE_WAIT_MS = 2_000
const USER_AGENT = 'Session-Kit-Webhooks/1 (Standard Webhooks)'

export interface WebhookWorkerDeps {
  sql: Sql
  config: WebhookConfig
  clock: () => Date
  log: (msg: string) => void
  /** How often to look for due deliveries (default 1 s). */
  tickMs?: number
}

/**
 * Posts the webhook outbox (`webhook_deliveries`) to the hosts' endpoints, signed (Standard
 * Webhooks), at least once. Every instance runs one: due rows are taken with `for update skip
 * locked` under a lease (a delivery's time limit and more), so instances share the work without
 * posting a row twice at once, and a row whose instance died mid-way is taken again when its lease
 * runs out — the receiver may see it twice, never not at all. Each endpoint has at most one
 * delivery under way per instance, so a slow or hostile endpoint holds one slot, never the others;
 * a success takes the endpoint's next row at once, so a backlog drains without waiting for ticks.
 */
export class WebhookWorker {
  #timer?: NodeJS.Timeout
  #closed = false
  /** Deliveries under way, by endpoint. */
  readonly #inFlight = new Map<string, Promise<void>>()
  #claiming?: Promise<Promise<void>[]>
  #lastPrune = 0
  /** Ends the attempts still under way when closing has waited long enough. */
  readonly #stop = new AbortController()

  constructor(private readonly deps: WebhookWorkerDeps) {}

  /** How long a taken row stays this instance's: well beyond one attempt's time limit. */
  get leaseMs(): number {
    return Math.max(60_000, this.deps.config.timeoutMs * 3)
  }

  start(): void {
    this.#timer = setInterval(() => void this.#claim().catch((e: Error) => this.deps.log(`webhooks: ${e.message}`)), this.deps.tickMs ?? TICK_MS)
    this.#timer.unref()
  }

  /**
   * Stop taking rows; deliveries under way get a moment to finish, then are cut off and left as
   * they are — still leased, so another instance (or the next start) makes them when the lease ends.
   */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    const pending = [this.#claiming?.catch(() => {}), ...this.#inFlight.values()]
    await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())])
    this.#stop.abort()
    await Promise.allSettled([...this.#inFlight.values()])
  }

  /** Take the due deliveries now and make them; resolves when those taken are done. Returns how many were taken. */
  async tick(): Promise<number> {
    const started = await this.#claim()
    await Promise.all(started)
    return started.length
  }

  /** Make every delivery due now, including those that become due as others finish (tests, a graceful hand-over). */
  async drain(): Promise<void> {
    // A claim already under way may have looked before the latest events were committed: only claims made from now on count.
    await this.#claiming?.catch(() => {})
    for (;;) {
      const taken = await this.tick()
      if (this.#inFlight.size) await Promise.all([...this.#inFlight.values()])
      else if (!taken) return
    }
  }

  #claim(): Promise<Promise<void>[]> {
    this.#claiming ??= this.#claimDue().finally(() => (this.#claiming = undefined))
    return this.#claiming
  }

  async #claimDue(): Promise<Promise<void>[]> {
    if (this.#closed) return []
    const { sql, clock } = this.deps
    await this.#prune()
    const free = MAX_IN_FLIGHT - this.#inFlight.size
    if (free <= 0) return []
    const rows = await claimDeliveries(sql, clock(), this.leaseMs, free, [...this.#inFlight.keys()])
    return rows.map((row) => {
      const done = this.#deliver(row)
        .catch((e: Error) => this.deps.log(`webhooks: delivery ${row.id}: ${e.stack ?? e.message}`))
        .finally(() => {
          this.#inFlight.delete(row.endpointId)
          // The endpoint's next row (or another endpoint's), without waiting for the tick.
          if (!this.#closed) void this.#claim().catch((e: Error) => this.deps.log(`webhooks: ${e.message}`))
        })
      this.#inFlight.set(row.endpointId, done)
      return done
    })
  }

  async #deliver(row: ClaimedDelivery): Promise<void> {
    const { sql, clock, config } = this.deps
    // The body is rebuilt the same way on every attempt: the receiver can compare retries byte for byte.
    const { type, timestamp, data } = row.payload
    const body = JSON.stringify({ type, timestamp, data })
    const headers = { ...webhookHeaders(row.secret, row.id, clock(), body), 'content-type': 'application/json', 'user-agent': USER_AGENT }
    let answer: PostAnswer | undefined
    let error = ''
    try {
      answer = await postWebhook(new URL(row.url), headers, body, { timeoutMs: config.timeoutMs, allowPrivate: config.allowPrivate, signal: this.#stop.signal })
    } catch (e) {
      // Cut off by closing: not the endpoint's failure, and the database may be going too.
      if (e instanceof AbortedError) return
      error = (e as Error).message.slice(0, 500)
    }
    const status = answer?.status ?? null
    if (answer && answer.status >= 200 && answer.status <= 299) return markDelivered(sql, row, answer.status, clock())
    if (answer) {
      const said = answer.text.replace(/\s+/g, ' ').trim().slice(0, 200)
      error =
        answer.status >= 300 && answer.status <= 399
          ? `HTTP ${answer.status}: redirects are not followed${answer.location ? ` (to ${answer.location.slice(0, 200)})` : ''}; give the final URL.`
          : `HTTP ${answer.status}${said ? `: ${said}` : ''}`
    }
    const wait = RETRY_S[row.attempts]
    const now = clock()
    await markAttemptFailed(sql, row, { status, error, retryAt: wait === undefined ? null : new Date(now.getTime() + wait * 1000), at: now })
    if (wait === undefined) this.deps.log(`webhooks: gave up delivery ${row.id} to endpoint ${row.endpointId} after ${row.attempts + 1} attempts: ${error}`)
  }

  async #prune(): Promise<void> {
    const now = this.deps.clock().getTime()
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return
    this.#lastPrune = now
    await pruneDeliveries(this.deps.sql, new Date(now - KEEP_DELIVERED_MS), new Date(now - KEEP_FAILED_MS))
  }
}
