import { Hono } from 'hono'
import { SERVER_ISSUER, type TokenRefreshed } from '@session-kit/core'
import { bearer } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { AppError } from '../errors.js'
import { admitCaller, callerClaims, callerSession } from '../auth/caller.js'
import { mintGuestToken, TokenError } from '../auth/tokens.js'

/** Guests who joined by invitation hold server-signed tokens and renew them here. */
export function tokenRoutes() {
  const r = new Hono<AppEnv>()
  r.post('/refresh', async (c) => {
    const token = bearer(c.req.header('authorization'))
    if (!token) throw new AppError(401, 'token_missing', 'Send the token to refresh: Authorization: Bearer <token>.')
    const { verifier, config, db } = c.var.services
    const claims = await callerClaims({ sql: db.sql, verifier }, token)
    if (claims.iss !== SERVER_ISSUER) throw new AppError(403, 'not_refreshable', 'Only tokens this server signed (for invited guests) can be refreshed here; host tokens are renewed by the host page.')
    // A refreshed token never outlives its session, nor moves to a new session with the same id:
    // here that is a 410 (the session is gone for this token), not a refused token.
    const session = await callerSession(db.sql, claims).catch((e: unknown) => {
      throw e instanceof TokenError ? new AppError(410, e.code, e.message) : e
    })
    if (!session) throw new AppError(410, 'token_session_gone', 'This session has ended.')
    await admitCaller(db.sql, claims)
    const { sub, name, sid, role, email, avatar, assignment, test } = claims
    const fresh = await mintGuestToken({ sub, name, sid, role, ...(email ? { email } : {}), ...(avatar ? { avatar } : {}), ...(assignment ? { assignment } : {}), ...(test ? { test } : {}) }, session, config.secret)
    return c.json({ token: fresh, sessionId: sid, role } satisfies TokenRefreshed)
  })
  return r
}
