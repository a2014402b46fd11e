import { timingSafeEqual } from 'node:crypto'
import { createMiddleware } from 'hono/factory'
import { can, SESSION_ID_PATTERN, type Action, type OwnedResource } from '@session-kit/core'
import { AppError } from '../errors.js'
import { forbidden, notFound } from './errors.js'
import type { AppEnv, RoomCaller } from './context.js'
import { resolveCaller } from '../auth/caller.js'

export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '')
  return m?.[1]
}

/** Host-admin routes: `Authorization: Bearer <SESSION_KIT_API_KEY>`. */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const { apiKey } = c.var.services.config
  if (!apiKey) throw new AppError(403, 'api_disabled', 'Host routes are disabled: set SESSION_KIT_API_KEY on the server to use them.')
  const given = bearer(c.req.header('authorization'))
  if (!given) throw new AppError(401, 'api_key_missing', 'This route needs the host API key: Authorization: Bearer <SESSION_KIT_API_KEY>.')
  const a = Buffer.from(given)
  const b = Buffer.from(apiKey)
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new AppError(401, 'api_key_invalid', 'The API key is not valid.')
  await next()
})

/** Room routes: a room token for the session in the path; banned users are refused. */
export const roomAuth = createMiddleware<AppEnv>(async (c, next) => {
  const sid = c.req.param('sid') ?? ''
  if (!SESSION_ID_PATTERN.test(sid)) throw notFound('No such session.', 'session_not_found')
  const token = bearer(c.req.header('authorization'))
  if (!token) throw new AppError(401, 'token_missing', 'This route needs a room token: Authorization: Bearer <token>.')
  const { verifier, db } = c.var.services
  c.set('caller', await resolveCaller({ sql: db.sql, verifier }, token, sid))
  await next()
})

/** The one place a route states its permission; the check is core's `can()`. */
export function requirePermission(action: Action) {
  const check = createMiddleware<AppEnv>(async (c, next) => {
    if (!can(c.var.caller.ctx, action)) throw forbidden(action)
    await next()
  })
  // Readable by the authorization sweep, which checks every route against core's matrix.
  return Object.assign(check, { requires: action })
}

/** For rules that look at a resource (e.g. who created a snapshot). */
export function assertCan(caller: RoomCaller, action: Action, resource?: OwnedResource) {
  if (!can(caller.ctx, action, resource)) throw forbidden(action)
}
