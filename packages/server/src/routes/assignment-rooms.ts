import { Hono, type Context } from 'hono'
import { randomUUID } from 'node:crypto'
import * as v from 'valibot'
import {
  FileNameSchema,
  needsAttention,
  type AssignmentOpened,
  type AssignmentRoomList,
  type AssignmentSubmitted,
  type AssignmentUpdateList,
  type TokenClaims,
} from '@session-kit/core'
import { admitCaller } from '../auth/caller.js'
import { mintGuestToken } from '../auth/tokens.js'
import { AppError } from '../errors.js'
import { assignmentAuth } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { notFound } from '../http/errors.js'
import { body, pathParam } from '../http/validate.js'
import { getRoom, listRooms, listUpdates, markSubmitted, openRoom, recordStarterChange, roomStatuses, type AssignmentRoomRow } from '../store/assignments.js'
import { assignmentTestUsers } from '../store/analytics.js'
import { getSession, SERVER_USER, setEditingLocked } from '../store/sessions.js'
import { gradesOf, learnersNotOpened, rosterState } from '../store/lti-services.js'
import { gradeState } from '../lti/grades.js'
import { pendingUpdates } from '../sync/starter-updates.js'
import { assignmentMissing, loadAssignment } from './assignments.js'
import { writeWithEvent } from '../webhooks/events.js'

const AcceptUpdate = v.object({ file: FileNameSchema })
const UserIdParam = v.pipe(v.string(), v.regex(/^[^\u0000-\u001f\u007f]{1,200}$/))

const closedError = (what: string) => new AppError(409, 'assignment_closed', `This assignment is closed: ${what}.`)
const notOpened = () => new AppError(409, 'room_not_opened', 'Open the assignment first (POST …/open): you have no room in it yet.')

/** The learner's own claims (`assignmentAuth('learner')` let only a learner's token through). */
const learnerClaims = (c: Context<AppEnv>): TokenClaims => {
  const caller = c.var.assignmentCaller
  if (caller.host) throw new AppError(403, 'forbidden', 'Only learners of this assignment can do this.')
  return caller.claims
}

/**
 * A server-signed room token for `sid` in the assignment, refused to someone banned from that room.
 * A test user (an LMS's student view) stays one in the room, so its analytics can leave them out.
 */
async function roomToken(c: Context<AppEnv>, claims: Pick<TokenClaims, 'sub' | 'name' | 'role' | 'email' | 'avatar' | 'test'>, aid: string, sid: string): Promise<string> {
  const { db, config } = c.var.services
  const session = await getSession(db.sql, sid)
  if (!session) throw notFound('This learner’s room no longer exists.', 'session_not_found')
  const { sub, name, role, email, avatar, test } = claims
  const room = { sub, name, role, sid, assignment: aid, ...(email ? { email } : {}), ...(avatar ? { avatar } : {}), ...(test ? { test } : {}) }
  await admitCaller(db.sql, { ...room, exp: 0 }, sid)
  return mintGuestToken(room, session, config.secret)
}

/** A learner's own room, which must have been opened. */
async function ownRoom(c: Context<AppEnv>, aid: string): Promise<AssignmentRoomRow> {
  const room = await getRoom(c.var.services.db.sql, aid, learnerClaims(c).sub)
  if (!room) throw notOpened()
  return room
}

/**
 * Learners' rooms in an assignment: one each, made on their first open from the starter files
 * and the visible tests, owned by the assignment's owner. Learners reach only their own; the
 * assignment's instructors reach every one.
 */
export function assignmentRoomRoutes() {
  const r = new Hono<AppEnv>()

  r.post('/:aid/open', assignmentAuth('learner'), async (c) => {
    const a = await loadAssignment(c)
    const claims = learnerClaims(c)
    const sql = c.var.services.db.sql
    let room = await getRoom(sql, a.id, claims.sub)
    let created = false
    if (!room) {
      if (a.closedAt) throw closedError('it takes no new work')
      ;({ room, created } = await openRoom(sql, a, { userId: claims.sub, name: claims.name }, `${a.id.slice(0, 60)}.${randomUUID()}`))
    }
    const token = await roomToken(c, { ...claims, role: 'learner' }, a.id, room.sessionId)
    return c.json({ sessionId: room.sessionId, token, role: 'learner', userId: claims.sub, created } satisfies AssignmentOpened, created ? 201 : 200)
  })

  // Every room, a test user's too (marked): this is how an instructor finds and opens rooms, not a
  // count. A student view is left out of "needs attention" only: it never needs help, and its
  // activity must not make real learners look idle.
  r.get('/:aid/rooms', assignmentAuth('instructor'), async (c) => {
    const a = await loadAssignment(c)
    const sql = c.var.services.db.sql
    const [rooms, statuses, testUsers] = await Promise.all([listRooms(sql, a.id), roomStatuses(sql, a.id), assignmentTestUsers(sql, a.id)])
    const status = new Map(statuses.map((s) => [s.userId, s]))
    // From an LMS: each learner's grade on its way to the gradebook, the course's learners without a
    // room yet, and whether (and when) its roster can be pulled.
    const [grades, notOpened, roster] = await Promise.all([gradesOf(sql, a.id), learnersNotOpened(sql, a.id), rosterState(sql, a.id)])
    const grade = new Map(grades.map((g) => [g.userId, gradeState(g)]))
    const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null)
    const attention = needsAttention(
      rooms.filter((room) => !testUsers.has(room.userId)).map((room) => {
        const s = status.get(room.userId)
        return { userId: room.userId, name: room.name, role: 'learner' as const, online: Boolean(s?.online), lastActivityAt: iso(s?.lastActivityAt), connectedSince: null, recentRuns: s?.recentRuns ?? [] }
      }),
      { now: c.var.services.clock().getTime() },
    )
    const reasons = new Map(attention.map((x) => [x.userId, x.reasons.map((r) => r.message)]))
    c.header('cache-control', 'no-store')
    return c.json({
      rooms: rooms.map((room) => {
        const s = status.get(room.userId)
        return {
          userId: room.userId,
          name: room.name,
          sessionId: room.sessionId,
          startedAt: room.startedAt.toISOString(),
          lastActivityAt: iso(s?.lastActivityAt),
          online: Boolean(s?.online),
          submittedAt: iso(room.submittedAt),
          tests: s?.testsRunId ? { runId: s.testsRunId, status: s.testsStatus!, passed: s.testsPassed ?? 0, failed: s.testsFailed ?? 0, at: iso(s.testsAt)! } : null,
          hand: s?.handRaisedAt ? { raisedAt: iso(s.handRaisedAt)!, question: s.handQuestion ?? '' } : null,
          attention: reasons.get(room.userId) ?? [],
          pendingUpdates: s?.pendingUpdates ?? 0,
          ...(grade.has(room.userId) ? { grade: grade.get(room.userId)! } : {}),
          ...(testUsers.has(room.userId) ? { testUser: true } : {}),
        }
      }),
      notOpened: notOpened.map((m) => ({ userId: m.userId, name: m.name || m.email || 'LMS user', email: m.email })),
      roster: { available: roster.available, pulledAt: iso(roster.pulledAt) },
    } satisfies AssignmentRoomList)
  })

  // An instructor into a learner's room: a token as an instructor there.
  r.post('/:aid/rooms/:userId/open', assignmentAuth('instructor'), async (c) => {
    const a = await loadAssignment(c)
    const userId = pathParam(c, 'userId', UserIdParam, () => notFound('That learner has no room in this assignment.', 'room_not_found'))
    const room = await getRoom(c.var.services.db.sql, a.id, userId)
    if (!room) throw notFound('That learner has no room in this assignment.', 'room_not_found')
    // With the API key: a token for the assignment's owner.
    const caller = c.var.assignmentCaller
    const who = caller.host ? { sub: a.ownerId, name: 'Instructor' } : caller.claims
    const token = await roomToken(c, { ...who, role: 'instructor' }, a.id, room.sessionId)
    return c.json({ sessionId: room.sessionId, token, role: 'instructor', userId: who.sub, created: false } satisfies AssignmentOpened)
  })

  r.post('/:aid/submit', assignmentAuth('learner'), async (c) => {
    const a = await loadAssignment(c)
    const room = await ownRoom(c, a.id)
    if (a.closedAt) throw closedError('it takes no more submissions')
    const { db, hub } = c.var.services
    const locked = a.submitPolicy === 'lock'
    const submitted = await writeWithEvent(
      db.sql,
      (tx) => markSubmitted(tx, a.id, room.userId),
      (s) => s && { type: 'assignment.submitted', data: { assignmentId: a.id, sessionId: s.sessionId, userId: s.userId, submittedAt: s.submittedAt!.toISOString(), locked } },
    )
    if (!submitted) throw assignmentMissing(a.id)
    if (locked) {
      await setEditingLocked(db.sql, room.sessionId, true)
      await hub.sessionChanged(room.sessionId, 'Submitted: editing is locked.')
    }
    // A learner from an LMS: the server tests what they submitted and sends the score to the gradebook.
    // The submission stands whatever happens there (the outbox takes the grade up again).
    await c.var.services.ltiGrades.submitted(a, submitted).catch((e: Error) => c.var.services.log(`lti grades: ${a.id}/${room.userId}: ${e.message}`))
    return c.json({ sessionId: room.sessionId, submittedAt: submitted.submittedAt!.toISOString(), locked } satisfies AssignmentSubmitted)
  })

  r.get('/:aid/updates', assignmentAuth('learner'), async (c) => {
    const a = await loadAssignment(c)
    const room = await ownRoom(c, a.id)
    c.header('cache-control', 'no-store')
    return c.json({ updates: await pendingUpdates(c.var.services.db.sql, c.var.services.hub, room) } satisfies AssignmentUpdateList)
  })

  r.post('/:aid/updates/accept', assignmentAuth('learner'), async (c) => {
    const a = await loadAssignment(c)
    const room = await ownRoom(c, a.id)
    const { file } = await body(c, AcceptUpdate)
    const { db, hub } = c.var.services
    const offer = (await listUpdates(db.sql, a.id, room.userId)).find((u) => u.file === file)
    if (!offer) throw notFound(`There is no update to "${file}" waiting for you.`, 'update_not_found')
    if ((await getSession(db.sql, room.sessionId))?.editingLocked) throw new AppError(409, 'editing_locked', 'Editing is locked in your room, so the update cannot be applied.')
    const open = await hub.room(room.sessionId)
    if (!open) throw notFound('Your room no longer exists.', 'session_not_found')
    await open.setFiles({ ...open.currentText().files, [file]: offer.text }, SERVER_USER)
    await recordStarterChange(db.sql, a.id, room.userId, { starter: { ...room.starter, [file]: offer.text }, offer: {}, drop: [file] })
    return c.json({ updates: await pendingUpdates(db.sql, hub, room) } satisfies AssignmentUpdateList)
  })

  return r
}
