import type { RecordingPolicy } from '@session-kit/core'
import type { Sql } from './db.js'

export type RecordingStatus = 'recording' | 'paused' | 'processing' | 'ready' | 'failed'

export interface RecordingRow {
  id: string
  sessionId: string
  title: string
  description: string | null
  isPublic: boolean
  status: RecordingStatus
  createdBy: string
  creatorName: string
  startedAt: Date
  stoppedAt: Date | null
  /** Recorded spans in epoch ms; the last one is open (to = null) while recording. */
  spans: [number, number | null][]
  error: string | null
  /** The session's recording policy when it started; null for recordings made before policies. */
  policy: RecordingPolicy | null
  /** Under `consent`: who consented to it, fixed when its replay was built (null before, and under `notice`). */
  consented: { userId: string; name: string }[] | null
  /** The database's time when the row was read (epoch ms): "now" for a span still open. */
  asOf: number
}

// Every instance reads and stamps recording times on the database's clock (`now()`), so two
// instances whose clocks differ still agree on a recording's spans and its running duration.
const columns = (sql: Sql) => sql`id, session_id as "sessionId", title, description, is_public as "isPublic", status, created_by as "createdBy", creator_name as "creatorName", started_at as "startedAt", stopped_at as "stoppedAt", spans, error, policy, consented, ${nowMs(sql)} as "asOf"`
/** The database's `now()` in whole epoch milliseconds, as spans hold it. */
const nowMs = (sql: Sql) => sql`floor(extract(epoch from now()) * 1000)::float8`


/** Recorded time so far, paused spans left out. */
export function durationMs(r: Pick<RecordingRow, 'spans'>, now: number): number {
  return r.spans.reduce((n, [from, to]) => n + ((to ?? now) - from), 0)
}

/**
 * Start recording now (the database's time), under the session's recording policy as it is now;
 * undefined when the session already has one going. Whoever started it knows it is recording:
 * they are told from its first moment (see store/consents.ts).
 */
export async function insertRecording(sql: Sql, r: { id: string; sessionId: string; title: string; description: string | null; isPublic: boolean; createdBy: string; creatorName: string }): Promise<RecordingRow | undefined> {
  const [row] = await sql<RecordingRow[]>`
    with made as (
      insert into recordings (id, session_id, title, description, is_public, status, created_by, creator_name, started_at, spans, policy)
      select ${r.id}, ${r.sessionId}, ${r.title}, ${r.description}, ${r.isPublic}, 'recording', ${r.createdBy}, ${r.creatorName}, to_timestamp(t.ms / 1000), jsonb_build_array(jsonb_build_array(t.ms, null)),
        (select recording_policy from sessions where id = ${r.sessionId})
      from (select ${nowMs(sql)} as ms) t
      on conflict do nothing
      returning *
    ), told as (
      insert into recording_notices (recording_id, user_id, told_at) select id, created_by, started_at from made
    )
    select ${columns(sql)} from made`
  return row
}

/**
 * Move a recording from one of the `from` states to `to`, at the database's time, in one statement
 * (two instances asked at once: one moves it, the other finds it moved). `resume` opens a span;
 * pause and stop close the open one, and stop sets the stop time. Undefined when it is not in `from`.
 */
export async function transitionRecording(
  sql: Sql,
  r: { id: string; sessionId: string; from: readonly RecordingStatus[]; to: RecordingStatus; span: 'open' | 'close'; stop: boolean },
): Promise<RecordingRow | undefined> {
  const [row] = await sql<RecordingRow[]>`
    update recordings set
      status = ${r.to},
      stopped_at = case when ${r.stop} then to_timestamp(t.ms / 1000) else stopped_at end,
      spans = case
        when ${r.span} = 'open' then spans || jsonb_build_array(jsonb_build_array(t.ms, null))
        when jsonb_array_length(spans) > 0 and spans -> -1 -> 1 = 'null'::jsonb then jsonb_set(spans, '{-1,1}', to_jsonb(t.ms))
        else spans
      end
    from (select ${nowMs(sql)} as ms) t
    where id = ${r.id} and session_id = ${r.sessionId} and status = any(${r.from as RecordingStatus[]})
    returning ${columns(sql)}`
  return row
}

export async function getRecording(sql: Sql, id: string, sessionId?: string): Promise<RecordingRow | undefined> {
  const [row] = await sql<RecordingRow[]>`select ${columns(sql)} from recordings where id = ${id} ${sessionId ? sql`and session_id = ${sessionId}` : sql``}`
  return row
}

export async function listRecordings(sql: Sql, sessionId: string): Promise<RecordingRow[]> {
  return sql<RecordingRow[]>`select ${columns(sql)} from recordings where session_id = ${sessionId} order by created_at desc, id`
}

export async function activeRecording(sql: Sql, sessionId: string): Promise<RecordingRow | undefined> {
  const [row] = await sql<RecordingRow[]>`select ${columns(sql)} from recordings where session_id = ${sessionId} and status in ('recording', 'paused')`
  return row
}

/** The session's recording in progress (recording or paused), as a room shows it. */
export async function activeRecordingInfo(sql: Sql, sessionId: string): Promise<{ id: string; status: 'recording' | 'paused'; policy: RecordingPolicy | null } | undefined> {
  const [active] = await sql<{ id: string; status: 'recording' | 'paused'; policy: RecordingPolicy | null }[]>`
    select id, status, policy from recordings where session_id = ${sessionId} and status in ('recording', 'paused')`
  return active
}

/** The state of the session's recording in progress, if one is recording or paused. */
export async function activeRecordingStatus(sql: Sql, sessionId: string): Promise<'recording' | 'paused' | undefined> {
  const [active] = await sql<{ status: 'recording' | 'paused' }[]>`select status from recordings where session_id = ${sessionId} and status in ('recording', 'paused')`
  return active?.status
}

/** Recordings whose replay is being built (or was, when the server stopped). */
export async function processingRecordingIds(sql: Sql): Promise<{ id: string }[]> {
  return sql<{ id: string }[]>`select id from recordings where status = 'processing'`
}

export async function saveRecording(sql: Sql, r: RecordingRow): Promise<RecordingRow> {
  const [row] = await sql<RecordingRow[]>`
    update recordings set title = ${r.title}, description = ${r.description}, is_public = ${r.isPublic}, status = ${r.status},
      stopped_at = ${r.stoppedAt}, spans = ${sql.json(r.spans as never)}, error = ${r.error}
    where id = ${r.id} returning ${columns(sql)}`
  return row!
}

export async function deleteRecording(sql: Sql, id: string): Promise<void> {
  await sql`delete from recordings where id = ${id}`
}

/** Store a built replay, and (under `consent`) who consented to the recording, together. */
export async function saveReplay(sql: Sql, recordingId: string, data: Uint8Array, changes: number, consented: RecordingRow['consented'] = null): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      insert into recording_replays (recording_id, data, changes) values (${recordingId}, ${Buffer.from(data)}, ${changes})
      on conflict (recording_id) do update set data = excluded.data, changes = excluded.changes, built_at = now()`
    await tx`update recordings set consented = ${consented === null ? null : tx.json(consented as never)} where id = ${recordingId}`
  })
}

export async function getReplay(sql: Sql, recordingId: string): Promise<Uint8Array | undefined> {
  const [row] = await sql<{ data: Buffer }[]>`select data from recording_replays where recording_id = ${recordingId}`
  return row?.data
}
