import { readFileSync } from 'node:fs'
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose'
import * as v from 'valibot'
import { SERVER_ISSUER, TokenClaimsSchema, type RoomClaims, type TokenClaims } from '@session-kit/core'
import { AppError } from '../errors.js'

/** Why a token was refused; each has its own code and sentence, over HTTP (401) and WS (4401). */
export class TokenError extends AppError {
  constructor(code: string, message: string) {
    super(401, code, message)
    this.name = 'TokenError'
  }
}

const ASYMMETRIC = ['ES256', 'EdDSA'] as const
const ALGORITHMS = ['HS256', ...ASYMMETRIC]

export interface VerifierOptions {
  secret: string
  /** A JWKS URL (https://…) or a path to a JWKS JSON file. */
  jwks?: string
  /** The longest a token may be valid, in seconds (from `iat`, and from now); none by default. */
  maxTtlSeconds?: number
}

/** Clocks of host and server differ a little: tolerated on top of the longest lifetime. */
const LIFETIME_LEEWAY_S = 60

/** Verifies room tokens: HS256 with the shared secret, ES256/EdDSA with keys from a JWKS. */
export class TokenVerifier {
  readonly #secret: Uint8Array
  readonly #jwks?: JWTVerifyGetKey
  readonly #maxTtl?: number

  constructor(opts: VerifierOptions) {
    this.#secret = new TextEncoder().encode(opts.secret)
    this.#maxTtl = opts.maxTtlSeconds
    if (opts.jwks) {
      this.#jwks = /^https?:\/\//.test(opts.jwks)
        ? createRemoteJWKSet(new URL(opts.jwks))
        : createLocalJWKSet(JSON.parse(readFileSync(opts.jwks, 'utf8')))
    }
  }

  /**
   * Verify a token and return its claims. With `sid`, a token for any other session is refused;
   * with `assignment`, a token for any other assignment. Throws a TokenError naming the reason.
   */
  async verify(token: string, opts: { sid: string; now?: Date }): Promise<RoomClaims>
  async verify(token: string, opts?: { sid?: undefined; assignment?: string; now?: Date }): Promise<TokenClaims>
  async verify(token: string, opts: { sid?: string; assignment?: string; now?: Date } = {}): Promise<TokenClaims> {
    let alg: string | undefined
    try {
      alg = decodeProtectedHeader(token).alg
    } catch {
      throw new TokenError('token_malformed', 'The token is not a JWT (three base64url parts separated by dots).')
    }
    if (!alg || alg.toLowerCase() === 'none') throw new TokenError('token_unsigned', 'Unsigned tokens (alg "none") are refused: sign the token with HS256, ES256 or EdDSA.')
    if (!ALGORITHMS.includes(alg)) throw new TokenError('token_algorithm', `Tokens signed with ${alg} are refused: use HS256, ES256 or EdDSA.`)
    if (alg !== 'HS256' && !this.#jwks) throw new TokenError('token_algorithm', `This server has no public keys configured (SESSION_KIT_JWKS), so ${alg} tokens cannot be checked.`)
    let payload: unknown
    try {
      const key: JWTVerifyGetKey = async (header, input) => (header.alg === 'HS256' ? this.#secret : this.#jwks!(header, input))
      ;({ payload } = await jwtVerify(token, key, { algorithms: ALGORITHMS, requiredClaims: ['exp'], currentDate: opts.now }))
    } catch (e) {
      throw translate(e)
    }
    const parsed = v.safeParse(TokenClaimsSchema, payload)
    if (!parsed.success) {
      const issue = parsed.issues[0]
      const path = issue.path?.map((p) => String(p.key)).join('.') ?? 'claims'
      throw new TokenError('token_claims', `The token's ${path} claim is invalid: ${issue.message}.`)
    }
    const claims = parsed.output
    if (this.#maxTtl !== undefined) {
      // A leaked token that never expires is a key for good: hold every token to a lifetime.
      const now = Math.floor((opts.now?.getTime() ?? Date.now()) / 1000)
      const lifetime = Math.max(claims.exp - now, claims.iat !== undefined ? claims.exp - claims.iat : 0)
      if (lifetime > this.#maxTtl + LIFETIME_LEEWAY_S) {
        throw new TokenError('token_lifetime', `The token is valid for ${hours(lifetime)}; this server accepts tokens valid for at most ${hours(this.#maxTtl)} (SESSION_KIT_MAX_TOKEN_TTL). Mint shorter tokens and renew them with tokenProvider.`)
      }
    }
    if (opts.sid !== undefined && claims.sid === undefined) {
      throw new TokenError('token_wrong_session', `This token is for assignment "${claims.assignment}", not for a session: open your room with POST /v1/assignments/${claims.assignment}/open.`)
    }
    if (opts.sid !== undefined && claims.sid !== opts.sid) {
      throw new TokenError('token_wrong_session', `This token is for session "${claims.sid}", not "${opts.sid}".`)
    }
    if (opts.assignment !== undefined && claims.assignment !== opts.assignment) {
      throw new TokenError('token_wrong_assignment', claims.assignment === undefined ? `This token is for session "${claims.sid}", not for assignment "${opts.assignment}".` : `This token is for assignment "${claims.assignment}", not "${opts.assignment}".`)
    }
    return claims
  }
}

const hours = (seconds: number) => (seconds >= 2 * 3600 ? `${Math.round(seconds / 3600)} hours` : `${Math.round(seconds / 60)} minutes`)

function translate(e: unknown): TokenError {
  if (e instanceof errors.JWTExpired) return new TokenError('token_expired', 'The token has expired: ask the host page for a fresh one.')
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'exp') return new TokenError('token_missing_exp', 'The token has no expiry (exp claim); tokens must expire.')
    if (e.claim === 'nbf') return new TokenError('token_not_yet_valid', 'The token is not valid yet (its nbf claim is in the future).')
    return new TokenError('token_claims', `The token's ${e.claim} claim is invalid: ${e.reason}.`)
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return new TokenError('token_bad_signature', 'The token is signed with a key this server does not trust.')
  if (e instanceof errors.JWKSNoMatchingKey) return new TokenError('token_unknown_key', 'No configured public key matches this token (check its kid).')
  if (e instanceof errors.JOSEAlgNotAllowed) return new TokenError('token_algorithm', 'The token is signed with an algorithm this server does not accept.')
  if (e instanceof errors.JWTInvalid || e instanceof errors.JWSInvalid) return new TokenError('token_malformed', 'The token is malformed.')
  return new TokenError('token_invalid', 'The token could not be verified.')
}

export interface MintClaims {
  sub: string
  name: string
  /** The session the token is for; a token names a session, an assignment, or both. */
  sid?: string
  /** The assignment the token is for (its routes; with `sid`, a room in it). */
  assignment?: string
  role: TokenClaims['role']
  email?: string
  avatar?: string
  iss?: string
  epoch?: number
  /** An LMS's student view: left out of analytics by default. */
  test?: boolean
}

/** Parse a duration like `90s`, `15m`, `2h`, `7d` (or plain seconds) into seconds. */
export function parseTtl(ttl: string | number): number {
  if (typeof ttl === 'number') return ttl
  const m = /^(\d+)\s*([smhd]?)$/.exec(ttl.trim())
  if (!m) throw new Error(`"${ttl}" is not a duration: use e.g. 90s, 15m, 2h or 7d.`)
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
}

/**
 * Sign a room token with HS256, as a host backend would. `ttl` defaults to two hours.
 *
 * ```ts
 * const token = await mintToken({ sub: 'u1', name: 'Ada', sid: 'intro-101', role: 'learner' }, process.env.SESSION_KIT_SECRET)
 * ```
 */
export async function mintToken(claims: MintClaims, secret: string, opts: { ttl?: string | number; now?: number } = {}): Promise<string> {
  const parsed = v.safeParse(TokenClaimsSchema, { ...claims, exp: 0 })
  if (!parsed.success) throw new Error(`Cannot mint this token: ${parsed.issues[0].message}`)
  const now = Math.floor((opts.now ?? Date.now()) / 1000)
  const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(now).setExpirationTime(now + parseTtl(opts.ttl ?? '2h'))
  return jwt.sign(new TextEncoder().encode(secret))
}

/**
 * Whether a verified token may open a session, beyond its signature and `sid`: the one rule the
 * hello, the room routes and token refresh share. A guest token (signed by this server for an
 * invitation) is good only for the session it was issued for: not after that session was deleted,
 * and not for a later session given the same id (its `iat` predates that session). A token issued
 * before a session was deleted cannot open its id again — an instructor's would otherwise recreate
 * it and own it. Returns the refusal, or null when the token may go on.
 */
export function sessionRefusal(claims: RoomClaims, session: { createdAt: Date } | undefined, deletedAt: Date | null): TokenError | null {
  const guest = claims.iss === SERVER_ISSUER
  const issued = claims.iat ?? 0
  if (session) {
    // Guest tokens name their session's creation; older ones (without it) are held to their iat.
    const otherSession = claims.epoch !== undefined ? claims.epoch !== session.createdAt.getTime() : issued < Math.floor(session.createdAt.getTime() / 1000)
    if (guest && otherSession) {
      return new TokenError('token_session_gone', `This invitation was for an earlier session named "${claims.sid}", which has ended; ask for a new invitation.`)
    }
    return null
  }
  if (guest) return new TokenError('token_session_gone', `The session "${claims.sid}" this invitation was for has ended.`)
  // iat is in whole seconds: a token from the second of the deletion counts as issued before it.
  if (deletedAt && issued <= Math.floor(deletedAt.getTime() / 1000)) {
    return new TokenError('token_session_deleted', `The session "${claims.sid}" was deleted, and a token issued before that cannot open it again; the host can create it anew.`)
  }
  return null
}

/**
 * A token the server signs for an invited guest; only these can be refreshed by the server. It
 * names the session it is for by id and by creation time (see `sessionRefusal`).
 */
export function mintGuestToken(claims: Omit<MintClaims, 'iss' | 'epoch'> & { sid: string }, session: { createdAt: Date }, secret: string, ttl: string | number = '12h') {
  return mintToken({ ...claims, iss: SERVER_ISSUER, epoch: session.createdAt.getTime() }, secret, { ttl })
}
