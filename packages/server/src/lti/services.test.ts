import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { AssignmentRoomList, Role } from '@session-kit/core'
import { mintToken } from '../auth/tokens.js'
import { backends } from '../testing/db.js'
import { LTI_SCOPES, SimulatedPlatform } from '../testing/lti-platform.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'
import { getPlatform, membersOf, upsertLink, upsertMembers, upsertPlatform, type PlatformRow } from '../store/lti.js'
import { RESTARTED } from '../runs/verified-runs.js'
import { getGrade, putGrade, updateGrade, type GradeRow } from '../store/lti-services.js'
import { GradeOutbox, RETRY_S, scoresUrl } from './grades.js'
import { ltiUserId } from './launch.js'
import { pullRoster } from './roster.js'
import { LtiServiceError, SCOPE, ServiceTokens } from './service-token.js'

const ROLE = {
  learner: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  instructor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  ta: 'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant',
}
const AGS = [LTI_SCOPES.lineItem, LTI_SCOPES.lineItemReadonly, LTI_SCOPES.resultReadonly, LTI_SCOPES.score]

const STARTER = { 'main.js': 'function add(a, b) {\n  return a + b\n}\n' }
const VISIBLE = { 'main.test.js': "test('adds small numbers', () => expect(add(1, 2)).toBe(3))\n" }
const HIDDEN = { 'hidden.test.js': "test('adds larger numbers', () => expect(add(20, 22)).toBe(42))\n" }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const backend of backends()) {
  describe(`LTI Advantage services (roster, grades) on ${backend}`, () => {
    let s: TestServer
    let lms: SimulatedPlatform
    let platform: PlatformRow
    /** How far the server's clock is ahead of the real one (the outbox's backoff is driven by moving it). */
    let ahead = 0
    let n = 0

    before(async () => {
      s = await startTestServer(backend, { clock: () => new Date(Date.now() + ahead) })
      lms = await SimulatedPlatform.start()
      lms.toolJwksUrl = `${s.url}/lti/jwks`
      const id = 'p' + randomBytes(5).toString('hex')
      await upsertPlatform(s.db.sql, { id, issuer: lms.issuer, clientId: lms.clientId, name: 'Simulated LMS', authUrl: lms.authUrl, tokenUrl: lms.tokenUrl, jwksUrl: lms.jwksUrl, deploymentIds: [lms.deploymentId], registeredBy: 'admin' })
      platform = (await getPlatform(s.db.sql, id))!
    })
    after(async () => {
      await lms.close()
      await s.stop()
    })

    const assignmentToken = (aid: string, role: Role, sub: string, name = sub) => mintToken({ sub, name, role, assignment: aid }, TEST_SECRET, { ttl: '1h' })

    /**
     * An assignment with tests, linked from a course of the LMS as a launch would have left it (the
     * link with its roster and gradebook endpoints), without going through the launch itself.
     */
    async function linkedAssignment(opts: { lineItem?: boolean; scopes?: string[]; tests?: boolean } = {}) {
      const aid = `lti-asg-${++n}`
      const context = `course-${n}`
      const made = await s.api('POST', '/v1/assignments', TEST_API_KEY, {
        id: aid,
        title: `Week ${n}: adding`,
        instructions: '',
        language: 'javascript',
        files: STARTER,
        ...(opts.tests === false ? {} : { tests: { visible: VISIBLE, hidden: HIDDEN } }),
        ownerId: 'ins',
      })
      assert.equal(made.status, 201, JSON.stringify(made.json))
      const lineItem = opts.lineItem === false ? null : lms.addLineItem(context, { label: `Week ${n}`, scoreMaximum: 100, resourceLinkId: `rl-${n}` })
      await upsertLink(s.db.sql, {
        platformId: platform.id,
        deploymentId: lms.deploymentId,
        resourceLinkId: `rl-${n}`,
        kind: 'assignment',
        sessionId: null,
        assignmentId: aid,
        contextId: context,
        contextTitle: 'CS 101',
        title: `Week ${n}`,
        nrpsUrl: lms.membershipsUrl(context),
        agsLineitems: lms.lineItemsUrl(context),
        agsLineitem: lineItem,
        agsScopes: opts.scopes ?? AGS,
      })
      return { aid, context, lineItem, instructor: await assignmentToken(aid, 'instructor', 'ins', 'Ada') }
    }

    /** A learner of the course as their launch made them known, with their assignment token. */
    async function lmsLearner(aid: string, context: string, sub: string, name: string) {
      const userId = ltiUserId(platform.id, sub)
      await upsertMembers(s.db.sql, [{ platformId: platform.id, contextId: context, ltiSub: sub, userId, name, email: null, picture: null, role: 'learner', testUser: false, status: 'Active', source: 'launch' }])
      return { userId, token: await assignmentToken(aid, 'learner', userId, name) }
    }

    /** Tick the outbox (as its timer does) until the grade is as wanted. */
    async function gradeUntil(aid: string, userId: string, ok: (g: GradeRow) => boolean, what: string): Promise<GradeRow> {
      let g: GradeRow | undefined
      for (let i = 0; i < 300; i++) {
        await s.services.ltiGrades.tick()
        g = await getGrade(s.db.sql, aid, userId)
        if (g && ok(g)) return g
        await sleep(100)
      }
      assert.fail(`${what}: the grade is ${JSON.stringify(g)}`)
    }

    async function rooms(aid: string, token: string) {
      const res = await s.api('GET', `/v1/assignments/${aid}/rooms`, token)
      assert.equal(res.status, 200, JSON.stringify(res.json))
      return res.json as AssignmentRoomList
    }

    // ---- service tokens -------------------------------------------------------------------------

    it('gets one access token for two calls with the same scopes (a signed assertion, client credentials), another for other scopes', async () => {
      const tokens = new ServiceTokens({ keys: s.services.ltiKeys })
      const before = lms.tokenRequests.length
      const a = await tokens.token(platform, [SCOPE.memberships])
      const [b, c] = await Promise.all([tokens.token(platform, [SCOPE.memberships]), tokens.token(platform, [SCOPE.memberships])])
      assert.equal(a, b)
      assert.equal(b, c)
      assert.equal(lms.tokenRequests.length - before, 1, 'one grant for every call')
      assert.deepEqual(lms.tokenRequests.at(-1), { scope: SCOPE.memberships, clientId: platform.clientId })
      // The order scopes are named in does not matter; another set is another token.
      const d = await tokens.token(platform, [SCOPE.score, SCOPE.lineItem])
      assert.equal(await tokens.token(platform, [SCOPE.lineItem, SCOPE.score]), d)
      assert.notEqual(d, a)
      assert.equal(lms.tokenRequests.length - before, 2)
      // Two at once with nothing cached share one grant.
      const fresh = new ServiceTokens({ keys: s.services.ltiKeys })
      await Promise.all([fresh.token(platform, [SCOPE.score]), fresh.token(platform, [SCOPE.score])])
      assert.equal(lms.tokenRequests.length - before, 3)
      // Kept until a minute before it ends (the LMS gives an hour), then a new grant.
      let t = Date.now()
      const timed = new ServiceTokens({ keys: s.services.ltiKeys, now: () => t })
      const first = await timed.token(platform, [SCOPE.score])
      t += 3600_000 - 61_000
      assert.equal(await timed.token(platform, [SCOPE.score]), first)
      assert.equal(lms.tokenRequests.length - before, 4)
      t += 2_000
      assert.notEqual(await timed.token(platform, [SCOPE.score]), first)
      assert.equal(lms.tokenRequests.length - before, 5)
    })

    it('a refused grant is an error carrying the LMS’s own words, and is not cached', async () => {
      const tokens = new ServiceTokens({ keys: s.services.ltiKeys })
      await assert.rejects(tokens.token(platform, ['https://example.test/scope/not-offered']), (e: unknown) => {
        assert.ok(e instanceof LtiServiceError)
        assert.equal(e.status, 503)
        assert.equal(e.code, 'lti_service_unavailable')
        assert.match(e.message, /invalid_scope: scope not granted: https:\/\/example\.test\/scope\/not-offered/)
        return true
      })
      lms.failNext('token', 1, 401)
      await assert.rejects(tokens.token(platform, [SCOPE.score]), /refused .*server_error: a failure planned by the test \(token\)/)
      // The next call asks again and gets one.
      assert.ok(await tokens.token(platform, [SCOPE.score]))
      // An LMS that is not there.
      const gone = { ...platform, id: 'gone', tokenUrl: 'http://127.0.0.1:9/token' }
      await assert.rejects(tokens.token(gone, [SCOPE.score]), (e: unknown) => e instanceof LtiServiceError && /could not be reached/.test(e.message))
    })

    // ---- the roster (NRPS) --------------------------------------------------------------------

    it('pulls every page of a course roster, maps roles, keeps emails and statuses; a role filter asks for learners only', async () => {
      const { context } = await linkedAssignment()
      lms.members.set(context, [
        { user_id: 'r-ann', name: 'Ann Learner', email: 'ann@school.test', roles: [ROLE.learner] },
        { user_id: 'r-ben', given_name: 'Ben', family_name: 'Bright', roles: [ROLE.learner] },
        { user_id: 'r-cal', name: 'Cal Left', roles: [ROLE.learner], status: 'Inactive' },
        { user_id: 'r-dee', name: 'Dee Teacher', email: 'dee@school.test', roles: [ROLE.instructor] },
        { user_id: 'r-eve', name: 'Eve Assistant', roles: [ROLE.instructor, ROLE.ta] },
      ])
      const grants = lms.tokenRequests.length
      const got = await pullRoster(s.services, platform, { nrpsUrl: lms.membershipsUrl(context), contextId: context }, { limits: { pageSize: 2 } })
      assert.deepEqual(got, { members: 5, learners: 3, complete: true }, 'three pages of two')
      assert.ok(lms.tokenRequests.length - grants <= 1, 'one token for every page')
      const kept = new Map((await membersOf(s.db.sql, platform.id, context)).map((m) => [m.ltiSub, m]))
      assert.equal(kept.size, 5)
      assert.deepEqual(
        { ...kept.get('r-ann')!, updatedAt: undefined },
        { platformId: platform.id, contextId: context, ltiSub: 'r-ann', userId: `lti:${platform.id}:r-ann`, name: 'Ann Learner', email: 'ann@school.test', picture: null, role: 'learner', testUser: false, status: 'Active', source: 'roster', updatedAt: undefined },
      )
      assert.equal(kept.get('r-ben')!.name, 'Ben Bright')
      assert.equal(kept.get('r-cal')!.status, 'Inactive')
      assert.equal(kept.get('r-dee')!.role, 'instructor')
      assert.equal(kept.get('r-eve')!.role, 'instructor', 'a teaching assistant is an instructor (without ownership)')

      // Learners only, from another course: the others are not asked for, and those already known stay.
      const other = `${context}-b`
      lms.members.set(other, [
        { user_id: 'r-fay', name: 'Fay', roles: [ROLE.learner] },
        { user_id: 'r-gus', name: 'Gus', roles: [ROLE.instructor] },
      ])
      await upsertMembers(s.db.sql, [{ platformId: platform.id, contextId: other, ltiSub: 'r-old', userId: `lti:${platform.id}:r-old`, name: 'Old Friend', email: null, picture: null, role: 'learner', testUser: false, status: 'Active', source: 'launch' }])
      const filtered = await pullRoster(s.services, platform, { nrpsUrl: lms.membershipsUrl(other), contextId: other }, { role: 'Learner', limits: { pageSize: 1 } })
      assert.deepEqual(filtered, { members: 1, learners: 1, complete: true })
      assert.deepEqual((await membersOf(s.db.sql, platform.id, other)).map((m) => m.ltiSub).sort(), ['r-fay', 'r-old'])

      // A cap on pages: what came is kept, and the pull says it is not the whole course.
      const capped = await pullRoster(s.services, platform, { nrpsUrl: lms.membershipsUrl(context), contextId: context }, { limits: { pageSize: 2, pages: 1 } })
      assert.deepEqual(capped, { members: 2, learners: 2, complete: false })
    })

    it('the roster routes: instructors (and the host) only; 409 without an LMS roster; the LMS failing is a 503 in its words', async () => {
      const { aid, context, instructor } = await linkedAssignment()
      lms.members.set(context, [
        { user_id: 'x-ann', name: 'Ann', email: 'ann@school.test', roles: [ROLE.learner] },
        { user_id: 'x-dee', name: 'Dee', roles: [ROLE.instructor] },
      ])
      const learner = await lmsLearner(aid, context, 'x-ann', 'Ann')
      const refused = await s.api('POST', `/v1/assignments/${aid}/roster`, learner.token, {})
      assert.equal(refused.status, 403)
      assert.equal(refused.json.error.code, 'forbidden')
      const pulled = await s.api('POST', `/v1/assignments/${aid}/roster`, instructor, {})
      assert.equal(pulled.status, 200, JSON.stringify(pulled.json))
      assert.equal(pulled.json.members, 2)
      assert.equal(pulled.json.learners, 1)
      assert.ok(Date.parse(pulled.json.pulledAt) > 0)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/roster`, TEST_API_KEY, { role: 'Learner' })).json.members, 1)
      const bad = await s.api('POST', `/v1/assignments/${aid}/roster`, instructor, { role: 'Dean' })
      assert.equal(bad.status, 400)
      assert.match(bad.json.error.message, /role must be one of Learner, Instructor/)

      lms.failNext('nrps', 1, 500)
      const down = await s.api('POST', `/v1/assignments/${aid}/roster`, instructor, {})
      assert.equal(down.status, 503)
      assert.equal(down.json.error.code, 'lti_service_unavailable')
      assert.match(down.json.error.message, /HTTP 500: server_error: a failure planned by the test \(nrps\)/)

      // An assignment no LMS launched.
      const plain = await s.api('POST', '/v1/assignments', TEST_API_KEY, { id: `plain-${n}`, title: 'Plain', instructions: '', language: 'javascript', files: STARTER, ownerId: 'ins' })
      assert.equal(plain.status, 201)
      const none = await s.api('POST', `/v1/assignments/plain-${n}/roster`, await assignmentToken(`plain-${n}`, 'instructor', 'ins'), {})
      assert.equal(none.status, 409)
      assert.equal(none.json.error.code, 'lti_no_roster')

      // A live room launched from a course: its instructors pull that course's roster.
      const sid = `lti-room-${n}`
      assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Office hours', ownerId: 'ins' })).status, 201)
      const roomIns = await s.token(sid, 'instructor', 'ins')
      const roomLea = await s.token(sid, 'learner', 'lea')
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/roster`, roomIns, {})).json.error.code, 'lti_no_roster')
      await upsertLink(s.db.sql, { platformId: platform.id, deploymentId: lms.deploymentId, resourceLinkId: `room-${n}`, kind: 'room', sessionId: sid, assignmentId: null, contextId: context, contextTitle: 'CS 101', title: 'Office hours', nrpsUrl: lms.membershipsUrl(context), agsLineitems: null, agsLineitem: null, agsScopes: [] })
      const roomPull = await s.api('POST', `/v1/sessions/${sid}/roster`, roomIns, {})
      assert.equal(roomPull.status, 200, JSON.stringify(roomPull.json))
      assert.equal(roomPull.json.members, 2)
      const roomRefused = await s.api('POST', `/v1/sessions/${sid}/roster`, roomLea, {})
      assert.equal(roomRefused.status, 403)
      assert.equal(roomRefused.json.error.permission, 'INVITE_PARTICIPANTS')
    })

    it('the class overview lists rostered learners who have not opened the assignment, with their email, until they do', async () => {
      const { aid, context, instructor } = await linkedAssignment()
      lms.members.set(context, [
        { user_id: 'o-ann', name: 'Ann', email: 'ann@school.test', roles: [ROLE.learner] },
        { user_id: 'o-bob', name: 'Bob', roles: [ROLE.learner] },
        { user_id: 'o-cal', name: 'Cal', roles: [ROLE.learner], status: 'Inactive' },
        { user_id: 'o-dee', name: 'Dee', roles: [ROLE.instructor] },
        { user_id: 'o-view', name: 'Student View', roles: [ROLE.learner, 'http://purl.imsglobal.org/vocab/lti/system/person#TestUser'] },
      ])
      assert.deepEqual((await rooms(aid, instructor)).notOpened, [], 'nobody known yet')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/roster`, instructor, {})).status, 200)
      let list = await rooms(aid, instructor)
      assert.deepEqual(list.rooms, [])
      assert.deepEqual(list.notOpened, [
        { userId: ltiUserId(platform.id, 'o-ann'), name: 'Ann', email: 'ann@school.test' },
        { userId: ltiUserId(platform.id, 'o-bob'), name: 'Bob', email: null },
      ])
      // Ann opens it: she has a room now, and is no longer waiting.
      const ann = await assignmentToken(aid, 'learner', ltiUserId(platform.id, 'o-ann'), 'Ann')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/open`, ann)).status, 201)
      list = await rooms(aid, instructor)
      assert.deepEqual(list.rooms.map((r) => r.name), ['Ann'])
      assert.equal(list.rooms[0]!.grade, undefined, 'no grade before a submission')
      assert.deepEqual(list.notOpened?.map((m) => m.name), ['Bob'])
    })

    it('the class overview says whether the course roster can be pulled, and when it last was', async () => {
      const { aid, context, instructor } = await linkedAssignment()
      lms.members.set(context, [
        { user_id: 'q-ann', name: 'Ann', roles: [ROLE.learner] },
        { user_id: 'q-dee', name: 'Dee', roles: [ROLE.instructor] },
      ])
      assert.deepEqual((await rooms(aid, instructor)).roster, { available: true, pulledAt: null }, 'a link with the roster endpoint, never pulled')
      // A launch makes a learner known, but is not a pull.
      await lmsLearner(aid, context, 'q-bob', 'Bob')
      assert.equal((await rooms(aid, instructor)).roster?.pulledAt, null)
      const asked = Date.now()
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/roster`, instructor, {})).status, 200)
      const { roster, notOpened } = await rooms(aid, instructor)
      assert.equal(roster?.available, true)
      const at = Date.parse(roster?.pulledAt ?? '')
      assert.ok(at >= asked - 5_000 && at <= Date.now() + 5_000, `pulled just now (${roster?.pulledAt})`)
      assert.deepEqual(notOpened?.map((m) => m.name), ['Ann', 'Bob'])

      // No LMS link, or a link whose launch named no roster endpoint: nothing to pull.
      const plain = `plain-roster-${n}`
      assert.equal((await s.api('POST', '/v1/assignments', TEST_API_KEY, { id: plain, title: 'Plain', instructions: '', language: 'javascript', files: STARTER, ownerId: 'ins' })).status, 201)
      const plainIns = await assignmentToken(plain, 'instructor', 'ins')
      assert.deepEqual((await rooms(plain, plainIns)).roster, { available: false, pulledAt: null })
      await upsertLink(s.db.sql, { platformId: platform.id, deploymentId: lms.deploymentId, resourceLinkId: `rl-${plain}`, kind: 'assignment', sessionId: null, assignmentId: plain, contextId: context, contextTitle: 'CS 101', title: 'Plain', nrpsUrl: null, agsLineitems: null, agsLineitem: null, agsScopes: [] })
      assert.deepEqual((await rooms(plain, plainIns)).roster, { available: false, pulledAt: null }, 'the course was pulled through another link, but this one cannot')
    })

    // ---- grades (AGS) -------------------------------------------------------------------------

    it('a submission from an LMS learner: the server runs the tests and posts the score to the link’s line item', async () => {
      const { aid, context, lineItem, instructor } = await linkedAssignment()
      const grace = await lmsLearner(aid, context, 'u-grace', 'Grace')
      const opened = await s.api('POST', `/v1/assignments/${aid}/open`, grace.token)
      assert.equal(opened.status, 201)
      const scores = lms.scores.length
      const sub = await s.api('POST', `/v1/assignments/${aid}/submit`, grace.token)
      assert.equal(sub.status, 200, JSON.stringify(sub.json))
      const waiting = await getGrade(s.db.sql, aid, grace.userId)
      assert.equal(waiting?.status, 'waiting')
      assert.ok(waiting?.runId, 'a verified run was asked for')
      const listed = (await rooms(aid, instructor)).rooms[0]!.grade
      assert.ok(listed && (listed.status === 'waiting' || listed.status === 'sending' || listed.status === 'sent'))

      const sent = await gradeUntil(aid, grace.userId, (g) => g.status === 'sent', 'sent')
      assert.equal(sent.scoreGiven, 100)
      assert.equal(lms.scores.length, scores + 1)
      const { lineItem: to, score } = lms.scores.at(-1)!
      assert.equal(to, lineItem)
      assert.equal(score.userId, 'u-grace', 'the learner’s LMS id')
      assert.equal(score.scoreGiven, 100)
      assert.equal(score.scoreMaximum, 100)
      assert.equal(score.activityProgress, 'Submitted')
      assert.equal(score.gradingProgress, 'FullyGraded')
      assert.equal(score.comment, '2 of 2 tests passed', 'visible and hidden tests')
      assert.equal(score.timestamp, sent.submittedAt.toISOString())
      // The run is the server's, of the room's code: it is in the room's runs like any verified run.
      const run = (await s.api('GET', `/v1/sessions/${sub.json.sessionId}/runs/${sent.runId}`, opened.json.token)).json
      assert.equal(run.kind, 'tests')
      assert.equal(run.status, 'passed')

      const grade = (await rooms(aid, instructor)).rooms[0]!.grade
      assert.deepEqual({ ...grade, sentAt: undefined }, { status: 'sent', score: 100, scoreMaximum: 100, error: null, sentAt: undefined, retryAt: null })
      assert.ok(Date.parse(grade!.sentAt!) > 0)
    })

    it('a half-right submission scores 50; without a line item on the link one is found or made by the assignment’s id', async () => {
      const { aid, context } = await linkedAssignment({ lineItem: false })
      const items = lms.lineItems.size
      const ann = await lmsLearner(aid, context, 'h-ann', 'Ann')
      const sid = (await s.api('POST', `/v1/assignments/${aid}/open`, ann.token)).json.sessionId as string
      // Ann's code is wrong for large numbers: the visible test passes, the hidden one fails.
      const hub = await s.hub.room(sid)
      await hub!.setFiles({ ...hub!.currentText().files, 'main.js': 'function add(a, b) {\n  return a < 10 && b < 10 ? a + b : 0\n}\n' }, ann.userId)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, ann.token)).status, 200)
      const sent = await gradeUntil(aid, ann.userId, (g) => g.status === 'sent', 'sent')
      assert.equal(sent.scoreGiven, 50)
      assert.equal(lms.scores.at(-1)!.score.comment, '1 of 2 tests passed')
      assert.equal(lms.lineItems.size, items + 1, 'a line item was made')
      const made = lms.lineItems.get(sent.lineitem!)
      assert.equal(made.resourceId, aid)
      assert.equal(made.scoreMaximum, 100)
      assert.match(made.label, /^Week \d+: adding$/)
      assert.equal(lms.scores.at(-1)!.lineItem, sent.lineitem)

      // The next learner's score goes to the same line item.
      const bo = await lmsLearner(aid, context, 'h-bo', 'Bo')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/open`, bo.token)).status, 201)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, bo.token)).status, 200)
      const second = await gradeUntil(aid, bo.userId, (g) => g.status === 'sent', 'sent')
      assert.equal(second.lineitem, sent.lineitem)
      assert.equal(lms.lineItems.size, items + 1)
    })

    it('grades with the assignment’s own tests: a learner who rewrote or added test files in their room gains nothing', async () => {
      const { aid, context } = await linkedAssignment()
      const eve = await lmsLearner(aid, context, 'h-eve', 'Eve')
      const sid = (await s.api('POST', `/v1/assignments/${aid}/open`, eve.token)).json.sessionId as string
      const hub = await s.hub.room(sid)
      const files = hub!.currentText().files
      // Wrong code, its visible test rewritten to pass anything, and a test of her own.
      const rewritten = Object.fromEntries(Object.keys(VISIBLE).map((name) => [name, "test('always', () => expect(1).toBe(1))\n"]))
      await hub!.setFiles({ ...files, ...rewritten, 'mine.test.js': "test('mine', () => expect(true).toBe(true))\n", 'main.js': 'function add(a, b) {\n  return 0\n}\n' }, eve.userId)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, eve.token)).status, 200)
      const sent = await gradeUntil(aid, eve.userId, (g) => g.status === 'sent', 'sent')
      assert.equal(sent.scoreGiven, 0, 'the assignment’s visible and hidden tests both fail')
      assert.equal(lms.scores.at(-1)!.score.comment, '0 of 2 tests passed')
    })

    it('no score for a learner without an LMS identity, nor for an assignment without tests or a link without the score scope', async () => {
      const { aid, context } = await linkedAssignment()
      const scores = lms.scores.length
      const plain = await assignmentToken(aid, 'learner', 'lea-local', 'Lea')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/open`, plain)).status, 201)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, plain)).status, 200)
      assert.equal(await getGrade(s.db.sql, aid, 'lea-local'), undefined)

      const untested = await linkedAssignment({ tests: false })
      const una = await lmsLearner(untested.aid, untested.context, 'n-una', 'Una')
      assert.equal((await s.api('POST', `/v1/assignments/${untested.aid}/open`, una.token)).status, 201)
      assert.equal((await s.api('POST', `/v1/assignments/${untested.aid}/submit`, una.token)).status, 200)
      assert.equal(await getGrade(s.db.sql, untested.aid, una.userId), undefined)

      const readonly = await linkedAssignment({ scopes: [LTI_SCOPES.lineItemReadonly] })
      const ray = await lmsLearner(readonly.aid, readonly.context, 'n-ray', 'Ray')
      assert.equal((await s.api('POST', `/v1/assignments/${readonly.aid}/open`, ray.token)).status, 201)
      assert.equal((await s.api('POST', `/v1/assignments/${readonly.aid}/submit`, ray.token)).status, 200)
      assert.equal(await getGrade(s.db.sql, readonly.aid, ray.userId), undefined)

      // A learner of the LMS, but of another course than the one this assignment is linked from.
      const stranger = await lmsLearner(aid, `${context}-elsewhere`, 'n-sam', 'Sam')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/open`, stranger.token)).status, 201)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, stranger.token)).status, 200)
      assert.equal(await getGrade(s.db.sql, aid, stranger.userId), undefined)
      await s.services.ltiGrades.tick()
      assert.equal(lms.scores.length, scores)
    })

    it('a run the server cut short (a restart) is asked for again, never scored', async () => {
      const { aid, context } = await linkedAssignment()
      const max = await lmsLearner(aid, context, 'r-max', 'Max')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/open`, max.token)).status, 201)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, max.token)).status, 200)
      const waiting = (await getGrade(s.db.sql, aid, max.userId))!
      // As the server ends the runs it could not finish when it stops.
      await s.db.sql`update verified_runs set status = 'error', reason = ${RESTARTED}, tests_passed = 0, tests_failed = 0, finished_at = now() where id = ${waiting.runId}`
      const sent = await gradeUntil(aid, max.userId, (g) => g.status === 'sent', 'sent')
      assert.notEqual(sent.runId, waiting.runId, 'a new run')
      assert.equal(sent.scoreGiven, 100)
    })

    it('two instances working the outbox at once send each score once', async () => {
      const { aid, context, lineItem } = await linkedAssignment()
      const now = new Date(Date.now() + ahead)
      const subs = Array.from({ length: 12 }, (_, i) => `m-${i}`)
      for (const sub of subs) {
        const row = await putGrade(s.db.sql, { assignmentId: aid, userId: ltiUserId(platform.id, sub), platformId: platform.id, ltiSub: sub, lineitem: lineItem, lineitems: lms.lineItemsUrl(context), runId: null, submittedAt: now, lastError: null, nextAttemptAt: now })
        await updateGrade(s.db.sql, row, { status: 'sending', scoreGiven: 75, scoreMaximum: 100 }, now)
      }
      const outbox = () => new GradeOutbox({ sql: s.db.sql, runs: s.services.runs, tokens: new ServiceTokens({ keys: s.services.ltiKeys }), clock: s.services.clock, log: () => {} })
      const [a, b] = [outbox(), outbox()]
      const taken = await Promise.all([a.tick(), b.tick(), s.services.ltiGrades.tick()])
      // (The server's own timer may have taken a few first: what matters is each score once.)
      assert.ok(taken.reduce((x, y) => x + y) <= subs.length, `no row taken twice (${taken.join(' + ')})`)
      for (const sub of subs) {
        assert.equal((await getGrade(s.db.sql, aid, ltiUserId(platform.id, sub)))!.status, 'sent')
        assert.equal(lms.scores.filter((x) => x.score.userId === sub).length, 1, `${sub} sent once`)
      }
    })

    it('a failing gradebook is retried with backoff, and the instructor sees the failure, then the score sent', async () => {
      const { aid, context, instructor } = await linkedAssignment()
      const kim = await lmsLearner(aid, context, 'f-kim', 'Kim')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/open`, kim.token)).status, 201)
      lms.failNext('scores', 2, 503)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, kim.token)).status, 200)
      const first = await gradeUntil(aid, kim.userId, (g) => g.attempts === 1, 'a first failed send')
      assert.equal(first.status, 'sending')
      assert.match(first.lastError!, /HTTP 503: server_error: a failure planned by the test \(scores\)/)
      assert.ok(Math.abs(first.nextAttemptAt.getTime() - (Date.now() + ahead + RETRY_S[0]! * 1000)) < 5_000, 'tried again in 30 s')
      let grade = (await rooms(aid, instructor)).rooms[0]!.grade!
      assert.equal(grade.status, 'sending')
      assert.match(grade.error!, /HTTP 503/)
      assert.equal(grade.retryAt, first.nextAttemptAt.toISOString())
      assert.equal(grade.score, 100)

      // Not before its time.
      await s.services.ltiGrades.tick()
      assert.equal((await getGrade(s.db.sql, aid, kim.userId))!.attempts, 1)
      ahead += RETRY_S[0]! * 1000
      const second = await gradeUntil(aid, kim.userId, (g) => g.attempts === 2, 'a second failed send')
      assert.ok(Math.abs(second.nextAttemptAt.getTime() - (Date.now() + ahead + RETRY_S[1]! * 1000)) < 5_000, 'then in 2 minutes')
      ahead += RETRY_S[1]! * 1000
      const sent = await gradeUntil(aid, kim.userId, (g) => g.status === 'sent', 'sent at the third try')
      assert.equal(sent.lastError, null)
      grade = (await rooms(aid, instructor)).rooms[0]!.grade!
      assert.equal(grade.status, 'sent')
      assert.equal(grade.error, null)
      assert.equal(lms.scores.filter((x) => x.score.userId === 'f-kim').length, 1)
    })

    it('gives up after about a day of failures: failed, with the LMS’s reason, for the instructor to see', async () => {
      const { aid, context, instructor } = await linkedAssignment()
      const lou = await lmsLearner(aid, context, 'g-lou', 'Lou')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/open`, lou.token)).status, 201)
      lms.failNext('scores', 100, 500)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, lou.token)).status, 200)
      for (let i = 1; i <= RETRY_S.length; i++) {
        await gradeUntil(aid, lou.userId, (g) => g.attempts === i, `failed send ${i}`)
        ahead += RETRY_S[i - 1]! * 1000
      }
      const failed = await gradeUntil(aid, lou.userId, (g) => g.status === 'failed', 'given up')
      assert.equal(failed.attempts, RETRY_S.length + 1)
      assert.ok(RETRY_S.reduce((a, b) => a + b) > 20 * 3600 && RETRY_S.reduce((a, b) => a + b) < 26 * 3600, 'about a day')
      const grade = (await rooms(aid, instructor)).rooms[0]!.grade!
      assert.equal(grade.status, 'failed')
      assert.match(grade.error!, /HTTP 500: server_error/)
      assert.equal(grade.retryAt, null)
      lms.failNext('scores', 0)
    })
  })
}

describe('the scores URL of a line item', () => {
  it('adds /scores to the path and keeps the query', () => {
    assert.equal(scoresUrl('https://lms.test/api/lti/courses/1/line_items/7'), 'https://lms.test/api/lti/courses/1/line_items/7/scores')
    assert.equal(scoresUrl('https://lms.test/mod/lti/services.php/2/lineitems/5/lineitem?type_id=3'), 'https://lms.test/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=3')
  })
})
