import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Role } from '@session-kit/core'
import { mintToken } from '../auth/tokens.js'
import { decideStarter } from '../sync/starter-updates.js'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const FINAL = new Set(['passed', 'failed', 'error', 'timeout'])

/** A token for an assignment (no session), as a host signs it. */
const assignmentToken = (aid: string, role: Role, user: string, name = `${role} ${user}`) => mintToken({ sub: user, name, role, assignment: aid }, TEST_SECRET, { ttl: '1h' })

const STARTER = { 'main.js': 'function add(a, b) {\n  return a + b\n}\n' }
const VISIBLE = { 'main.test.js': "test('adds small numbers', () => expect(add(1, 2)).toBe(3))\n" }
const SECRET = 'zebra-hidden-case'
const HIDDEN = { 'hidden.test.js': `// ${SECRET}\ntest('${SECRET}', () => expect(add(20, 22)).toBe(42))\n` }

let made = 0

describe('starter updates decide per file', () => {
  it('pushes into files left as they were got, offers where the learner changed them, never deletes the last file', () => {
    const got = { 'a.js': 'a1', 'b.js': 'b1', 'gone.js': 'g' }
    const d = decideStarter({ 'a.js': 'a1', 'b.js': 'mine', 'gone.js': 'g' }, got, { 'a.js': 'a2', 'b.js': 'b2', 'new.js': 'n' })
    assert.deepEqual(d.files, { 'a.js': 'a2', 'b.js': 'mine', 'new.js': 'n' })
    assert.deepEqual(d.offer, { 'b.js': 'b2' })
    assert.deepEqual(d.starter, { 'a.js': 'a2', 'b.js': 'b1', 'new.js': 'n' })
    assert.equal(d.changed, true)
    assert.deepEqual(decideStarter({ 'a.js': 'a1' }, { 'a.js': 'a1' }, { 'b.js': 'b' }).files, { 'a.js': 'a1', 'b.js': 'b' })
    assert.deepEqual(decideStarter({ 'a.js': 'a1' }, { 'a.js': 'a1' }, {}).files, { 'a.js': 'a1' }, 'the last file stays')
  })
})

for (const backend of [oneBackend()]) {
  describe(`assignments on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    /** A new assignment owned by `owner`, made with the API key; its id and tokens for its people. */
    async function assignment(extra: Record<string, unknown> = {}) {
      const aid = `hw-${++made}-${Date.now().toString(36)}`
      const res = await s.api('POST', '/v1/assignments', TEST_API_KEY, {
        id: aid,
        title: 'Adding numbers',
        instructions: '# Add\nWrite `add`.',
        language: 'javascript',
        files: STARTER,
        tests: { visible: VISIBLE, hidden: HIDDEN },
        ownerId: 'owner',
        ...extra,
      })
      assert.equal(res.status, 201, JSON.stringify(res.json))
      return {
        aid,
        ins: await assignmentToken(aid, 'instructor', 'ins2', 'Ada'),
        owner: await assignmentToken(aid, 'instructor', 'owner', 'Olive'),
        lea: await assignmentToken(aid, 'learner', 'grace', 'Grace'),
        lea2: await assignmentToken(aid, 'learner', 'linus', 'Linus'),
        obs: await assignmentToken(aid, 'observer', 'obs', 'Otto'),
      }
    }

    async function open(aid: string, token: string) {
      const res = await s.api('POST', `/v1/assignments/${aid}/open`, token)
      assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.json))
      return res.json as { sessionId: string; token: string; role: string; created: boolean }
    }

    it('is created, listed, read, changed and closed', async () => {
      const { aid, ins, lea, obs } = await assignment({ dueAt: '2030-01-01T09:00:00Z', submitPolicy: 'lock' })
      const got = await s.api('GET', `/v1/assignments/${aid}`, ins)
      assert.equal(got.status, 200)
      assert.equal(got.json.title, 'Adding numbers')
      assert.equal(got.json.dueAt, '2030-01-01T09:00:00.000Z')
      assert.equal(got.json.submitPolicy, 'lock')
      assert.deepEqual(got.json.files, STARTER)
      assert.deepEqual(got.json.tests, { visible: VISIBLE, hidden: HIDDEN }, 'instructors see the hidden tests')
      assert.equal(got.json.ownerId, 'owner')
      assert.equal((await s.api('GET', `/v1/assignments/${aid}`, obs)).json.tests.hidden, undefined, 'observers do not')

      const listed = await s.api('GET', '/v1/assignments?limit=200', TEST_API_KEY)
      assert.ok(listed.json.assignments.some((a: { id: string }) => a.id === aid))
      assert.deepEqual((await s.api('GET', '/v1/assignments', ins)).json.assignments.map((a: { id: string }) => a.id), [aid], 'an instructor’s token lists its assignment')
      assert.equal((await s.api('GET', '/v1/assignments', lea)).status, 403)

      const patched = await s.api('PATCH', `/v1/assignments/${aid}`, ins, { title: 'Adding', dueAt: null })
      assert.equal(patched.status, 200, JSON.stringify(patched.json))
      assert.equal(patched.json.title, 'Adding')
      assert.equal(patched.json.dueAt, null)
      assert.equal((await s.api('PATCH', `/v1/assignments/${aid}`, lea, { title: 'Mine now' })).status, 403)

      // An instructor's token for a new assignment creates it, and owns its rooms.
      const fresh = `own-${aid}`
      const byToken = await s.api('POST', '/v1/assignments', await assignmentToken(fresh, 'instructor', 'ada'), { title: 'Own', instructions: '', language: 'python', files: { 'main.py': '' } })
      assert.equal(byToken.status, 201, JSON.stringify(byToken.json))
      assert.equal(byToken.json.id, fresh)
      assert.equal(byToken.json.ownerId, 'ada')
      assert.equal((await s.api('POST', '/v1/assignments', await assignmentToken(fresh, 'instructor', 'ada'), { title: 'Again', instructions: '', language: 'python', files: { 'main.py': '' } })).status, 409)

      const closed = await s.api('POST', `/v1/assignments/${aid}/close`, ins)
      assert.equal(closed.json.closed, true)
      const refused = await s.api('POST', `/v1/assignments/${aid}/open`, lea)
      assert.equal(refused.status, 409)
      assert.equal(refused.json.error.code, 'assignment_closed')
      assert.match(refused.json.error.message, /closed/)
      assert.equal((await s.api('PATCH', `/v1/assignments/${aid}`, ins, { closed: false })).json.closed, false)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/open`, lea)).status, 201, 'reopened, it takes work again')
    })

    it('a learner’s first open makes their room from the starter files, once, even when two opens race', async () => {
      const { aid, lea } = await assignment()
      const [a, b] = await Promise.all([s.api('POST', `/v1/assignments/${aid}/open`, lea), s.api('POST', `/v1/assignments/${aid}/open`, lea)])
      assert.deepEqual([a.status, b.status].sort(), [200, 201], 'one open made the room')
      assert.equal(a.json.sessionId, b.json.sessionId)
      const rooms = await s.db.sql`select session_id from assignment_rooms where assignment_id = ${aid}`
      assert.equal(rooms.length, 1)
      const sessions = await s.db.sql`select id from sessions where id like ${aid + '.%'}`
      assert.equal(sessions.length, 1, 'exactly one session was made')

      const doc = await s.api('GET', `/v1/sessions/${a.json.sessionId}/document`, a.json.token)
      assert.equal(doc.status, 200)
      assert.deepEqual(doc.json.files, { ...STARTER, ...VISIBLE })
      const again = await open(aid, lea)
      assert.equal(again.sessionId, a.json.sessionId)
      assert.equal(again.created, false)
      const mine = await s.api('GET', `/v1/assignments/${aid}`, lea)
      assert.equal(mine.json.you.sessionId, a.json.sessionId)
      // The room token renews like a guest's, still naming the assignment.
      const fresh = await s.api('POST', '/v1/tokens/refresh', a.json.token)
      assert.equal(fresh.status, 200, JSON.stringify(fresh.json))
      const claims = JSON.parse(Buffer.from(fresh.json.token.split('.')[1], 'base64url').toString())
      assert.deepEqual([claims.sid, claims.assignment, claims.role, claims.sub], [a.json.sessionId, aid, 'learner', 'grace'])
    })

    it('the learner edits their room but does not own it; every instructor of the assignment is an instructor there; no other learner gets in', async () => {
      const { aid, lea, lea2, ins, obs } = await assignment()
      const room = await open(aid, lea)
      const view = await s.api('GET', `/v1/sessions/${room.sessionId}`, room.token)
      assert.equal(view.json.you.role, 'learner')
      assert.equal(view.json.you.owner, false)
      assert.ok(view.json.you.permissions.includes('EDIT_CODE'))
      assert.equal(view.json.ownerId, 'owner', 'the assignment’s owner owns every room')
      const c = await RawClient.connect(s.url, room.sessionId, room.token)
      assert.ok(await c.waitFor(() => c.text('main.js') !== undefined), 'the learner synced')
      c.type('main.js', 0, '// mine\n')
      assert.ok(await c.waitFor(() => c.acked.size > 0), 'the learner’s edit was accepted')
      c.close()

      const asIns = await s.api('POST', `/v1/assignments/${aid}/rooms/grace/open`, ins)
      assert.equal(asIns.status, 200, JSON.stringify(asIns.json))
      assert.equal(asIns.json.sessionId, room.sessionId)
      const insView = await s.api('GET', `/v1/sessions/${room.sessionId}`, asIns.json.token)
      assert.equal(insView.json.you.role, 'instructor')
      assert.equal(insView.json.you.owner, false)
      assert.equal((await s.api('GET', `/v1/sessions/${room.sessionId}/hidden-files`, asIns.json.token)).status, 200, 'an instructor manages the room’s hidden tests')

      // Another learner: their own room, never this one.
      const theirs = await open(aid, lea2)
      assert.notEqual(theirs.sessionId, room.sessionId)
      assert.equal((await s.api('GET', `/v1/sessions/${room.sessionId}/document`, theirs.token)).status, 401)
      assert.equal((await s.api('GET', `/v1/sessions/${room.sessionId}/document`, lea2)).status, 401, 'an assignment token is no room token')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/rooms/grace/open`, lea2)).status, 403)
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/rooms/grace/open`, obs)).status, 403)
      assert.equal((await s.api('GET', `/v1/assignments/${aid}/rooms`, lea2)).status, 403)
      const sneak = await RawClient.connect(s.url, room.sessionId, theirs.token, { sync: false })
      assert.ok(await sneak.waitFor(() => sneak.closed !== null), 'a socket with another room’s token is closed')
      assert.equal(sneak.closed!.code, 4401)
      // An instructor of another assignment gets nowhere either.
      const other = await assignment()
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/rooms/grace/open`, other.ins)).status, 401)
    })

    it('hidden tests reach no learner, and a verified tests run runs them', async () => {
      const { aid, lea, ins } = await assignment()
      const room = await open(aid, lea)
      const base = `/v1/sessions/${room.sessionId}`
      const asked = await s.api('POST', `${base}/runs`, room.token, { kind: 'tests' })
      assert.equal(asked.status, 202, JSON.stringify(asked.json))
      let run: any
      for (let i = 0; i < 600; i++) {
        run = (await s.api('GET', `${base}/runs/${asked.json.id}`, room.token)).json
        if (FINAL.has(run.status)) break
        await sleep(100)
      }
      assert.equal(run.status, 'passed', JSON.stringify(run))
      assert.equal(run.tests.length, 2, 'the visible test and the hidden one ran')
      assert.ok(run.tests.some((t: { hidden?: boolean }) => t.hidden), 'one came from the hidden tests')
      const asIns = (await s.api('POST', `/v1/assignments/${aid}/rooms/grace/open`, ins)).json.token
      const insRun = (await s.api('GET', `${base}/runs/${asked.json.id}`, asIns)).json
      assert.ok(insRun.tests.some((t: { name: string }) => t.name.includes(SECRET)), 'instructors see the hidden test by name')

      const snap = await s.api('POST', `${base}/snapshots`, room.token, { title: 'Mine' })
      assert.equal(snap.status, 201)
      const c = await RawClient.connect(s.url, room.sessionId, room.token)
      assert.ok(await c.waitFor(() => c.text('main.js') !== undefined), 'the learner synced')
      assert.ok(!JSON.stringify(c.doc).includes(SECRET), 'not in the document the learner holds')
      c.close()
      const paths = [
        `/v1/assignments/${aid}`,
        `/v1/assignments/${aid}/updates`,
        `/v1/assignments/${aid}/rooms`,
        base,
        `${base}/document`,
        `${base}/runs`,
        `${base}/runs/${asked.json.id}`,
        `${base}/snapshots`,
        `${base}/snapshots/${snap.json.id}`,
        `${base}/snapshots/${snap.json.id}/export`,
        `${base}/hidden-files`,
        `${base}/hidden-files/hidden.test.js`,
        `${base}/analytics/me`,
        `${base}/analytics/export`,
        `${base}/recordings`,
      ]
      for (const token of [lea, room.token]) {
        for (const path of paths) {
          const res = await fetch(s.url + path, { headers: { authorization: `Bearer ${token}` } })
          const text = await res.text()
          assert.ok(!text.includes(SECRET) && !text.includes('hidden.test.js'), `${path} (${res.status}) shows a learner nothing of the hidden tests`)
        }
      }
      const hiddenFiles = await s.api('GET', `${base}/hidden-files/hidden.test.js`, asIns)
      assert.equal(hiddenFiles.json.text, HIDDEN['hidden.test.js'], 'installed as the room’s hidden test file')
      // New hidden tests replace every room's at once; none leaves none.
      await s.api('PATCH', `/v1/assignments/${aid}`, ins, { tests: { hidden: { 'other.test.js': "test('o', () => {})\n" } } })
      assert.deepEqual((await s.api('GET', `${base}/hidden-files`, asIns)).json.files.map((f: { name: string }) => f.name), ['other.test.js'])
      await s.api('PATCH', `/v1/assignments/${aid}`, ins, { tests: { hidden: {} } })
      assert.deepEqual((await s.api('GET', `${base}/hidden-files`, asIns)).json.files, [])
    })

    it('submitting records the time; under "lock" the learner can no longer edit', async () => {
      const { aid, lea, lea2 } = await assignment({ submitPolicy: 'lock' })
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, lea)).json.error.code, 'room_not_opened')
      const room = await open(aid, lea)
      const c = await RawClient.connect(s.url, room.sessionId, room.token)
      assert.ok(await c.waitFor(() => c.text('main.js') !== undefined), 'the learner synced')
      const before = Date.now()
      const sub = await s.api('POST', `/v1/assignments/${aid}/submit`, lea)
      assert.equal(sub.status, 200, JSON.stringify(sub.json))
      assert.equal(sub.json.locked, true)
      assert.ok(Date.parse(sub.json.submittedAt) >= before - 1000)
      assert.ok(await c.waitFor(() => c.events.some((e) => e.type === 'permissions' && e.session.editingLocked === true && !e.permissions.includes('EDIT_CODE'))), 'the room was told at once')
      c.close()
      // A socket that writes anyway is refused.
      const w = await RawClient.connect(s.url, room.sessionId, room.token)
      assert.ok(await w.waitFor(() => w.text('main.js') !== undefined), 'the learner can still read their room')
      w.type('main.js', 0, 'late edit ')
      assert.ok(await w.waitFor(() => w.closed !== null), 'the write was refused')
      assert.equal(w.closed!.code, 4003)
      assert.equal(w.acked.size, 0)
      assert.equal((await s.api('GET', `/v1/sessions/${room.sessionId}`, room.token)).json.you.permissions.includes('EDIT_CODE'), false)
      const doc = await s.api('GET', `/v1/sessions/${room.sessionId}/document`, room.token)
      assert.ok(!doc.json.files['main.js'].includes('late edit'))
      assert.equal((await s.api('GET', `/v1/assignments/${aid}`, lea)).json.you.submittedAt, sub.json.submittedAt)

      // Keep-editing: submitted, still editing. Closed: no more submissions.
      const keep = await assignment()
      const keepRoom = await open(keep.aid, keep.lea)
      assert.equal((await s.api('POST', `/v1/assignments/${keep.aid}/submit`, keep.lea)).json.locked, false)
      const k = await RawClient.connect(s.url, keepRoom.sessionId, keepRoom.token)
      assert.ok(await k.waitFor(() => k.text('main.js') !== undefined))
      k.type('main.js', 0, '// more\n')
      assert.ok(await k.waitFor(() => k.acked.size > 0), 'still editing after submitting')
      k.close()
      await open(aid, lea2)
      await s.api('POST', `/v1/assignments/${aid}/close`, TEST_API_KEY)
      const late = await s.api('POST', `/v1/assignments/${aid}/submit`, lea2)
      assert.equal(late.status, 409)
      assert.equal(late.json.error.code, 'assignment_closed')
    })

    it('starter changes go into rooms left as they were, are offered to the others, and are taken on request', async () => {
      const { aid, lea, lea2, ins } = await assignment()
      const untouched = await open(aid, lea)
      const changed = await open(aid, lea2)
      const c = await RawClient.connect(s.url, changed.sessionId, changed.token)
      assert.ok(await c.waitFor(() => c.text('main.js') !== undefined))
      c.type('main.js', 0, '// my work\n')
      assert.ok(await c.waitFor(() => c.acked.size > 0))

      const next = { 'main.js': 'function add(a, b) {\n  // your code here\n}\n', 'README.md': 'Read me' }
      const patched = await s.api('PATCH', `/v1/assignments/${aid}`, ins, { files: next })
      assert.equal(patched.status, 200, JSON.stringify(patched.json))

      const plain = await s.api('GET', `/v1/sessions/${untouched.sessionId}/document`, untouched.token)
      assert.deepEqual(plain.json.files, { ...next, ...VISIBLE }, 'the untouched room took the change')
      assert.deepEqual((await s.api('GET', `/v1/assignments/${aid}/updates`, lea)).json.updates, [])

      const theirs = await s.api('GET', `/v1/sessions/${changed.sessionId}/document`, changed.token)
      assert.ok(theirs.json.files['main.js'].startsWith('// my work'), 'the learner’s work stays')
      assert.equal(theirs.json.files['README.md'], 'Read me', 'a new starter file is added')
      const offers = await s.api('GET', `/v1/assignments/${aid}/updates`, lea2)
      assert.equal(offers.json.updates.length, 1)
      assert.equal(offers.json.updates[0].file, 'main.js')
      assert.ok(offers.json.updates[0].yours.startsWith('// my work'))
      assert.equal(offers.json.updates[0].starter, next['main.js'])
      assert.equal((await s.api('GET', `/v1/assignments/${aid}`, lea2)).json.you.pendingUpdates, 1)

      assert.equal((await s.api('POST', `/v1/assignments/${aid}/updates/accept`, lea2, { file: 'nope.js' })).status, 404)
      const accepted = await s.api('POST', `/v1/assignments/${aid}/updates/accept`, lea2, { file: 'main.js' })
      assert.equal(accepted.status, 200, JSON.stringify(accepted.json))
      assert.deepEqual(accepted.json.updates, [])
      assert.ok(await c.waitFor(() => c.text('main.js') === next['main.js']), 'the learner’s editor has the new starter')
      c.close()
    })

    it('lists every learner’s room with its status, and the assignment’s analytics', async () => {
      const { aid, lea, lea2, ins } = await assignment()
      const a = await open(aid, lea)
      await open(aid, lea2)
      const asked = await s.api('POST', `/v1/sessions/${a.sessionId}/runs`, a.token, { kind: 'tests' })
      for (let i = 0; i < 600; i++) {
        if (FINAL.has((await s.api('GET', `/v1/sessions/${a.sessionId}/runs/${asked.json.id}`, a.token)).json.status)) break
        await sleep(100)
      }
      const c = await RawClient.connect(s.url, a.sessionId, a.token)
      assert.ok(await c.waitFor(() => c.text('main.js') !== undefined))
      c.send({ type: 'hand', raised: true, question: 'Is 42 right?' })
      assert.ok(await c.waitFor(() => c.events.some((e) => e.type === 'lecture' && e.lecture.handCount === 1)))
      await s.api('POST', `/v1/assignments/${aid}/submit`, lea)

      const listed = await s.api('GET', `/v1/assignments/${aid}/rooms`, ins)
      assert.equal(listed.status, 200, JSON.stringify(listed.json))
      const grace = listed.json.rooms.find((r: { userId: string }) => r.userId === 'grace')
      const linus = listed.json.rooms.find((r: { userId: string }) => r.userId === 'linus')
      assert.equal(grace.name, 'Grace')
      assert.equal(grace.sessionId, a.sessionId)
      assert.equal(grace.online, true)
      assert.equal(typeof grace.submittedAt, 'string')
      assert.deepEqual([grace.tests.passed, grace.tests.failed, grace.tests.status], [2, 0, 'passed'])
      assert.equal(grace.hand.question, 'Is 42 right?')
      assert.equal(typeof grace.lastActivityAt, 'string')
      assert.deepEqual([linus.online, linus.submittedAt, linus.tests, linus.hand], [false, null, null, null])
      c.close()

      const stats = await s.api('GET', `/v1/assignments/${aid}/analytics`, ins)
      assert.equal(stats.status, 200, JSON.stringify(stats.json))
      assert.deepEqual(stats.json.summary, { learners: 2, submitted: 1, ranTests: 1, allPassing: 1 })
      const g = stats.json.learners.find((l: { userId: string }) => l.userId === 'grace')
      assert.equal(g.runs, 1)
      assert.equal(typeof g.secondsToFirstRun, 'number')
      assert.deepEqual(g.tests.map((t: { passed: number; failed: number }) => [t.passed, t.failed]), [[2, 0]])
      const anon = await s.api('GET', `/v1/assignments/${aid}/analytics?anonymize=1`, ins)
      assert.equal(anon.json.anonymized, true)
      assert.ok(!JSON.stringify(anon.json).includes('grace') && !JSON.stringify(anon.json).includes('Grace'), 'no names or ids when anonymized')
      const csv = await fetch(`${s.url}/v1/assignments/${aid}/analytics?format=csv&anonymize=1`, { headers: { authorization: `Bearer ${ins}` } })
      assert.equal(csv.status, 200)
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/)
      assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="assignment-.+-anonymized-.+\.csv"/)
      const lines = (await csv.text()).trim().split('\r\n')
      assert.equal(lines[0], 'userId,name,startedAt,secondsToFirstRun,runs,testRuns,lastPassed,lastFailed,submittedAt')
      assert.equal(lines.length, 3, 'a row per learner')
      assert.ok(lines.some((l) => /^participant-\d+,Participant \d+,.+,1,1,2,0,\d{4}-/.test(l)), lines.join('\n'))
      assert.ok(!lines.join('').toLowerCase().includes('grace'))
      assert.equal((await s.api('GET', `/v1/assignments/${aid}/analytics`, lea)).status, 403)
    })

    it('leaves a test user (an LMS’s student view) out of the analytics unless asked for; their room stays listed and openable', async () => {
      const { aid, lea, ins } = await assignment()
      const test = await mintToken({ sub: 'ada-sv', name: 'Ada Student', role: 'learner', assignment: aid, test: true }, TEST_SECRET, { ttl: '1h' })
      await open(aid, lea)
      const room = await open(aid, test)
      const claims = JSON.parse(Buffer.from(room.token.split('.')[1]!, 'base64url').toString())
      assert.equal(claims.test, true, 'the room token keeps the mark')
      // The test user joins their room, edits and submits.
      const c = await RawClient.connect(s.url, room.sessionId, room.token)
      assert.ok(await c.waitFor(() => c.text('main.js') !== undefined), 'the test user synced')
      c.type('main.js', 0, '// trying it out\n')
      assert.ok(await c.waitFor(() => c.acked.size === 1), 'saved')
      assert.equal((await s.api('POST', `/v1/assignments/${aid}/submit`, test)).status, 200)
      c.close()

      const stats = (q = '') => s.api('GET', `/v1/assignments/${aid}/analytics${q}`, ins)
      const plain = await stats()
      assert.equal(plain.status, 200, JSON.stringify(plain.json))
      assert.deepEqual(plain.json.summary, { learners: 1, submitted: 0, ranTests: 0, allPassing: 0 })
      assert.deepEqual(plain.json.learners.map((l: { userId: string }) => l.userId), ['grace'])
      assert.ok(!JSON.stringify(plain.json).includes('ada-sv'))

      const all = await stats('?includeTestUsers=true')
      assert.deepEqual(all.json.summary, { learners: 2, submitted: 1, ranTests: 0, allPassing: 0 })
      assert.deepEqual(
        all.json.learners.map((l: { userId: string; testUser?: boolean; submittedAt: string | null }) => [l.userId, l.testUser, l.submittedAt !== null]),
        [
          ['grace', undefined, false],
          ['ada-sv', true, true],
        ],
      )
      assert.equal('testUser' in all.json.learners[0], false, 'only the test user’s row carries the mark')
      // Pseudonyms number every room: Grace is Participant 1 either way.
      assert.deepEqual((await stats('?anonymize=1')).json.learners.map((l: { name: string }) => l.name), ['Participant 1'])
      assert.deepEqual((await stats('?anonymize=1&includeTestUsers=1')).json.learners.map((l: { name: string }) => l.name), ['Participant 1', 'Participant 2'])

      const csv = async (q: string) => (await (await fetch(`${s.url}/v1/assignments/${aid}/analytics?format=csv${q}`, { headers: { authorization: `Bearer ${ins}` } })).text()).trim().split('\r\n')
      const lines = await csv('')
      assert.equal(lines[0], 'userId,name,startedAt,secondsToFirstRun,runs,testRuns,lastPassed,lastFailed,submittedAt')
      assert.equal(lines.length, 2, 'a row for Grace only')
      const withTest = await csv('&includeTestUsers=true')
      assert.equal(withTest[0], 'userId,name,startedAt,secondsToFirstRun,runs,testRuns,lastPassed,lastFailed,submittedAt,testUser')
      assert.deepEqual(withTest.slice(1).map((l) => [l.split(',')[0], l.split(',').at(-1)]), [
        ['grace', 'false'],
        ['ada-sv', 'true'],
      ])
      assert.equal((await stats('?includeTestUsers=yes')).status, 400)

      // The rooms: every one listed (the test user's marked, never "needing attention"), and openable.
      const listed = await s.api('GET', `/v1/assignments/${aid}/rooms`, ins)
      assert.deepEqual(
        listed.json.rooms.map((r: { userId: string; testUser?: boolean; attention: string[] }) => [r.userId, r.testUser, r.attention]),
        [
          ['grace', undefined, []],
          ['ada-sv', true, []],
        ],
      )
      const into = await s.api('POST', `/v1/assignments/${aid}/rooms/ada-sv/open`, ins)
      assert.equal(into.status, 200, JSON.stringify(into.json))
      assert.equal(into.json.sessionId, room.sessionId)
    })

    it('deleting a learner’s room, or the whole assignment, leaves no rows behind', async () => {
      const { aid, lea, lea2, ins } = await assignment()
      const a = await open(aid, lea)
      const b = await open(aid, lea2)
      await s.api('PATCH', `/v1/assignments/${aid}`, ins, { files: { 'main.js': 'changed' } })
      const count = async (sid: string) => {
        const [row] = await s.db.sql<{ n: number }[]>`
          select (select count(*) from sessions where id = ${sid}) + (select count(*) from assignment_rooms where session_id = ${sid})
            + (select count(*) from hidden_files where session_id = ${sid}) + (select count(*) from documents where session_id = ${sid}) as n`
        return Number(row!.n)
      }
      assert.ok((await count(a.sessionId)) > 0)
      assert.equal((await s.api('DELETE', `/v1/sessions/${a.sessionId}`, TEST_API_KEY)).status, 204)
      assert.equal(await count(a.sessionId), 0)
      assert.equal((await s.api('GET', `/v1/assignments/${aid}`, lea)).json.you.sessionId, null, 'the learner can start afresh')

      assert.equal((await s.api('DELETE', `/v1/assignments/${aid}`, ins)).status, 403, 'only the host deletes an assignment')
      assert.equal((await s.api('DELETE', `/v1/assignments/${aid}`, TEST_API_KEY)).status, 204)
      assert.equal(await count(b.sessionId), 0)
      const [left] = await s.db.sql<{ n: number }[]>`
        select (select count(*) from assignments where id = ${aid}) + (select count(*) from assignment_rooms where assignment_id = ${aid})
          + (select count(*) from assignment_updates where assignment_id = ${aid}) as n`
      assert.equal(Number(left!.n), 0)
      assert.equal((await s.api('GET', `/v1/assignments/${aid}`, lea)).status, 404)
    })
  })
}
