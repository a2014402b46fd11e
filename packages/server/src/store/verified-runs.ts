import type { TestResult, VerifiedRunStatus } from '@session-kit/core'
import type { Sql, Tx } from './db.js'
import { INSTANCE_TIMEOUT_S } from './presence.js'

export interface RunOutputLine {
  stream: 'stdout' | 'stderr'
  text: string
}

/** One test's result as stored: everything the sandbox said, `hidden` for a hidden test file's. */
export interface StoredTest extends TestResult {
  hidden?: boolean
}

export interface VerifiedRunRow {
  id: string
  sessionId: string
  userId: string
  name: string
  kind: 'program' | 'tests'
  file: string
  language: string
  status: VerifiedRunStatus
  heads: string[]
  /** What the program and the visible tests printed. */
  output: RunOutputLine[]
  tests: StoredTest[]
  /** What the run with the hidden tests printed, and why it ended: instructors only. */
  hiddenOutput: RunOutputLine[] | null
  hiddenReason: string | null
  hiddenFiles: number
  testsPassed: number
  testsFailed: number
  durationMs: number | null
  reason: string | null
  instanceId: string
  createdAt: Date
  finishedAt: Date | null
}

const columns = (sql: Sql | Tx) => (sql as Sql)`
  id, session_id as "sessionId", user_id as "userId", name, kind, file, language, status, heads, output, tests,
  hidden_output as "hiddenOutput", hidden_reason as "hiddenReason", hidden_files as "hiddenFiles",
  tests_passed as "testsPassed", tests_failed as "testsFailed", duration_ms as "durationMs", reason,
  instance_id as "instanceId", created_at as "createdAt", finished_at as "finishedAt"`

/** How many runs someone and a room may start in a minute. */
export interface RunRates {
  perUser: number
  perRoom: number
}

const MINUTE = 60_000

/**
 * Whether one more run fits the limits of the last minute (counted in PostgreSQL, so they hold
 * across instances, under per-room and per-user advisory locks), and if not, how long until one does.
 */
export async function runAllowance(tx: Tx, sessionId: string, userId: string, rates: RunRates, now: Date): Promise<{ ok: true } | { ok: false; scope: 'user' | 'room'; retryAfterSeconds: number }> {
  const q = tx as unknown as Sql
  await q`select pg_advisory_xact_lock(hashtext(${'session-kit:runs:' + sessionId}))`
  await q`select pg_advisory_xact_lock(hashtext(${'session-kit:runner:' + userId}))`
  const since = new Date(now.getTime() - MINUTE)
  // The oldest run still in the window is the one whose leaving lets the next in.
  const [c] = await q<{ byUser: number; byRoom: number; userNth: Date | null; roomNth: Date | null }[]>`
    select
      (select count(*)::int from verified_runs where user_id = ${userId} and created_at > ${since}) as "byUser",
      (select count(*)::int from verified_runs where session_id = ${sessionId} and created_at > ${since}) as "byRoom",
      (select created_at from verified_runs where user_id = ${userId} and created_at > ${since} order by created_at desc offset ${rates.perUser - 1} limit 1) as "userNth",
      (select created_at from verified_runs where session_id = ${sessionId} and created_at > ${since} order by created_at desc offset ${rates.perRoom - 1} limit 1) as "roomNth"`
  const wait = (at: Date | null) => Math.max(1, Math.ceil((new Date(at ?? now).getTime() + MINUTE - now.getTime()) / 1000))
  if (c!.byUser >= rates.perUser) return { ok: false, scope: 'user', retryAfterSeconds: wait(c!.userNth) }
  if (c!.byRoom >= rates.perRoom) return { ok: false, scope: 'room', retryAfterSeconds: wait(c!.roomNth) }
  return { ok: true }
}

export async function insertVerifiedRun(
  sql: Sql | Tx,
  r: Pick<VerifiedRunRow, 'id' | 'sessionId' | 'userId' | 'name' | 'kind' | 'file' | 'language' | 'heads' | 'hiddenFiles' | 'instanceId' | 'createdAt'>,
): Promise<VerifiedRunRow> {
  const q = sql as Sql
  const [row] = await q<VerifiedRunRow[]>`
    insert into verified_runs (id, session_id, user_id, name, kind, file, language, status, heads, hidden_files, instance_id, created_at)
    values (${r.id}, ${r.sessionId}, ${r.userId}, ${r.name}, ${r.kind}, ${r.file}, ${r.language}, 'queued', ${r.heads}, ${r.hiddenFiles}, ${r.instanceId}, ${r.createdAt})
    returning ${columns(q)}`
  return row!
}

/** A run the sandbox never took (its queue filled meanwhile): as if it had not been asked for. */
export async function forgetVerifiedRun(sql: Sql, id: string): Promise<void> {
  await sql`delete from verified_runs where id = ${id} and finished_at is null`
}

export async function markRunning(sql: Sql, id: string): Promise<void> {
  await sql`update verified_runs set status = 'running' where id = ${id} and status = 'queued'`
}

export type RunResult = Pick<VerifiedRunRow, 'status' | 'output' | 'tests' | 'hiddenOutput' | 'hiddenReason' | 'durationMs' | 'reason'>

/** Store how a run ended; undefined when it had already ended (the server stopping marked it). */
export async function finishVerifiedRun(sql: Sql, id: string, r: RunResult, at: Date): Promise<VerifiedRunRow | undefined> {
  const passed = r.tests.filter((t) => t.passed).length
  const [row] = await sql<VerifiedRunRow[]>`
    update verified_runs set status = ${r.status}, output = ${sql.json(r.output as never)}, tests = ${sql.json(r.tests as never)},
      hidden_output = ${r.hiddenOutput ? sql.json(r.hiddenOutput as never) : null}, hidden_reason = ${r.hiddenReason},
      tests_passed = ${passed}, tests_failed = ${r.tests.length - passed},
      duration_ms = ${Math.round(r.durationMs ?? 0)}, reason = ${r.reason}, finished_at = ${at}
    where id = ${id} and finished_at is null
    returning ${columns(sql)}`
  return row
}

export async function getVerifiedRun(sql: Sql, sessionId: string, id: string): Promise<VerifiedRunRow | undefined> {
  const [row] = await sql<VerifiedRunRow[]>`select ${columns(sql)} from verified_runs where session_id = ${sessionId} and id = ${id}`
  return row
}

/** Newest first. */
export async function listVerifiedRuns(sql: Sql, sessionId: string, limit: number): Promise<VerifiedRunRow[]> {
  return sql<VerifiedRunRow[]>`select ${columns(sql)} from verified_runs where session_id = ${sessionId} order by created_at desc, id limit ${limit}`
}

/**
 * End, as errors, runs that can no longer finish: this instance's when it stops (`instanceId`), or
 * those of instances that stopped beating (`alive` false: every unfinished run of an instance not
 * seen within the timeout; with `all`, every unfinished run but `except`'s — a single embedded
 * instance starting). Returns the runs ended.
 */
export async function endOrphanedRuns(sql: Sql, opts: { instanceId: string; reason: string; at: Date } & ({ mine: true } | { mine: false; all: boolean })): Promise<VerifiedRunRow[]> {
  const where = opts.mine
    ? sql`instance_id = ${opts.instanceId}`
    : opts.all
      ? sql`instance_id <> ${opts.instanceId}`
      : sql`instance_id <> ${opts.instanceId} and instance_id not in (select id from instances where heartbeat_at > now() - make_interval(secs => ${INSTANCE_TIMEOUT_S}))`
  return sql<VerifiedRunRow[]>`
    update verified_runs set status = 'error', reason = ${opts.reason}, duration_ms = coalesce(duration_ms, 0), finished_at = ${opts.at}
    where finished_at is null and ${where}
    returning ${columns(sql)}`
}

/** Per person: verified runs finished between `from` and `to`, and their tests passed and failed. */
export async function verifiedRunCounts(sql: Sql, sessionId: string, from: Date, to: Date): Promise<Map<string, { verifiedRuns: number; testsPassed: number; testsFailed: number }>> {
  const rows = await sql<{ userId: string; verifiedRuns: number; testsPassed: number; testsFailed: number }[]>`
    select user_id as "userId", count(*)::int as "verifiedRuns", coalesce(sum(tests_passed), 0)::int as "testsPassed", coalesce(sum(tests_failed), 0)::int as "testsFailed"
    from verified_runs where session_id = ${sessionId} and finished_at >= ${from} and finished_at <= ${to}
    group by user_id`
  return new Map(rows.map(({ userId, ...counts }) => [userId, counts]))
}
