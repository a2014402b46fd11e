import * as v from 'valibot'
import { PersonNameSchema, SESSION_ID_PATTERN, SessionIdSchema } from './ids.js'
import { ROLES } from './roles.js'

/** An assignment's id, as hosts choose it (the same shape as a session id). */
export const AssignmentIdSchema = v.pipe(
  v.string(),
  v.regex(SESSION_ID_PATTERN, 'an assignment id is 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit'),
)

/**
 * Claims of a token, signed by the host (or by the server for invited guests and assignment
 * rooms). It names a session (`sid`: a room token), an assignment (`assignment`: for the
 * assignment's routes), or both (a learner's or instructor's room in that assignment). `exp` is
 * required; `nbf` is honoured; `iss` and the header's `kid` select the key.
 */
export const TokenClaimsSchema = v.pipe(v.object({
  sub: v.pipe(v.string('sub (the user id) must be a string'), v.minLength(1, 'sub must not be empty'), v.maxLength(200, 'sub is at most 200 characters')),
  name: PersonNameSchema,
  sid: v.optional(SessionIdSchema),
  assignment: v.optional(AssignmentIdSchema),
  role: v.picklist(ROLES, `role must be one of ${ROLES.join(', ')}`),
  exp: v.pipe(v.number('exp must be a number of seconds'), v.integer()),
  iat: v.optional(v.pipe(v.number(), v.integer())),
  nbf: v.optional(v.pipe(v.number(), v.integer())),
  iss: v.optional(v.string()),
  email: v.optional(v.pipe(v.string(), v.email('email is not a valid address'), v.maxLength(320))),
  avatar: v.optional(v.pipe(v.string(), v.url('avatar must be a URL'), v.maxLength(2000))),
  // On tokens the server signs for invited guests: when the session they were issued for was
  // created (ms since 1970). A session later created with the same id has another, so the token
  // does not carry over to it. (A plain comment: RoomClaims repeats the claims, and typedoc would
  // count a doc comment twice.)
  epoch: v.optional(v.pipe(v.number(), v.integer())),
  // An LMS's "student view" (an LTI TestUser): a learner left out of analytics by default.
  test: v.optional(v.boolean('test must be true or false')),
}), v.check((c) => c.sid !== undefined || c.assignment !== undefined, 'a token names a session (sid) or an assignment (assignment)'))
export type TokenClaims = v.InferOutput<typeof TokenClaimsSchema>

/** The claims of a token for a session: what every room route and the socket act on. */
export type RoomClaims = TokenClaims & { sid: string }

/** The issuer the server puts on tokens it signs itself (invited guests); only these refresh. */
export const SERVER_ISSUER = 'session-kit'
