import { CloseCode, permissionContext, type PermissionContext, type RoomClaims, type TokenClaims } from '@session-kit/core'
import { AppError } from '../errors.js'
import type { Sql } from '../store/db.js'
import { admission, getParticipant, type ParticipantRow } from '../store/participants.js'
import { deletedAt, getSession, type SessionRow } from '../store/sessions.js'
import { sessionRefusal, TokenError, type TokenVerifier } from './tokens.js'

/*
 * Who is asking, resolved one way at every door: an HTTP room route, the socket's hello, and a
 * token refresh (over HTTP or on the socket). The steps run in this order — claims, session,
 * admission (bans), participant, context — and each refuses with its own code, HTTP status and
 * sentence. `resolveCaller` runs them all (HTTP); the socket runs the same steps with its own
 * checks between them (a cool-down before the database is asked, a socket that closed meanwhile,
 * opening a session an instructor asks for). A door that proves who someone is another way (an
 * LTI launch, say) makes the claims itself and continues with `callerFromClaims`.
 */

/** Who is calling, once resolved: what the routes and the socket act on. */
export interface Caller {
  claims: RoomClaims
  session: SessionRow
  participant: ParticipantRow | undefined
  ctx: PermissionContext
}

export interface CallerDeps {
  sql: Sql
  verifier: TokenVerifier
}

/** Someone an instructor removed asks again (HTTP 403; the socket closes with 4409). */
export const removedError = () => new AppError(403, 'removed', 'You were removed from this session by the instructor.')

/**
 * Token → claims. With `sid`, a token for another session (or for an assignment only) is refused;
 * without, the token must still name a session. Throws a TokenError (401).
 */
export async function callerClaims(deps: CallerDeps, token: string, sid?: string): Promise<RoomClaims> {
  if (sid !== undefined) return deps.verifier.verify(token, { sid })
  const claims = await deps.verifier.verify(token)
  if (claims.sid === undefined) throw new TokenError('token_wrong_session', `This token is for assignment "${claims.assignment}", not for a session: open your room with POST /v1/assignments/${claims.assignment}/open.`)
  return claims as RoomClaims
}

/**
 * Who is calling an assignment route: the host (the API key), or the holder of a token for the
 * assignment (its role says what they may do there).
 */
export type AssignmentCaller = { host: true } | { host: false; claims: TokenClaims }

/**
 * An assignment token → its claims. A token naming another assignment (or only a session; or,
 * without `assignment`, none) is refused with a TokenError (401). What the holder may do there is the assignment routes' to say.
 */
export async function assignmentClaims(deps: Pick<CallerDeps, 'verifier'>, token: string, assignment?: string): Promise<TokenClaims & { assignment: string }> {
  const claims = await deps.verifier.verify(token, { assignment })
  if (claims.assignment === undefined) throw new TokenError('token_wrong_assignment', `This token is for session "${claims.sid}", not for an assignment.`)
  return claims as TokenClaims & { assignment: string }
}

/**
 * Claims → the session they are for, refused when the token may no longer act in it (a guest
 * token names its session's creation; a token issued before a deletion cannot reopen the id).
 * A session that does not exist: `missing` is thrown when given (a route needs the session);
 * otherwise undefined, with the deletion checked when `deletion` is set (a hello may open it).
 */
export async function callerSession(sql: Sql, claims: RoomClaims, sid = claims.sid, opts: { missing?: AppError; deletion?: boolean } = {}): Promise<SessionRow | undefined> {
  const session = await getSession(sql, sid)
  if (!session && opts.missing) throw opts.missing
  const refusal = sessionRefusal(claims, session, session || !opts.deletion ? null : await deletedAt(sql, sid))
  if (refusal) throw refusal
  return session
}

/**
 * Whether the claims' holder may come in: a ban (by user id, or by email where known) refuses.
 * Returns the cool-down after repeated refused writes, which only the socket holds people to.
 */
export async function admitCaller(sql: Sql, claims: RoomClaims, sid = claims.sid): Promise<{ writesBlockedUntil: Date | null }> {
  const { banned, writesBlockedUntil, erasedAt } = await admission(sql, sid, claims.sub, claims.email)
  if (banned) throw removedError()
  // A token issued before its holder was erased (DELETE /v1/users/:userId) would bring them back.
  if (erasedAt && (claims.iat ?? 0) <= Math.floor(erasedAt.getTime() / 1000)) {
    throw new TokenError('token_user_erased', 'This token was issued before its holder’s data was erased from this server; ask for a new one.')
  }
  return { writesBlockedUntil }
}

/** The permission context of the claims' holder: their row's role override and mute, the session's owner and lock. */
export function callerContext(claims: RoomClaims, participant: ParticipantRow | undefined, session: SessionRow): PermissionContext {
  return permissionContext({ role: claims.role, roleOverride: participant?.roleOverride, userId: claims.sub, muted: participant?.muted }, session)
}

/** Claims, however proven → the caller in session `sid`, which must exist. */
export async function callerFromClaims(sql: Sql, claims: RoomClaims, sid: string): Promise<Caller> {
  const missing = new AppError(404, 'session_not_found', `Session "${sid}" does not exist or has not been opened yet.`)
  const session = (await callerSession(sql, claims, sid, { missing }))!
  await admitCaller(sql, claims, sid)
  const participant = await getParticipant(sql, sid, claims.sub)
  return { claims, session, participant, ctx: callerContext(claims, participant, session) }
}

/** A room token → the caller in session `sid`: every step, each refusal thrown as it is. */
export async function resolveCaller(deps: CallerDeps, token: string, sid: string): Promise<Caller> {
  return callerFromClaims(deps.sql, await callerClaims(deps, token, sid), sid)
}

/** Whether `e` is one of these steps' refusals (a token, a session, a ban), not a failure. */
export function isCallerRefusal(e: unknown): e is AppError {
  return e instanceof TokenError || (e instanceof AppError && e.code === 'removed')
}

/** How a socket closes on a refusal: removed people are told so; any other is a 4401. */
export function closeCodeFor(refusal: AppError): number {
  return refusal.code === 'removed' ? CloseCode.Removed : CloseCode.Unauthorized
}
