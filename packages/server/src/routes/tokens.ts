import { Hono } from 'hono'
import { SERVER_ISSUER } from '@session-kit/core'
import { bearer } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { AppError } from '../errors.js'
import { mintGuestToken, sessionRefusal } from '../auth/tokens.js'
import { getSession } from '../store/sessions.js'
import { isBanned } from '../store/participants.js'

/** Guests who joined by invitation hold server-signed tokens and renew them here. */
export function tokenRoutes() {
  const r = new Hono<AppEnv>()
  r.post('/refresh', async (c) => {
    const token = bearer(c.req.header('authorization'))
    if (!token) throw new AppError(401, 'token_missing', 'Send the token to refresh: Authorization: Bearer <token>.')
    const { verifier, config, db } = c.var.services
    const claims = await verifier.verify(token)
    if (claims.iss !== SERVER_ISSUER) throw new AppError(403, 'not_refreshable', 'Only tokens this server signed (for invited guests) can be refreshed here; host tokens are renewed by the host page.')
    // A refreshed token never outlives its session, nor moves to a new session with the same id.
    const session = await getSession(db.sql, claims.sid)
    const refusal = sessionRefusal(claims, session, null)
    if (refusal || !session) throw new AppError(410, refusal?.code ?? 'token_session_gone', refusal?.message ?? 'This session has ended.')
    if (await isBanned(db.sql, claims.sid, claims.sub, claims.email)) throw new AppError(403, 'removed', 'You were removed from this session by the instructor.')
    const { sub, name, sid, role, email, avatar } = claims
    const fresh = await mintGuestToken({ sub, name, sid, role, ...(email ? { email } : {}), ...(avatar ? { avatar } : {}) }, session, config.secret)
    return c.json({ token: fresh, sessionId: sid, role })
  })
  return r
}
