import { Hono } from 'hono'
import * as v from 'valibot'
import type { RetentionStatus, UserErased, UserExport } from '@session-kit/core/api'
import { hostAudit, recordAction } from '../audit/record.js'
import { eraseUser } from '../erasure/erase.js'
import { exportUser } from '../erasure/export.js'
import { requireApiKey } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { notFound } from '../http/errors.js'
import { parse, pathParam } from '../http/validate.js'

/** A user id as tokens carry it (`sub`): 1–200 characters, no control characters. */
const UserIdSchema = v.pipe(v.string(), v.regex(/^[^\u0000-\u001f\u007f]{1,200}$/))

/** `?email=` (repeatable): addresses of theirs the server may not know from their tokens (invitations sent to an old address). */
const Emails = v.pipe(
  v.array(v.pipe(v.string(), v.trim(), v.email('email must be an email address'), v.maxLength(320, 'email is at most 320 characters'))),
  v.maxLength(20, 'at most 20 email addresses'),
)

/**
 * Privacy routes for the host (API key): erase or export everything about one person across every
 * session (docs/guides/privacy.md), and the retention job's state.
 */
export function userRoutes() {
  const r = new Hono<AppEnv>()

  r.delete('/users/:userId', requireApiKey, async (c) => {
    const userId = pathParam(c, 'userId', UserIdSchema, () => notFound('No such user id: a user id is 1–200 characters without control characters.', 'user_not_found'))
    const emails = parse(Emails, c.req.queries('email') ?? [])
    const result = await eraseUser(c.var.services, userId, { emails, ...hostAudit(c) })
    return c.json(result satisfies UserErased)
  })

  r.get('/users/:userId/export', requireApiKey, async (c) => {
    const userId = pathParam(c, 'userId', UserIdSchema, () => notFound('No such user id: a user id is 1–200 characters without control characters.', 'user_not_found'))
    const emails = parse(Emails, c.req.queries('email') ?? [])
    const { services } = c.var
    const data = await exportUser(services, userId, emails)
    await recordAction(services.db.sql, { ...hostAudit(c), action: 'user.exported', targetId: userId })
    c.header('cache-control', 'no-store')
    c.header('content-disposition', 'attachment; filename="session-kit-export.json"')
    return c.json(data satisfies UserExport)
  })

  r.get('/retention', requireApiKey, async (c) => c.json((await c.var.services.retention.status()) satisfies RetentionStatus))

  return r
}
