import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import {
  assignmentAnalyticsCsv,
  AssignmentIdSchema,
  FileNameSchema,
  LanguageSchema,
  pseudonym,
  SUBMIT_POLICIES,
  type Assignment,
  type AssignmentAnalytics,
  type AssignmentList,
} from '@session-kit/core'
import { assignmentClaims, type AssignmentCaller } from '../auth/caller.js'
import { AppError } from '../errors.js'
import { HOST_ACTOR, httpOrigin, recordAction, type AuditRecord } from '../audit/record.js'
import { assignmentAuth, bearer, isApiKey } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { badRequest, conflict, notFound } from '../http/errors.js'
import { body, parse, wholeNumber } from '../http/validate.js'
import {
  assignmentRuns,
  createAssignment,
  deleteAssignment,
  getAssignment,
  getRoom,
  listAssignments,
  listRooms,
  pendingUpdateCount,
  starterOf,
  updateAssignment,
  type AssignmentRow,
} from '../store/assignments.js'
import { assignmentTestUsers } from '../store/analytics.js'
import { pushStarter } from '../sync/starter-updates.js'
import { hiddenNameProblem, MAX_HIDDEN_FILE_BYTES, MAX_HIDDEN_FILES } from './hidden-files.js'

// ---- request bodies -------------------------------------------------------------------------

const Title = v.pipe(v.string('title must be a string'), v.trim(), v.minLength(1, 'title must not be empty'), v.maxLength(200, 'title is at most 200 characters'))
/** Markdown, stored as text: pages render it without raw HTML. */
const Instructions = v.pipe(v.string('instructions must be Markdown text'), v.maxLength(100_000, 'instructions are at most 100,000 characters'))
const OwnerId = v.pipe(v.string('ownerId must be a string'), v.minLength(1, 'ownerId must not be empty'), v.maxLength(200, 'ownerId is at most 200 characters'))
const FileText = v.pipe(v.string('file contents must be text'), v.maxLength(1_000_000, 'a file is at most 1,000,000 characters'))
/** An object, not a list (which `v.object` and `v.record` would take). */
const notList = (message: string) => v.custom<Record<string, unknown>>((x) => x !== null && typeof x === 'object' && !Array.isArray(x), message)
const FileMap = v.pipe(
  notList('files must be an object of {name: text}'),
  v.record(FileNameSchema, FileText, 'files must be an object of {name: text}'),
  v.check((f) => Object.keys(f).length <= 100, 'at most 100 files'),
)
const HiddenTests = v.pipe(
  notList('tests.hidden must be an object of {name: text}'),
  v.record(
    v.pipe(
      v.string(),
      v.check((name) => hiddenNameProblem(name) === null, (issue) => hiddenNameProblem(issue.input as string) ?? 'not a hidden test file name'),
    ),
    v.pipe(
      v.string('a hidden test file’s text is text'),
      v.check((text) => Buffer.byteLength(text, 'utf8') <= MAX_HIDDEN_FILE_BYTES, 'a hidden test file is at most 256 KB'),
    ),
    'tests.hidden must be an object of {name: text}',
  ),
  v.check((f) => Object.keys(f).length <= MAX_HIDDEN_FILES, `at most ${MAX_HIDDEN_FILES} hidden test files`),
)
const Tests = v.pipe(notList('tests must be an object {visible?, hidden?}'), v.object({ visible: v.optional(FileMap), hidden: v.optional(HiddenTests) }, 'tests must be an object {visible?, hidden?}'))
const DueAt = v.nullable(v.pipe(v.string('dueAt must be an ISO 8601 time or null'), v.isoTimestamp('dueAt must be an ISO 8601 time (2025-03-01T09:30:00Z)')))
const SubmitPolicy = v.picklist(SUBMIT_POLICIES, `submitPolicy must be one of ${SUBMIT_POLICIES.join(', ')}`)

export const CreateAssignment = v.object({
  id: v.optional(AssignmentIdSchema),
  title: Title,
  instructions: Instructions,
  language: LanguageSchema,
  files: v.pipe(FileMap, v.check((f) => Object.keys(f).length > 0, 'an assignment starts with at least one file')),
  tests: v.optional(Tests),
  dueAt: v.optional(DueAt),
  submitPolicy: v.optional(SubmitPolicy, 'keep-editing'),
  /** With the API key: who owns every learner's room (an instructor's token makes its holder the owner). */
  ownerId: v.optional(OwnerId),
})
const PatchAssignment = v.pipe(
  v.object({
    title: v.optional(Title),
    instructions: v.optional(Instructions),
    language: v.optional(LanguageSchema),
    files: v.optional(v.pipe(FileMap, v.check((f) => Object.keys(f).length > 0, 'an assignment keeps at least one file'))),
    tests: v.optional(Tests),
    dueAt: v.optional(DueAt),
    submitPolicy: v.optional(SubmitPolicy),
    closed: v.optional(v.boolean('closed must be true or false')),
  }),
  v.check((p) => Object.values(p).some((x) => x !== undefined), 'send at least one field to change'),
)
const ListQuery = v.object({
  limit: v.optional(wholeNumber('limit', { min: 1, max: 200 }), '50'),
  after: v.optional(AssignmentIdSchema),
})
const AnalyticsQuery = v.object({
  anonymize: v.optional(v.picklist(['true', 'false', '1', '0', ''], 'anonymize must be true or false'), 'false'),
  format: v.optional(v.picklist(['json', 'csv'], 'format must be json or csv'), 'json'),
  // Test users (an LMS's student view) are left out unless asked for.
  includeTestUsers: v.optional(v.picklist(['true', 'false', '1', '0', ''], 'includeTestUsers must be true or false'), 'false'),
})

// ---- answers --------------------------------------------------------------------------------

const iso = (d: Date | null) => (d ? d.toISOString() : null)

/** The assignment as `caller` may see it: hidden tests for instructors and the host only; a token holder's own room. */
export async function assignmentJson(c: Context<AppEnv>, a: AssignmentRow, caller: AssignmentCaller): Promise<Assignment> {
  const seesHidden = caller.host || caller.claims.role === 'instructor'
  const out: Assignment = {
    id: a.id,
    title: a.title,
    instructions: a.instructions,
    language: a.language,
    files: a.files,
    tests: { visible: a.visibleTests, ...(seesHidden ? { hidden: a.hiddenTests } : {}) },
    hiddenTestCount: Object.keys(a.hiddenTests).length,
    dueAt: iso(a.dueAt),
    submitPolicy: a.submitPolicy,
    ownerId: a.ownerId,
    closed: a.closedAt !== null,
    closedAt: iso(a.closedAt),
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  }
  if (!caller.host) {
    const sql = c.var.services.db.sql
    const room = await getRoom(sql, a.id, caller.claims.sub)
    out.you = {
      userId: caller.claims.sub,
      role: caller.claims.role,
      sessionId: room?.sessionId ?? null,
      startedAt: iso(room?.startedAt ?? null),
      submittedAt: iso(room?.submittedAt ?? null),
      pendingUpdates: room ? await pendingUpdateCount(sql, a.id, caller.claims.sub) : 0,
    }
  }
  return out
}

export const assignmentMissing = (aid: string) => notFound(`Assignment "${aid}" does not exist.`, 'assignment_not_found')

/** The assignment in the path, which must exist. */
export async function loadAssignment(c: Context<AppEnv>): Promise<AssignmentRow> {
  const aid = c.req.param('aid')!
  const a = await getAssignment(c.var.services.db.sql, aid)
  if (!a) throw assignmentMissing(aid)
  return a
}

/** Starter files, visible and hidden tests: one name each, and the document limits of the rooms they make. */
export function checkFiles(c: Context<AppEnv>, files: Record<string, string>, visible: Record<string, string>, hidden: Record<string, string>) {
  const { maxFiles, maxDocumentChars } = c.var.services.config.limits
  const clash = Object.keys(visible).find((n) => n in files) ?? Object.keys(hidden).find((n) => n in files || n in visible)
  if (clash !== undefined) throw badRequest(`"${clash}" is named twice (starter files, visible and hidden tests each need their own names).`, 'validation_failed', { field: 'tests' })
  const starter = { ...files, ...visible }
  if (Object.keys(starter).length > maxFiles) throw conflict(`A room holds at most ${maxFiles} files; the starter files and visible tests are ${Object.keys(starter).length}.`, 'too_many_files')
  const chars = Object.values(starter).reduce((n, t) => n + t.length, 0)
  if (chars > maxDocumentChars) throw new AppError(413, 'too_large', `The starter files and visible tests hold ${chars} characters; a room holds at most ${maxDocumentChars}.`)
}

/** Who acts on an assignment route (after `assignmentAuth`), and from where, for the audit log. */
function assignmentAudit(c: Context<AppEnv>): Pick<AuditRecord, 'actor' | 'origin'> {
  const caller = c.var.assignmentCaller
  return { actor: caller.host ? HOST_ACTOR : { id: caller.claims.sub, role: caller.claims.role }, origin: httpOrigin(c) }
}

/**
 * Assignments: a template and one room per learner. The host (API key) and the assignment's
 * instructors manage it; its learners read it (without hidden tests) and work in their own room
 * (see assignment-rooms.ts).
 */
export function assignmentRoutes() {
  const r = new Hono<AppEnv>()

  // The host, or an instructor's token for the assignment being created (it owns the rooms).
  r.post('/', async (c) => {
    const given = bearer(c.req.header('authorization'))
    if (!given) throw new AppError(401, 'token_missing', 'This route needs the host API key or an instructor’s token for the assignment: Authorization: Bearer <token>.')
    const { db, verifier, config } = c.var.services
    const claims = isApiKey(given, config.apiKey) ? null : await assignmentClaims({ verifier }, given)
    if (claims && claims.role !== 'instructor') throw new AppError(403, 'forbidden', 'Only instructors of this assignment can do this.', { access: 'instructor' })
    const input = await body(c, CreateAssignment)
    if (claims && input.id !== undefined && input.id !== claims.assignment) throw new AppError(403, 'forbidden', `This token is for assignment "${claims.assignment}", not "${input.id}".`, { access: 'instructor' })
    if (claims && input.ownerId !== undefined && input.ownerId !== claims.sub) throw badRequest('ownerId: an instructor’s token makes its holder the owner; leave ownerId out.', 'validation_failed', { field: 'ownerId' })
    const ownerId = claims?.sub ?? input.ownerId
    if (ownerId === undefined) throw badRequest('ownerId: say who owns the learners’ rooms (a user id).', 'validation_failed', { field: 'ownerId' })
    const visibleTests = input.tests?.visible ?? {}
    const hiddenTests = input.tests?.hidden ?? {}
    checkFiles(c, input.files, visibleTests, hiddenTests)
    const id = claims?.assignment ?? input.id ?? crypto.randomUUID()
    const { row, created } = await createAssignment(db.sql, {
      id,
      title: input.title,
      instructions: input.instructions,
      language: input.language,
      files: input.files,
      visibleTests,
      hiddenTests,
      dueAt: input.dueAt ? new Date(input.dueAt) : null,
      submitPolicy: input.submitPolicy,
      ownerId,
    })
    if (!created) throw conflict(`An assignment with id "${id}" already exists.`, 'assignment_exists')
    return c.json(await assignmentJson(c, row, claims ? { host: false, claims } : { host: true }), 201)
  })

  // The host lists every assignment; an instructor's token lists the one it is for.
  r.get('/', async (c) => {
    const given = bearer(c.req.header('authorization'))
    if (!given) throw new AppError(401, 'token_missing', 'This route needs the host API key or an instructor’s token for an assignment: Authorization: Bearer <token>.')
    const { db, verifier, config } = c.var.services
    const q = parse(ListQuery, c.req.query())
    if (isApiKey(given, config.apiKey)) {
      const rows = await listAssignments(db.sql, { limit: q.limit + 1, after: q.after })
      const page = rows.slice(0, q.limit)
      const assignments = await Promise.all(page.map((a) => assignmentJson(c, a, { host: true })))
      return c.json({ assignments, next: rows.length > q.limit ? page[page.length - 1]!.id : null } satisfies AssignmentList)
    }
    const claims = await assignmentClaims({ verifier }, given)
    if (claims.role !== 'instructor') throw new AppError(403, 'forbidden', 'Only instructors of this assignment can do this.', { access: 'instructor' })
    const a = await getAssignment(db.sql, claims.assignment)
    const assignments = a && (q.after === undefined || a.id > q.after) ? [await assignmentJson(c, a, { host: false, claims })] : []
    return c.json({ assignments, next: null } satisfies AssignmentList)
  })

  r.get('/:aid', assignmentAuth('member'), async (c) => {
    c.header('cache-control', 'no-store')
    return c.json(await assignmentJson(c, await loadAssignment(c), c.var.assignmentCaller))
  })

  r.patch('/:aid', assignmentAuth('instructor'), async (c) => {
    const before = await loadAssignment(c)
    const p = await body(c, PatchAssignment)
    const files = p.files ?? before.files
    const visibleTests = p.tests?.visible ?? before.visibleTests
    const hiddenTests = p.tests?.hidden ?? before.hiddenTests
    checkFiles(c, files, visibleTests, hiddenTests)
    const { services } = c.var
    const after = await updateAssignment(services.db.sql, before.id, {
      title: p.title,
      instructions: p.instructions,
      language: p.language,
      files: p.files,
      visibleTests: p.tests?.visible,
      hiddenTests: p.tests?.hidden,
      dueAt: p.dueAt === undefined ? undefined : p.dueAt === null ? null : new Date(p.dueAt),
      submitPolicy: p.submitPolicy,
      closed: p.closed,
    })
    if (!after) throw assignmentMissing(before.id)
    if (p.closed !== undefined) await recordAction(services.db.sql, { ...assignmentAudit(c), action: p.closed ? 'assignment.closed' : 'assignment.reopened', assignmentId: after.id })
    if (p.files || p.tests?.visible) await pushStarter(services, after.id, starterOf(after))
    return c.json(await assignmentJson(c, after, c.var.assignmentCaller))
  })

  r.post('/:aid/close', assignmentAuth('instructor'), async (c) => {
    const a = await loadAssignment(c)
    const after = await updateAssignment(c.var.services.db.sql, a.id, { closed: true })
    if (!after) throw assignmentMissing(a.id)
    await recordAction(c.var.services.db.sql, { ...assignmentAudit(c), action: 'assignment.closed', assignmentId: a.id })
    return c.json(await assignmentJson(c, after, c.var.assignmentCaller))
  })

  r.delete('/:aid', assignmentAuth('host'), async (c) => {
    const aid = c.req.param('aid')
    const { db, hub } = c.var.services
    const sessions = await deleteAssignment(db.sql, aid)
    if (!sessions) throw assignmentMissing(aid)
    await recordAction(db.sql, { ...assignmentAudit(c), action: 'assignment.deleted', assignmentId: aid, details: { rooms: sessions.length } })
    for (const sid of sessions) hub.endSession(sid)
    return c.body(null, 204)
  })

  r.get('/:aid/analytics', assignmentAuth('instructor'), async (c) => {
    const q = parse(AnalyticsQuery, c.req.query())
    const a = await loadAssignment(c)
    const sql = c.var.services.db.sql
    const [rooms, runs, testUsers] = await Promise.all([listRooms(sql, a.id), assignmentRuns(sql, a.id), assignmentTestUsers(sql, a.id)])
    const anonymized = q.anonymize === 'true' || q.anonymize === '1'
    const withTestUsers = q.includeTestUsers === 'true' || q.includeTestUsers === '1'
    // Pseudonyms number every room, so a learner's stays the same with test users counted or not.
    const numbered = rooms.map((room, i) => ({ room, n: i + 1 })).filter(({ room }) => withTestUsers || !testUsers.has(room.userId))
    const learners = numbered.map(({ room, n }) => {
      const mine = runs.filter((r) => r.sessionId === room.sessionId && r.userId === room.userId)
      const first = mine[0]
      const tests = mine.filter((r) => r.kind === 'tests' && r.finishedAt !== null).map((r) => ({ at: r.finishedAt!.toISOString(), passed: r.testsPassed, failed: r.testsFailed }))
      return {
        ...(anonymized ? pseudonym(n) : { userId: room.userId, name: room.name }),
        startedAt: room.startedAt.toISOString(),
        firstRunAt: iso(first?.createdAt ?? null),
        secondsToFirstRun: first ? Math.max(0, Math.round((first.createdAt.getTime() - room.startedAt.getTime()) / 1000)) : null,
        runs: mine.length,
        submittedAt: iso(room.submittedAt),
        tests,
        ...(testUsers.has(room.userId) ? { testUser: true } : {}),
      }
    })
    const res: AssignmentAnalytics = {
      assignmentId: a.id,
      anonymized,
      generatedAt: c.var.services.clock().toISOString(),
      summary: {
        learners: learners.length,
        submitted: learners.filter((l) => l.submittedAt !== null).length,
        ranTests: learners.filter((l) => l.tests.length > 0).length,
        allPassing: learners.filter((l) => {
          const last = l.tests.at(-1)
          return last !== undefined && last.failed === 0 && last.passed > 0
        }).length,
      },
      learners,
    }
    c.header('cache-control', 'no-store')
    if (q.format === 'csv') {
      c.header('content-disposition', `attachment; filename="assignment-${a.id}${anonymized ? '-anonymized' : ''}-${res.generatedAt.slice(0, 16).replace(/[:]/g, '')}.csv"`)
      return c.body(assignmentAnalyticsCsv(res, { testUsers: withTestUsers }), 200, { 'content-type': 'text/csv; charset=utf-8' })
    }
    return c.json(res)
  })

  return r
}
