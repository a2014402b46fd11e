import type { GradeState, RoomClaims } from '@session-kit/core'
import { callerFromClaims } from '../auth/caller.js'
import { AppError } from '../errors.js'
import type { VerifiedRuns } from '../runs/verified-runs.js'
import { RESTARTED } from '../runs/verified-runs.js'
import type { Sql } from '../store/db.js'
import { getAssignment, getRoom, type AssignmentRow, type AssignmentRoomRow } from '../store/assignments.js'
import { getPlatform, type PlatformRow } from '../store/lti.js'
import { claimDueGrades, gradeTarget, knownLineItem, putGrade, setLineItem, updateGrade, type GradeRow } from '../store/lti-services.js'
import { getVerifiedRun, type VerifiedRunRow } from '../store/verified-runs.js'
import { nextLink } from './roster.js'
import { lmsWords, LtiServiceError, SCOPE, type ServiceTokens } from './service-token.js'

/** AGS 2.0 media types. */
export const AGS_MEDIA = {
  score: 'application/vnd.ims.lis.v1.score+json',
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItems: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
} as const

/** Every score is out of 100: the share of the tests that passed. */
export const SCORE_MAXIMUM = 100

/**
 * How long to wait after each failed send before the next (30 s, 2 min, 10 min, 1 h, then doubling
 * to 8 h): about a day in all, long enough for an LMS's outage or an administrator's fix of the
 * tool's registration. After the last, the grade is given up (`failed`) and the instructor sees why.
 */
export const RETRY_S = [30, 120, 600, 3600, 7200, 14_400, 28_800, 28_800]
/** A grade still waiting for its tests run this long after the submission is given up. */
const GIVE_UP_WAITING_MS = 24 * 3600_000
/** How often a row waiting for its run looks again. */
const RUN_POLL_MS = 1_000
/** While an instance works on a row, others leave it alone this long (and take it up after, should it die). */
const LEASE_MS = 2 * 60_000
/** Rows taken at once (worked on together: a slow LMS holds up only its own). */
const BATCH = 20
/** How often the outbox looks for due rows. */
const TICK_MS = 3_000
/** How long closing waits for a step under way (an LMS may take its 10 s to answer). */
const CLOSE_WAIT_MS = 2_000
/** An AGS answer (a score's, a line item's) is small; a line items page may list many. */
const ANSWER_BYTES = 1024 * 1024

export interface GradeOutboxDeps {
  sql: Sql
  runs: VerifiedRuns
  tokens: ServiceTokens
  clock: () => Date
  log: (msg: string) => void
  /** How often to look for due rows (default 3 s). */
  tickMs?: number
}

/** The score of a verified tests run, and the comment the gradebook shows beside it. */
export function scoreOf(run: Pick<VerifiedRunRow, 'status' | 'testsPassed' | 'testsFailed' | 'reason'>): { score: number; comment: string } {
  const total = run.testsPassed + run.testsFailed
  if ((run.status === 'passed' || run.status === 'failed') && total > 0) {
    return { score: Math.round((run.testsPassed / total) * SCORE_MAXIMUM * 100) / 100, comment: `${run.testsPassed} of ${total} tests passed` }
  }
  // A run that did not finish (the time limit, code that does not load) cannot say how many tests would pass: none is counted.
  const why = run.status === 'timeout' ? 'the time limit was reached' : run.reason ? run.reason.slice(0, 200) : 'the code could not run'
  return { score: 0, comment: `The tests did not finish (${why}): ${run.testsPassed} of ${total} tests passed before that` }
}

/** Whether a run ended because of the server, not the learner's code (a restart, a sandbox that broke): it is asked for again. */
function endedByServer(run: Pick<VerifiedRunRow, 'status' | 'reason' | 'hiddenReason'>): boolean {
  if (run.status !== 'error') return false
  return [run.reason, run.hiddenReason].some((r) => r === RESTARTED || (r ?? '').startsWith('The sandbox failed') || (r ?? '').includes('too busy to finish'))
}

/** Whether a refused run request may succeed later (the queue, the rate limit, a restart), rather than never. */
const transient = (e: AppError) => e.status === 429 || e.status === 503

/** The scores URL of a line item: `/scores` after its path, its query kept (AGS 2.0, 3.4). */
export function scoresUrl(lineitem: string): string {
  const u = new URL(lineitem)
  u.pathname = u.pathname.replace(/\/*$/, '/scores')
  return u.href
}

/**
 * Grades to an LMS's gradebook (LTI Assignment and Grade Services): a durable outbox in
 * `lti_grades`, one row per learner and assignment.
 *
 * A learner who came from an LMS submits → a verified tests run of their room's code, made by the
 * server, and a row `waiting` for it. The worker takes due rows (`for update skip locked`, under a
 * lease, so any number of instances share the work and a dead one's rows are taken up again), and
 * moves each along: `waiting` → the run finished: its score, `sending` → the score posted to the
 * line item (found or created by the assignment's id when the link named none) → `sent`; a failed
 * send is tried again with backoff (`RETRY_S`), then `failed`, its reason kept for instructors.
 * The score is always the server's own run: nothing a learner's client says is used.
 */
export class GradeOutbox {
  #timer?: NodeJS.Timeout
  #ticking?: Promise<number>
  #closed = false
  /** Line items being found or made, per assignment and container: one request for a class that submits at once. */
  #finding = new Map<string, Promise<string>>()

  constructor(private readonly deps: GradeOutboxDeps) {}

  start(): void {
    this.#timer = setInterval(() => void this.tick().catch((e: Error) => this.deps.log(`lti grades: ${e.message}`)), this.deps.tickMs ?? TICK_MS)
    this.#timer.unref()
  }

  /** Stop taking rows; a step under way gets a moment to finish (what it held is taken up again when its lease ends). */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await Promise.race([this.#ticking?.catch(() => {}), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())])
  }

  /**
   * A learner submitted: when they came from an LMS whose link for this assignment takes scores, and
   * the assignment has tests, their room's code is run now and its score will follow. Returns the
   * grade's row, or undefined when there is nothing to send.
   */
  async submitted(a: AssignmentRow, room: AssignmentRoomRow): Promise<GradeRow | undefined> {
    if (!Object.keys(a.visibleTests).length && !Object.keys(a.hiddenTests).length) return undefined
    const { sql, clock } = this.deps
    const target = await gradeTarget(sql, a.id, room.userId, { score: SCOPE.score, lineItem: SCOPE.lineItem })
    if (!target) return undefined
    const { link, ltiSub } = target
    const now = clock()
    const lineitem = link.agsLineitem ?? (link.agsLineitems ? ((await knownLineItem(sql, a.id, link.agsLineitems)) ?? null) : null)
    // Leased at once: the run is asked for here, and the worker must not ask for another meanwhile.
    const row = await putGrade(sql, {
      assignmentId: a.id,
      userId: room.userId,
      platformId: link.platformId,
      ltiSub,
      lineitem,
      lineitems: link.agsLineitems,
      runId: null,
      submittedAt: now,
      lastError: null,
      nextAttemptAt: new Date(now.getTime() + LEASE_MS),
    })
    await this.#startRun(row, room)
    return row
  }

  /** Move every due row one step (or more); returns how many were taken. Safe to call at any time, from any instance. */
  tick(): Promise<number> {
    this.#ticking ??= this.#work().finally(() => (this.#ticking = undefined))
    return this.#ticking
  }

  async #work(): Promise<number> {
    if (this.#closed) return 0
    const rows = await claimDueGrades(this.deps.sql, this.deps.clock(), LEASE_MS, BATCH)
    await Promise.all(rows.map((row) => this.#advance(row)))
    return rows.length
  }

  async #advance(row: GradeRow): Promise<void> {
    try {
      if (row.status === 'waiting') await this.#waiting(row)
      else await this.#send(row)
    } catch (e) {
      const err = e as Error
      if (!(e instanceof AppError)) this.deps.log(`lti grades: ${row.assignmentId}/${row.userId}: ${err.stack ?? err.message}`)
      if (row.status === 'sending') await this.#failedSend(row, err.message)
      // Not a send: the database or a bug. Looked at again in a while, as a send would be.
      else await updateGrade(this.deps.sql, row, { nextAttemptAt: this.#later(RETRY_S[0]!), lastError: err.message }, this.deps.clock())
    }
  }

  // ---- waiting for the run --------------------------------------------------------------------

  async #waiting(row: GradeRow): Promise<void> {
    const { sql, clock } = this.deps
    const now = clock()
    const room = await getRoom(sql, row.assignmentId, row.userId)
    if (!room) return void (await updateGrade(sql, row, { status: 'failed', lastError: 'The learner’s room no longer exists.' }, now))
    if (now.getTime() - row.submittedAt.getTime() > GIVE_UP_WAITING_MS) {
      return void (await updateGrade(sql, row, { status: 'failed', lastError: `The tests could not be run within a day: ${row.lastError ?? 'the server was too busy'}` }, now))
    }
    const run = row.runId ? await getVerifiedRun(sql, room.sessionId, row.runId) : undefined
    if (!run || endedByServer(run)) return this.#startRun(row, room)
    if (!run.finishedAt) return void (await updateGrade(sql, row, { nextAttemptAt: this.#later(RUN_POLL_MS / 1000) }, now))
    const { score } = scoreOf(run)
    const sending: GradeRow = { ...row, status: 'sending', scoreGiven: score, scoreMaximum: SCORE_MAXIMUM, attempts: 0, lastError: null }
    if (!(await updateGrade(sql, row, { status: 'sending', scoreGiven: score, scoreMaximum: SCORE_MAXIMUM, attempts: 0, lastError: null, nextAttemptAt: this.#later(LEASE_MS / 1000) }, now))) return
    // Sent in the same step: the row is still leased to this instance.
    await this.#advance(sending)
  }

  /** Ask for the verified tests run of the room's code as it is now, made as the learner (their room, their limits). */
  async #startRun(row: GradeRow, room: AssignmentRoomRow): Promise<void> {
    const { sql, runs, clock } = this.deps
    const now = clock()
    const claims: RoomClaims = { sub: room.userId, name: room.name, role: 'learner', sid: room.sessionId, assignment: row.assignmentId, exp: Math.floor(now.getTime() / 1000) + 300 }
    try {
      const caller = await callerFromClaims(sql, claims, room.sessionId)
      // The assignment's own visible tests, not the room's copies the learner could have changed.
      const assignment = await getAssignment(sql, row.assignmentId)
      const run = await runs.request(caller, { kind: 'tests', pinnedTests: assignment?.visibleTests ?? {} })
      await updateGrade(sql, row, { runId: run.id, lastError: null, nextAttemptAt: this.#later(RUN_POLL_MS / 1000) }, now)
    } catch (e) {
      if (!(e instanceof AppError)) throw e
      if (transient(e)) {
        const wait = typeof e.extra.retryAfterSeconds === 'number' ? e.extra.retryAfterSeconds : RETRY_S[0]!
        await updateGrade(sql, row, { runId: null, lastError: e.message, nextAttemptAt: this.#later(wait) }, now)
      } else {
        // The room's code cannot be tested as it is (no test file left, no program, the learner removed): it will not change by waiting.
        await updateGrade(sql, row, { status: 'failed', runId: null, lastError: `The tests could not be run: ${e.message}` }, now)
      }
    }
  }

  // ---- sending --------------------------------------------------------------------------------

  async #send(row: GradeRow): Promise<void> {
    const { sql, tokens, clock } = this.deps
    const platform = await getPlatform(sql, row.platformId)
    if (!platform) return void (await updateGrade(sql, row, { status: 'failed', lastError: 'The LMS’s registration was removed from this server.' }, clock()))
    const room = await getRoom(sql, row.assignmentId, row.userId)
    const run = room && row.runId ? await getVerifiedRun(sql, room.sessionId, row.runId) : undefined
    const lineitem = row.lineitem ?? (await this.#lineItem(platform, row))
    const score = {
      userId: row.ltiSub,
      scoreGiven: row.scoreGiven ?? 0,
      scoreMaximum: row.scoreMaximum ?? SCORE_MAXIMUM,
      activityProgress: 'Submitted',
      gradingProgress: 'FullyGraded',
      // The submission's time: a later submission's score is newer, and a retry of this one is the same score.
      timestamp: row.submittedAt.toISOString(),
      ...(run ? { comment: scoreOf(run).comment } : {}),
    }
    const answer = await tokens.call(platform, [SCOPE.score], scoresUrl(lineitem), { method: 'POST', headers: { 'content-type': AGS_MEDIA.score }, body: JSON.stringify(score) }, { maxBytes: ANSWER_BYTES, what: 'gradebook' })
    if (answer.status < 200 || answer.status > 299) throw new LtiServiceError(`The LMS refused the score (HTTP ${answer.status}: ${lmsWords(answer)})`, answer.status)
    const now = clock()
    await updateGrade(sql, row, { status: 'sent', sentAt: now, lastError: null, lineitem, attempts: row.attempts + 1 }, now)
  }

  async #failedSend(row: GradeRow, reason: string): Promise<void> {
    const attempts = row.attempts + 1
    const wait = RETRY_S[attempts - 1]
    const lastError = reason.slice(0, 500)
    if (wait === undefined) await updateGrade(this.deps.sql, row, { status: 'failed', attempts, lastError }, this.deps.clock())
    else await updateGrade(this.deps.sql, row, { attempts, lastError, nextAttemptAt: this.#later(wait) }, this.deps.clock())
  }

  /** The assignment's line item in the course's gradebook: found by its resourceId (the assignment's id), or made. */
  #lineItem(platform: PlatformRow, row: GradeRow): Promise<string> {
    if (!row.lineitems) return Promise.reject(new LtiServiceError('The LMS gave no gradebook column for this activity, and no place to make one.'))
    const key = `${row.assignmentId}\n${row.lineitems}`
    let finding = this.#finding.get(key)
    if (!finding) {
      finding = this.#findOrMake(platform, row.assignmentId, row.lineitems).finally(() => this.#finding.delete(key))
      this.#finding.set(key, finding)
    }
    return finding
  }

  async #findOrMake(platform: PlatformRow, assignmentId: string, container: string): Promise<string> {
    const { sql, tokens } = this.deps
    // Another instance may have found it meanwhile.
    const known = await knownLineItem(sql, assignmentId, container)
    if (known) return known
    const scopes = [SCOPE.lineItem]
    const first = new URL(container)
    first.searchParams.set('resource_id', assignmentId)
    let url: string | undefined = first.href
    for (let page = 0; url && page < 10; page++) {
      const answer = await tokens.call(platform, scopes, url, { method: 'GET', headers: { accept: AGS_MEDIA.lineItems } }, { maxBytes: ANSWER_BYTES, what: 'gradebook' })
      if (answer.status < 200 || answer.status > 299) throw new LtiServiceError(`The LMS did not list its gradebook columns (HTTP ${answer.status}: ${lmsWords(answer)})`, answer.status)
      const items = parseJson(answer.text)
      // Some platforms ignore the filter: it is checked here too.
      const found = Array.isArray(items) ? items.find((i) => i && typeof i === 'object' && i.resourceId === assignmentId && typeof i.id === 'string') : undefined
      if (found) {
        await setLineItem(sql, assignmentId, container, found.id)
        return found.id as string
      }
      const next = nextLink(answer.headers.get('link'))
      url = next && new URL(next, first).origin === first.origin ? next : undefined
    }
    const a = await getAssignment(sql, assignmentId)
    const body = { label: (a?.title || assignmentId).slice(0, 200), scoreMaximum: SCORE_MAXIMUM, resourceId: assignmentId }
    const made = await tokens.call(platform, scopes, container, { method: 'POST', headers: { 'content-type': AGS_MEDIA.lineItem, accept: AGS_MEDIA.lineItem }, body: JSON.stringify(body) }, { maxBytes: ANSWER_BYTES, what: 'gradebook' })
    if (made.status < 200 || made.status > 299) throw new LtiServiceError(`The LMS did not make a gradebook column for the assignment (HTTP ${made.status}: ${lmsWords(made)})`, made.status)
    const item = parseJson(made.text)
    if (!item || typeof item.id !== 'string') throw new LtiServiceError('The LMS made a gradebook column but did not say where it is (no id).', made.status)
    await setLineItem(sql, assignmentId, container, item.id)
    return item.id as string
  }

  #later(seconds: number): Date {
    return new Date(this.deps.clock().getTime() + seconds * 1000)
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function parseJson(text: string): any {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A grade as instructors see it beside the learner's room. */
export function gradeState(row: GradeRow): GradeState {
  return {
    status: row.status,
    score: row.scoreGiven,
    scoreMaximum: row.scoreMaximum,
    error: row.status === 'sent' ? null : row.lastError,
    sentAt: row.sentAt ? row.sentAt.toISOString() : null,
    retryAt: row.status !== 'sent' && row.status !== 'failed' && row.lastError ? row.nextAttemptAt.toISOString() : null,
  }
}
