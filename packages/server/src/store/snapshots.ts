import type { Role, SnapshotInfo } from '@session-kit/core'
import type { Sql } from './db.js'

export interface SnapshotRow {
  id: string
  sessionId: string
  title: string
  description: string | null
  createdBy: string
  creatorName: string
  creatorRole: Role
  files: Record<string, string>
  heads: string[]
  createdAt: Date
}

const columns = (sql: Sql) => sql`id, session_id as "sessionId", title, description, created_by as "createdBy", creator_name as "creatorName", creator_role as "creatorRole", files, heads, created_at as "createdAt"`

export async function insertSnapshot(sql: Sql, s: Omit<SnapshotRow, 'createdAt'>): Promise<SnapshotRow> {
  const [row] = await sql<SnapshotRow[]>`
    insert into snapshots (id, session_id, title, description, created_by, creator_name, creator_role, files, heads)
    values (${s.id}, ${s.sessionId}, ${s.title}, ${s.description}, ${s.createdBy}, ${s.creatorName}, ${s.creatorRole}, ${sql.json(s.files)}, ${s.heads})
    returning ${columns(sql)}`
  return row!
}

/** Snapshots a viewer may see: instructors see all; others their own and instructors'. */
export async function listSnapshots(sql: Sql, sessionId: string, viewer: { userId: string; instructor: boolean }): Promise<SnapshotRow[]> {
  return sql<SnapshotRow[]>`
    select ${columns(sql)} from snapshots
    where session_id = ${sessionId} ${viewer.instructor ? sql`` : sql`and (created_by = ${viewer.userId} or creator_role = 'instructor')`}
    order by created_at desc, id`
}

export async function getSnapshot(sql: Sql, sessionId: string, id: string): Promise<SnapshotRow | undefined> {
  const [row] = await sql<SnapshotRow[]>`select ${columns(sql)} from snapshots where session_id = ${sessionId} and id = ${id}`
  return row
}

export async function deleteSnapshot(sql: Sql, id: string): Promise<void> {
  await sql`delete from snapshots where id = ${id}`
}

/** A row as listed (no files): what `GET …/snapshots` and the room's `snapshot` event carry. */
export function snapshotInfo(s: SnapshotRow): SnapshotInfo {
  return {
    id: s.id,
    title: s.title,
    description: s.description,
    createdBy: s.createdBy,
    creatorName: s.creatorName,
    creatorRole: s.creatorRole,
    createdAt: s.createdAt.toISOString(),
    heads: s.heads,
    fileNames: Object.keys(s.files),
  }
}
