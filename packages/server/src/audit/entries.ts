import type { AuditAction, AuditEntry } from '@session-kit/core'
import type { Sql } from '../store/db.js'

/** What a page of the audit log is narrowed to; every filter is optional. */
export interface AuditFilter {
  sessionId?: string
  assignmentId?: string
  actorId?: string
  targetId?: string
  action?: AuditAction
  /** From this moment on (inclusive). */
  from?: Date
  /** Before this moment (exclusive). */
  to?: Date
  /** Entries older than this id (the previous page's `next`). */
  before?: number
  limit: number
}

interface AuditRow {
  id: number
  at: Date
  action: AuditAction
  actorId: string | null
  actorRole: AuditEntry['actorRole']
  targetId: string | null
  sessionId: string | null
  assignmentId: string | null
  details: Record<string, unknown>
  origin: AuditEntry['origin']
}

/** A page of entries, newest first, and the cursor of the next page (null on the last). */
export async function listAudit(sql: Sql, f: AuditFilter): Promise<{ entries: AuditEntry[]; next: number | null }> {
  const where = [
    f.sessionId !== undefined ? sql`session_id = ${f.sessionId}` : null,
    f.assignmentId !== undefined ? sql`assignment_id = ${f.assignmentId}` : null,
    f.actorId !== undefined ? sql`actor_id = ${f.actorId}` : null,
    f.targetId !== undefined ? sql`target_id = ${f.targetId}` : null,
    f.action !== undefined ? sql`action = ${f.action}` : null,
    f.from !== undefined ? sql`at >= ${f.from}` : null,
    f.to !== undefined ? sql`at < ${f.to}` : null,
    f.before !== undefined ? sql`id < ${f.before}` : null,
  ].filter((x) => x !== null)
  const condition = where.reduce((all, one) => sql`${all} and ${one}`, sql`true`)
  const rows = await sql<AuditRow[]>`
    select id, at, action, actor_id as "actorId", actor_role as "actorRole", target_id as "targetId",
      session_id as "sessionId", assignment_id as "assignmentId", details, origin
    from audit_log where ${condition}
    order by id desc limit ${f.limit + 1}`
  const page = rows.slice(0, f.limit)
  return {
    entries: page.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      action: r.action,
      actorId: r.actorId,
      actorRole: r.actorRole,
      targetId: r.targetId,
      sessionId: r.sessionId,
      assignmentId: r.assignmentId,
      details: r.details,
      origin: { ip: r.origin.ip ?? null, userAgent: r.origin.userAgent ?? null, via: r.origin.via },
    })),
    next: rows.length > f.limit ? page[page.length - 1]!.id : null,
  }
}
