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
}

const columns = (sql: Sql) => sql`id, session_id as "sessionId", title, description, is_public as "isPublic", status, created_by as "createdBy", creator_name as "creatorName", started_at as "startedAt", stopped_at as "stoppedAt", spans, error`

/** Recorded time so far, paused spans left out. */
export function durationMs(r: Pick<RecordingRow, 'spans'>, now: number): number {
  return r.spans.reduce((n, [from, to]) => n + ((to ?? now) - from), 0)
}

export async function insertRecording(sql: Sql, r: { id: string; sessionId: string; title: string; description: string | null; isPublic: boolean; createdBy: string; creatorName: string; now: Date }): Promise<RecordingRow | undefined> {
  const [row] = await sql<RecordingRow[]>`
    insert into recordings (id, session_id, title, description, is_public, status, created_by, creator_name, started_at, spans)
    values (${r.id}, ${r.sessionId}, ${r.title}, ${r.description}, ${r.isPublic}, 'recording', ${r.createdBy}, ${r.creatorName}, ${r.now}, ${sql.json([[r.now.getTime(), null]])})
    on conflict do nothing
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

export async function saveReplay(sql: Sql, recordingId: string, data: Uint8Array, changes: number): Promise<void> {
  await sql`
    insert into recording_replays (recording_id, data, changes) values (${recordingId}, ${Buffer.from(data)}, ${changes})
    on conflict (recording_id) do update set data = excluded.data, changes = excluded.changes, built_at = now()`
}

export async function getReplay(sql: Sql, recordingId: string): Promise<Uint8Array | undefined> {
  const [row] = await sql<{ data: Buffer }[]>`select data from recording_replays where recording_id = ${recordingId}`
  return row?.data
}
