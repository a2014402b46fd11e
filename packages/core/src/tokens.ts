import * as v from 'valibot'
import { PersonNameSchema, SessionIdSchema } from './ids.js'
import { ROLES } from './roles.js'

/**
 * Claims of a room token, signed by the host (or by the server for invited guests). `exp` is
 * required; `nbf` is honoured; `iss` and the header's `kid` select the key.
 */
export const TokenClaimsSchema = v.object({
  sub: v.pipe(v.string('sub (the user id) must be a string'), v.minLength(1, 'sub must not be empty'), v.maxLength(200, 'sub is at most 200 characters')),
  name: PersonNameSchema,
  sid: SessionIdSchema,
  role: v.picklist(ROLES, `role must be one of ${ROLES.join(', ')}`),
  exp: v.pipe(v.number('exp must be a number of seconds'), v.integer()),
  iat: v.optional(v.pipe(v.number(), v.integer())),
  nbf: v.optional(v.pipe(v.number(), v.integer())),
  iss: v.optional(v.string()),
  email: v.optional(v.pipe(v.string(), v.email('email is not a valid address'), v.maxLength(320))),
  avatar: v.optional(v.pipe(v.string(), v.url('avatar must be a URL'), v.maxLength(2000))),
  /**
   * On tokens the server signs for invited guests: when the session they were issued for was
   * created (ms since 1970). A session later created with the same id has another, so the token
   * does not carry over to it.
   */
  epoch: v.optional(v.pipe(v.number(), v.integer())),
})
export type TokenClaims = v.InferOutput<typeof TokenClaimsSchema>

/** The issuer the server puts on tokens it signs itself (invited guests); only these refresh. */
export const SERVER_ISSUER = 'session-kit'
