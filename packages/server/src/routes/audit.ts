import { Hono } from 'hono'
import * as v from 'valibot'
import { Permission, type AuditList } from '@session-kit/core'
import { AUDIT_ACTIONS } from '../audit/record.js'
import { listAudit } from '../audit/entries.js'
import { requireApiKey, requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { parse, wholeNumber } from '../http/validate.js'

const Page = {
  limit: v.optional(wholeNumber('limit', { min: 1, max: 200 }), '50'),
  before: v.optional(wholeNumber('before', { min: 1 })),
}

/** A moment in a query string: a date (`2025-03-01`, midnight UTC) or a time with its zone (`2025-03-01T09:30:00Z`, `…+01:00`). */
const Moment = (name: string) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/, `${name} must be a date (2025-03-01) or a time with its zone (2025-03-01T09:30:00Z)`),
    v.transform((s) => new Date(s)),
    v.check((d) => !Number.isNaN(d.getTime()), `${name} is not a real date`),
  )
/** An id as a host or a token gave it: any text without control characters. */
const Id = (name: string) => v.pipe(v.string(), v.regex(/^[^\u0000-\u001f\u007f]{1,200}$/, `${name} must be 1–200 characters without control characters`))

const SessionQuery = v.object(Page)
const HostQuery = v.object({
  ...Page,
  sessionId: v.optional(Id('sessionId')),
  assignmentId: v.optional(Id('assignmentId')),
  actorId: v.optional(Id('actorId')),
  targetId: v.optional(Id('targetId')),
  action: v.optional(v.picklist(AUDIT_ACTIONS, `action must be one of ${AUDIT_ACTIONS.join(', ')}`)),
  from: v.optional(Moment('from')),
  to: v.optional(Moment('to')),
})

/**
 * The audit log: a session's trail for its instructors (EXPORT_DATA), the whole deployment's for
 * the host, newest first.
 */
export function auditRoutes() {
  const r = new Hono<AppEnv>()

  r.get('/sessions/:sid/audit', roomAuth, requirePermission(Permission.EXPORT_DATA), async (c) => {
    const q = parse(SessionQuery, c.req.query())
    c.header('cache-control', 'no-store')
    return c.json((await listAudit(c.var.services.db.sql, { sessionId: c.var.caller.session.id, limit: q.limit, before: q.before })) satisfies AuditList)
  })

  r.get('/audit', requireApiKey, async (c) => {
    const q = parse(HostQuery, c.req.query())
    c.header('cache-control', 'no-store')
    return c.json((await listAudit(c.var.services.db.sql, q)) satisfies AuditList)
  })

  return r
}
