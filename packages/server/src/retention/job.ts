import { RETENTION_KINDS, type RetentionKind, type RetentionStatus } from '@session-kit/core/api'
import { expireAudit, JOB_ORIGIN, recordAction, SYSTEM_ACTOR } from '../audit/record.js'
import type { RetentionConfig } from '../config.js'
import type { Sql, Tx } from '../store/db.js'
import {
  anySessionRetention,
  beginRun,
  deleteChatBefore,
  deleteEventsBefore,
  deleteRecordingsBefore,
  deleteSnapshotsBefore,
  finishRun,
  forgetErasedBefore,
  holdsLease,
  nextChat,
  nextClosedSession,
  nextEvents,
  nextRecordings,
  nextSnapshots,
  readJob,
  recordProgress,
  releaseLease,
  takeLease,
  type Expiring,
} from '../store/retention.js'
import { deleteSessions } from '../store/sessions.js'

/*
 * The retention job: deletes what outlived its period (docs/guides/privacy.md), in small batches.
 *
 * - One instance runs it: whoever holds the lease in `retention_job` (taken with one conditional
 *   UPDATE; a lease ends by itself, so an instance that crashed hands over after LEASE_MS).
 * - A run works through the kinds in order, and within one kind session by session (by id). Each
 *   batch deletes, records its progress (step, last session finished, counts) and extends the lease
 *   in one transaction: a crash loses at most that batch, which the next holder does again from the
 *   recorded place. The run's "now" is fixed at its start, so a resumed run deletes the same set.
 * - Each finished run is appended to the audit log (`retention.run`, with what it deleted), and
 *   every session it deleted as `session.deleted` by the system.
 */

/** The steps of a run, in order: the kinds, then the erased people whose old tokens have all expired, then the audit log's own period. */
const STEPS = [...RETENTION_KINDS, 'erased', 'audit'] as const
type Step = (typeof STEPS)[number]

const BATCH = 500
const LEASE_MS = 2 * 60_000
const TICK_MS = 60_000

export interface RetentionJobDeps {
  sql: Sql
  config: RetentionConfig
  /** Erased people are remembered this long: every token issued before the erasure has expired by then. */
  maxTokenTtlSeconds: number
  clock: () => Date
  log: (msg: string) => void
  /** Who holds the lease (the instance's id). */
  owner: string
  /** A session the job deleted: this instance's hub lets its room go. */
  sessionDeleted?: (sessionId: string) => void
  /** Rows per batch (default 500). */
  batchSize?: number
  leaseMs?: number
  tickMs?: number
}

/** What `run` did: another instance holds the lease, nothing was due, the run finished, or it stopped part way (closing, or the lease was lost). */
export type RetentionOutcome = { outcome: 'busy' } | { outcome: 'idle' } | { outcome: 'finished'; deleted: Record<string, number> } | { outcome: 'stopped' }

/** What `take` found: a run started now, one resumed (a crash, or a stop part way), nothing due, or the lease held elsewhere. */
export type Taken = 'started' | 'resumed' | 'idle' | 'busy'

export class RetentionJob {
  #timer?: NodeJS.Timeout
  #running?: Promise<RetentionOutcome>
  #closed = false

  constructor(private readonly deps: RetentionJobDeps) {}

  get #batch() {
    return this.deps.batchSize ?? BATCH
  }

  #leaseEnd() {
    return new Date(this.deps.clock().getTime() + (this.deps.leaseMs ?? LEASE_MS))
  }

  start(): void {
    this.#timer = setInterval(() => void this.run().catch((e: Error) => this.deps.log(`retention: ${e.message}`)), this.deps.tickMs ?? TICK_MS)
    this.#timer.unref()
  }

  /** Stop: the batch under way finishes, and the lease is let go so another instance can carry on at once. */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.#running?.catch(() => {})
    await releaseLease(this.deps.sql, this.deps.owner).catch(() => {})
  }

  /**
   * Take the lease and run (or resume) a run to its end. A run starts when the last one finished
   * more than the interval ago, or at once with `force`. One call at a time per instance.
   */
  run(opts: { force?: boolean } = {}): Promise<RetentionOutcome> {
    if (this.#running) return this.#running
    this.#running = (async (): Promise<RetentionOutcome> => {
      try {
        const taken = await this.take(opts)
        if (taken === 'busy' || taken === 'idle') return { outcome: taken }
        for (;;) {
          if (this.#closed) return { outcome: 'stopped' }
          const next = await this.batch()
          if (next === 'lost') return { outcome: 'stopped' }
          if (next !== 'more') return { outcome: 'finished', deleted: next.deleted }
        }
      } finally {
        this.#running = undefined
      }
    })()
    return this.#running
  }

  /** Take the lease, and start a run when one is due (or forced). Without a run to do, the lease is let go again. */
  async take(opts: { force?: boolean } = {}): Promise<Taken> {
    const { sql, clock, owner, config } = this.deps
    const now = clock()
    const row = await takeLease(sql, owner, now, this.#leaseEnd())
    if (!row) return 'busy'
    if (row.runAt) return 'resumed'
    const due = opts.force || !row.lastFinishedAt || row.lastFinishedAt.getTime() + config.intervalSeconds * 1000 <= now.getTime()
    if (due && (await beginRun(sql, owner, now, STEPS[0]))) return 'started'
    await releaseLease(sql, owner)
    return 'idle'
  }

  /**
   * One batch of the run in progress (the lease must be held: see `take`). 'more' while there is
   * work left; the run's totals when it finished; 'lost' when another instance took the lease over.
   */
  async batch(): Promise<'more' | 'lost' | { deleted: Record<string, number> }> {
    const { sql, owner } = this.deps
    const job = await readJob(sql)
    if (job.owner !== owner || !job.runAt || !job.step) return 'lost'
    const runAt = job.runAt
    const step = job.step as Step
    const after = job.afterSession ?? ''

    if (step === 'erased' || step === 'audit') {
      return this.#inTx(async (tx) => {
        const deleted: Record<string, number> = {}
        if (step === 'erased') deleted.erased_users = await forgetErasedBefore(tx, new Date(runAt.getTime() - (this.deps.maxTokenTtlSeconds + 60) * 1000))
        else if (this.deps.config.audit !== undefined) deleted.audit_log = await expireAudit(tx, new Date(runAt.getTime() - this.deps.config.audit * 1000))
        return this.#advance(tx, step, deleted)
      })
    }

    const kind = step as RetentionKind
    const next = await NEXT[kind](sql, runAt, this.deps.config[kind], after)
    if (!next) return this.#inTx((tx) => this.#advance(tx, step, {}))

    let deletedSession: string | undefined
    const result = await this.#inTx(async (tx) => {
      const { deleted, done } = await this.#deleteIn(tx, kind, next)
      if (kind === 'session' && done && deleted.sessions) deletedSession = next.sessionId
      await recordProgress(tx, { owner, step, afterSession: done ? next.sessionId : job.afterSession, deleted, until: this.#leaseEnd() })
      return 'more' as const
    })
    if (deletedSession) this.deps.sessionDeleted?.(deletedSession)
    return result
  }

  /** The job's state for `GET /v1/retention`. */
  async status(): Promise<RetentionStatus> {
    const { config } = this.deps
    const job = await readJob(this.deps.sql)
    const days = (s: number | undefined) => (s === undefined ? null : s / 86400)
    return {
      periods: { recordings: days(config.recordings), chat: days(config.chat), events: days(config.events), snapshots: days(config.snapshots), session: days(config.session) },
      intervalSeconds: config.intervalSeconds,
      running: job.runAt ? { startedAt: job.runAt.toISOString(), step: job.step ?? '', deleted: job.counts } : null,
      lastRun: job.lastStartedAt && job.lastFinishedAt && job.lastCounts ? { startedAt: job.lastStartedAt.toISOString(), finishedAt: job.lastFinishedAt.toISOString(), deleted: job.lastCounts } : null,
    }
  }

  // ---- inside a batch --------------------------------------------------------------------------

  /** Run `work` in a transaction that holds the lease for its whole length; 'lost' when the lease is no longer ours. */
  async #inTx<T>(work: (tx: Tx) => Promise<T>): Promise<T | 'lost'> {
    const { sql, clock, owner } = this.deps
    return sql.begin(async (tx) => {
      if (!(await holdsLease(tx, owner, clock()))) return 'lost' as const
      return work(tx)
    }) as Promise<T | 'lost'>
  }

  /** Delete one batch of `kind` in the session `next` names; `done` when nothing of it is left there. */
  async #deleteIn(tx: Tx, kind: RetentionKind, next: Expiring): Promise<{ deleted: Record<string, number>; done: boolean }> {
    const n = this.#batch
    const { sessionId, cutoff } = next
    switch (kind) {
      case 'recordings': {
        const gone = await deleteRecordingsBefore(tx, sessionId, cutoff, n)
        return { deleted: { recordings: gone }, done: gone < n }
      }
      case 'chat': {
        const gone = await deleteChatBefore(tx, sessionId, cutoff, n)
        return { deleted: { chat_messages: gone }, done: gone < n }
      }
      case 'events': {
        const gone = await deleteEventsBefore(tx, sessionId, cutoff, n)
        return { deleted: gone, done: gone.events < n && gone.activity_minutes < n }
      }
      case 'snapshots': {
        const gone = await deleteSnapshotsBefore(tx, sessionId, cutoff, n)
        return { deleted: { snapshots: gone }, done: gone < n }
      }
      case 'session': {
        // Someone may have come in since it was found: then it is not closed after all.
        if ((await tx`select 1 from connections where session_id = ${sessionId} limit 1`).length) return { deleted: {}, done: true }
        const gone = await deleteSessions(tx, [sessionId])
        if (gone.length) await recordAction(tx, { action: 'session.deleted', actor: SYSTEM_ACTOR, origin: JOB_ORIGIN, sessionId, details: { retention: true } })
        return { deleted: { sessions: gone.length }, done: true }
      }
    }
  }

  /** Move to the step after `step`, or finish the run (appended to the audit log with its totals). */
  async #advance(tx: Tx, step: Step, deleted: Record<string, number>): Promise<'more' | { deleted: Record<string, number> }> {
    const { owner, clock, config } = this.deps
    const following = STEPS[STEPS.indexOf(step) + 1]
    if (following) {
      await recordProgress(tx, { owner, step: following, afterSession: null, deleted, until: this.#leaseEnd() })
      return 'more'
    }
    await recordProgress(tx, { owner, step, afterSession: null, deleted, until: this.#leaseEnd() })
    const row = await finishRun(tx, owner, clock())
    const totals = row?.lastCounts ?? {}
    const configured = RETENTION_KINDS.some((k) => config[k] !== undefined) || config.audit !== undefined
    // A run with nothing to keep short and nothing deleted is not news for the audit log.
    if (configured || Object.values(totals).some((n) => n > 0) || (await anySessionRetention(tx))) {
      await recordAction(tx, { action: 'retention.run', actor: SYSTEM_ACTOR, origin: JOB_ORIGIN, details: { deleted: totals, startedAt: row?.lastStartedAt?.toISOString() ?? null } })
    }
    return { deleted: totals }
  }
}

/** The next session with expired data of each kind. */
const NEXT: Record<RetentionKind, (sql: Sql, runAt: Date, seconds: number | undefined, after: string) => Promise<Expiring | undefined>> = {
  recordings: nextRecordings,
  chat: nextChat,
  events: nextEvents,
  snapshots: nextSnapshots,
  session: nextClosedSession,
}
