import { timingSafeEqual } from 'node:crypto'
import { createMiddleware } from 'hono/factory'
import { can, SESSION_ID_PATTERN, type Action, type OwnedResource } from '@session-kit/core'
import { AppError } from '../errors.js'
import { forbidden, notFound } from './errors.js'
import type { AppEnv, RoomCaller } from './context.js'
import { assignmentClaims, resolveCaller, type AssignmentCaller } from '../auth/caller.js'

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
  if (!isApiKey(given, apiKey)) throw new AppError(401, 'api_key_invalid', 'The API key is not valid.')
  await next()
})

/** Whether `given` is the API key (compared in constant time). */
export function isApiKey(given: string, apiKey: string | undefined): boolean {
  if (!apiKey) return false
  const a = Buffer.from(given)
  const b = Buffer.from(apiKey)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Who may call an assignment route: `host` the API key only; `instructor` the API key or an
 * instructor's token for the assignment; `member` the API key or any token for it; `learner` a
 * learner's token for it (their own room).
 */
export type AssignmentAccess = 'host' | 'instructor' | 'member' | 'learner'

const ACCESS_SENTENCE: Record<AssignmentAccess, string> = {
  host: 'Only the host (with the API key) can do this.',
  instructor: 'Only instructors of this assignment can do this.',
  member: 'This needs a token for this assignment.',
  learner: 'Only learners of this assignment can do this: it is about their own room.',
}

/** Assignment routes: the API key or a token for the assignment in the path, held to `access`. */
export function assignmentAuth(access: AssignmentAccess) {
  const check = createMiddleware<AppEnv>(async (c, next) => {
    const aid = c.req.param('aid') ?? ''
    if (!SESSION_ID_PATTERN.test(aid)) throw notFound('No such assignment.', 'assignment_not_found')
    const given = bearer(c.req.header('authorization'))
    if (!given) throw new AppError(401, 'token_missing', 'This route needs a token for the assignment (or the host API key): Authorization: Bearer <token>.')
    const { verifier, config } = c.var.services
    const caller: AssignmentCaller = isApiKey(given, config.apiKey) ? { host: true } : { host: false, claims: await assignmentClaims({ verifier }, given, aid) }
    const role = caller.host ? null : caller.claims.role
    const allowed = access === 'host' ? caller.host : access === 'learner' ? role === 'learner' : access === 'instructor' ? caller.host || role === 'instructor' : true
    if (!allowed) throw new AppError(403, 'forbidden', ACCESS_SENTENCE[access], { access })
    c.set('assignmentCaller', caller)
    await next()
  })
  // Readable by the authorization sweep.
  return Object.assign(check, { access })
}

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
