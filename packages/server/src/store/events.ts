import type { VerifiedRunStatus } from '@session-kit/core'
import type { Sql, Tx } from './db.js'

export type EventKind = 'code_change' | 'server_change' | 'join' | 'leave' | 'run' | 'chat' | 'lecture'

export interface EventRow {
  sessionId: string
  kind: EventKind
  userId: string | null
  /** When it happened; null: now, on the database's clock (what every instance agrees on). */
  at: Date | null
  inserted?: number
  deleted?: number
  ref?: string | null
  data?: Record<string, unknown> | null
}

export async function insertEvents(sql: Sql | Tx, rows: EventRow[]): Promise<void> {
  if (!rows.length) return
  const values = rows.map((r) => ({ s: r.sessionId, k: r.kind, u: r.userId, a: r.at, i: r.inserted ?? 0, d: r.deleted ?? 0, r: r.ref ?? null, x: r.data ?? null }))
  const q = sql as Sql
  await q`
    insert into events (session_id, kind, user_id, at, inserted, deleted, ref, data)
    select s, k, u, coalesce(a, now()), i, d, r, x
    from jsonb_to_recordset(${q.json(values as never)}) as t(s text, k text, u text, a timestamptz, i int, d int, r text, x jsonb)`
}

export interface ActorState {
  userId: string
  seq: number
  maxOp: number
}

export async function loadActors(sql: Sql | Tx, sessionId: string): Promise<Map<string, ActorState>> {
  const rows = await sql<({ actor: string } & ActorState)[]>`select actor, user_id as "userId", seq, max_op as "maxOp" from actors where session_id = ${sessionId}`
  return new Map(rows.map(({ actor, ...state }) => [actor, state]))
}

export interface RunRow {
  id: number
  userId: string
  at: Date
  data: {
    name: string
    file: string
    language: string
    ok: boolean
    errors: number
    durationMs: number
    timedOut: boolean
    output: string
    /** A run the server made itself (store/verified-runs.ts holds the whole of it). */
    verified?: true
    runId?: string
    kind?: 'program' | 'tests'
    status?: VerifiedRunStatus
    tests?: { passed: number; failed: number }
  }
}

/** Store a run; `at` null: now, on the database's clock. */
export async function insertRun(sql: Sql, sessionId: string, userId: string, data: RunRow['data'], at: Date | null): Promise<RunRow> {
  const [row] = await sql<RunRow[]>`
    insert into events (session_id, kind, user_id, at, data) values (${sessionId}, 'run', ${userId}, coalesce(${at}::timestamptz, now()), ${sql.json(data as never)})
    returning id, user_id as "userId", at, data`
  return row!
}

export async function getRun(sql: Sql, sessionId: string, id: number): Promise<RunRow | undefined> {
  const [row] = await sql<RunRow[]>`select id, user_id as "userId", at, data from events where session_id = ${sessionId} and id = ${id} and kind = 'run'`
  return row
}

/** An edit's event: the hash of the change it committed is its `ref`. */
export interface ChangeEventRow {
  id: number
  kind: string
  userId: string | null
  at: Date
  ref: string
}

/** The edits (people's and the server's) accepted at or after `from`, in the order accepted. */
export async function changeEventsSince(sql: Sql, sessionId: string, from: Date): Promise<ChangeEventRow[]> {
  return sql<ChangeEventRow[]>`
    select id, kind, user_id as "userId", at, ref from events
    where session_id = ${sessionId} and kind in ('code_change', 'server_change') and at >= ${from} order by id`
}

export interface ActivityEventRow {
  id: number
  kind: string
  userId: string | null
  at: Date
  ref: string | null
  data: Record<string, unknown> | null
}

/** Chat messages, runs, joins, leaves and lecture events (hands, follow, spotlight) between `from` and `to` (inclusive), in order. */
export async function activityEventsBetween(sql: Sql, sessionId: string, from: Date, to: Date): Promise<ActivityEventRow[]> {
  return sql<ActivityEventRow[]>`
    select id, kind, user_id as "userId", at, ref, data from events
    where session_id = ${sessionId} and kind in ('chat', 'run', 'join', 'leave', 'lecture') and at >= ${from} and at <= ${to} order by id`
}
