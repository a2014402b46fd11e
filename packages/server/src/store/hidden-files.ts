import type { Sql } from './db.js'

/**
 * Hidden test files: kept beside a session's document, never in it, so no replica, view stream,
 * snapshot, recording or export can hold them. Only verified runs read their text.
 */
export interface HiddenFileRow {
  name: string
  text: string
  size: number
  updatedAt: Date
}

export async function putHiddenFile(sql: Sql, sessionId: string, name: string, text: string, by: string): Promise<{ row: Omit<HiddenFileRow, 'text'>; created: boolean }> {
  const [row] = await sql<(Omit<HiddenFileRow, 'text'> & { created: boolean })[]>`
    insert into hidden_files (session_id, name, text, updated_by) values (${sessionId}, ${name}, ${text}, ${by})
    on conflict (session_id, name) do update set text = excluded.text, updated_by = excluded.updated_by, updated_at = now()
    returning name, octet_length(text)::int as size, updated_at as "updatedAt", (xmax = 0) as created`
  const { created, ...info } = row!
  return { row: info, created }
}

export async function getHiddenFile(sql: Sql, sessionId: string, name: string): Promise<HiddenFileRow | undefined> {
  const [row] = await sql<HiddenFileRow[]>`
    select name, text, octet_length(text)::int as size, updated_at as "updatedAt" from hidden_files where session_id = ${sessionId} and name = ${name}`
  return row
}

export async function listHiddenFiles(sql: Sql, sessionId: string): Promise<Omit<HiddenFileRow, 'text'>[]> {
  return sql<Omit<HiddenFileRow, 'text'>[]>`
    select name, octet_length(text)::int as size, updated_at as "updatedAt" from hidden_files where session_id = ${sessionId} order by name`
}

/** Every hidden file's text, by name, for a verified run. */
export async function hiddenFileTexts(sql: Sql, sessionId: string): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; text: string }[]>`select name, text from hidden_files where session_id = ${sessionId} order by name`
  return Object.fromEntries(rows.map((r) => [r.name, r.text]))
}

export async function deleteHiddenFile(sql: Sql, sessionId: string, name: string): Promise<boolean> {
  const rows = await sql`delete from hidden_files where session_id = ${sessionId} and name = ${name} returning name`
  return rows.length > 0
}
