import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  AnalyticsResponseSchema,
  AssignmentAnalyticsSchema,
  AssignmentListSchema,
  AssignmentOpenedSchema,
  AssignmentRoomListSchema,
  AssignmentSchema,
  AssignmentSubmittedSchema,
  AssignmentUpdateListSchema,
  BulkInvitationSchema,
  ChatPageSchema,
  DocumentTextSchema,
  ErrorBodySchema,
  HiddenFileInfoSchema,
  HiddenFileListSchema,
  HiddenFileSchema,
  InvitationAcceptedSchema,
  InvitationDeclinedSchema,
  InvitationInfoSchema,
  InvitationListSchema,
  InvitationSchema,
  IssuedInvitationSchema,
  OwnActivitySchema,
  parseApi,
  ParticipantEntrySchema,
  ParticipantListSchema,
  RecordingEntrySchema,
  RecordingListSchema,
  RunQueuedSchema,
  SessionEntrySchema,
  SessionListSchema,
  SessionViewSchema,
  SnapshotInfoSchema,
  SnapshotListSchema,
  SnapshotRestoredSchema,
  SnapshotSchema,
  TokenRefreshedSchema,
  VerifiedRunListSchema,
  VerifiedRunSchema,
  type ApiSchema,
} from '@session-kit/core/api'
import { mintToken } from '../auth/tokens.js'
import { oneBackend } from '../testing/db.js'
import { RawClient } from '../testing/client.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'

/** Every response body the elements read, from a real server, against its schema in core. */
for (const backend of [oneBackend()]) {
  describe(`the HTTP responses keep core's contract on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    /** The answer's body, after checking its status, parsed with the schema (which throws naming the field). */
    async function call<S extends ApiSchema>(schema: S, status: number, method: string, path: string, token?: string, body?: unknown, headers?: Record<string, string>) {
      const r = await s.api(method, path, token, body, headers)
      assert.equal(r.status, status, `${method} ${path} → ${r.status} ${JSON.stringify(r.json)}`)
      return parseApi(schema, r.json)
    }

    it('sessions, the document, participants and chat', async () => {
      const id = `contract-${Date.now().toString(36)}`
      const host = { authorization: `Bearer ${TEST_API_KEY}` }
      const created = await call(SessionEntrySchema, 201, 'POST', '/v1/sessions', undefined, { id, title: 'Contract', ownerId: 'ins' }, host)
      assert.equal(created.id, id)
      const list = await call(SessionListSchema, 200, 'GET', '/v1/sessions?limit=200', undefined, undefined, host)
      assert.ok(list.sessions.some((x) => x.id === id))

      const ins = await s.token(id, 'instructor', 'ins', { name: 'Ada' })
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea', { name: 'Grace' }))
      assert.ok(await lea.waitFor(() => lea.text() !== undefined), 'the learner joined')
      lea.send({ type: 'chat', text: 'hello' })
      assert.ok(await lea.waitFor(() => lea.events.some((e) => e.type === 'chat')), 'the chat message was stored')

      const view = await call(SessionViewSchema, 200, 'GET', `/v1/sessions/${id}`, ins)
      assert.equal(view.you.role, 'instructor')
      await call(DocumentTextSchema, 200, 'GET', `/v1/sessions/${id}/document`, ins)
      const people = await call(ParticipantListSchema, 200, 'GET', `/v1/sessions/${id}/participants`, ins)
      assert.ok(people.participants.some((p) => p.userId === 'lea' && p.online && typeof p.lastSeenAt === 'string'))
      const muted = await call(ParticipantEntrySchema, 200, 'POST', `/v1/sessions/${id}/participants/lea/mute`, ins)
      assert.equal(muted.muted, true)
      const chat = await call(ChatPageSchema, 200, 'GET', `/v1/sessions/${id}/chat`, ins)
      assert.equal(chat.messages[0]?.text, 'hello')

      const refused = await call(ErrorBodySchema, 403, 'POST', `/v1/sessions/${id}/lock`, await s.token(id, 'learner', 'lea', { name: 'Grace' }))
      assert.equal(refused.error.code, 'forbidden')
      lea.close()
    })

    it('invitations, from the instructor’s list to the guest’s refreshed token', async () => {
      const id = `contract-inv-${Date.now().toString(36)}`
      await s.api('POST', '/v1/sessions', undefined, { id, title: 'Invitations', ownerId: 'ins' }, { authorization: `Bearer ${TEST_API_KEY}` })
      const ins = await s.token(id, 'instructor', 'ins', { name: 'Ada' })
      const one = await call(IssuedInvitationSchema, 201, 'POST', `/v1/sessions/${id}/invitations`, ins, { email: 'grace@example.edu', role: 'learner' })
      const bulk = await call(BulkInvitationSchema, 201, 'POST', `/v1/sessions/${id}/invitations`, ins, { emails: 'linus@example.edu, not-an-address', role: 'observer' })
      assert.deepEqual(bulk.results.map((r) => r.result), ['created', 'invalid'])
      const list = await call(InvitationListSchema, 200, 'GET', `/v1/sessions/${id}/invitations`, ins)
      assert.equal(list.invitations.length, 2)
      const resent = await call(IssuedInvitationSchema, 200, 'POST', `/v1/sessions/${id}/invitations/${one.id}/resend`, ins, { notify: false })
      const revoked = await call(InvitationSchema, 200, 'DELETE', `/v1/sessions/${id}/invitations/${bulk.results[0]!.invitation!.id}`, ins)
      assert.equal(revoked.status, 'revoked')

      const token = new URL(resent.link).searchParams.get('invite')!
      const info = await call(InvitationInfoSchema, 200, 'GET', `/v1/invitations/${token}`)
      assert.equal(info.sessionId, id)
      const accepted = await call(InvitationAcceptedSchema, 200, 'POST', `/v1/invitations/${token}/accept`, undefined, { name: 'Grace Hopper' })
      const fresh = await call(TokenRefreshedSchema, 200, 'POST', '/v1/tokens/refresh', accepted.token)
      assert.equal(fresh.sessionId, id)

      const other = await call(IssuedInvitationSchema, 201, 'POST', `/v1/sessions/${id}/invitations`, ins, { email: 'ken@example.edu', role: 'learner' })
      await call(InvitationDeclinedSchema, 200, 'POST', `/v1/invitations/${new URL(other.link).searchParams.get('invite')}/decline`)
    })

    it('snapshots, recordings and analytics', async () => {
      const id = `contract-rec-${Date.now().toString(36)}`
      const ins = await s.token(id, 'instructor', 'ins', { name: 'Ada' })
      const client = await RawClient.connect(s.url, id, ins)
      assert.ok(await client.waitFor(() => client.text() !== undefined), 'the instructor joined')
      client.type('main.js', 0, 'let x = 1\n')
      assert.ok(await client.waitFor(() => client.acked.size >= 1), 'the edit was saved')

      const snap = await call(SnapshotInfoSchema, 201, 'POST', `/v1/sessions/${id}/snapshots`, ins, { title: 'First' })
      await call(SnapshotListSchema, 200, 'GET', `/v1/sessions/${id}/snapshots`, ins)
      const full = await call(SnapshotSchema, 200, 'GET', `/v1/sessions/${id}/snapshots/${snap.id}`, ins)
      assert.equal(full.files['main.js'], 'let x = 1\n')
      await call(SnapshotRestoredSchema, 200, 'POST', `/v1/sessions/${id}/snapshots/${snap.id}/restore`, ins)

      const rec = await call(RecordingEntrySchema, 201, 'POST', `/v1/sessions/${id}/recordings`, ins, { title: 'Lesson' })
      await call(RecordingEntrySchema, 200, 'POST', `/v1/sessions/${id}/recordings/${rec.id}/pause`, ins)
      const stopped = await call(RecordingEntrySchema, 200, 'POST', `/v1/sessions/${id}/recordings/${rec.id}/stop`, ins)
      assert.equal(typeof stopped.stoppedAt, 'string')
      const recordings = await call(RecordingListSchema, 200, 'GET', `/v1/sessions/${id}/recordings`, ins)
      assert.equal(recordings.recordings[0]?.spans.length, 1)

      const stats = await call(AnalyticsResponseSchema, 200, 'GET', `/v1/sessions/${id}/analytics?range=1h`, ins)
      assert.ok(stats.participants.some((p) => p.userId === 'ins'))
      await call(OwnActivitySchema, 200, 'GET', `/v1/sessions/${id}/analytics/me?range=1h`, ins)
      client.close()
    })

    it('verified runs and hidden test files, as instructors and learners read them', async () => {
      const id = `contract-run-${Date.now().toString(36)}`
      const files = { 'main.js': 'function add(a, b) { return a + b }\nconsole.log(add(1, 2))\n', 'main.test.js': "test('adds', () => expect(add(1, 2)).toBe(3))\n" }
      await call(SessionEntrySchema, 201, 'POST', '/v1/sessions', undefined, { id, title: 'Runs', ownerId: 'ins', files }, { authorization: `Bearer ${TEST_API_KEY}` })
      const ins = await s.token(id, 'instructor', 'ins', { name: 'Ada' })
      const lea = await s.token(id, 'learner', 'lea', { name: 'Grace' })
      const put = await call(HiddenFileInfoSchema, 201, 'PUT', `/v1/sessions/${id}/hidden-files/hidden.test.js`, ins, { text: "test('doubles', () => expect(add(2, 2)).toBe(4))\n" })
      assert.equal(put.name, 'hidden.test.js')
      assert.deepEqual((await call(HiddenFileListSchema, 200, 'GET', `/v1/sessions/${id}/hidden-files`, ins)).files.map((f) => f.name), ['hidden.test.js'])
      await call(HiddenFileSchema, 200, 'GET', `/v1/sessions/${id}/hidden-files/hidden.test.js`, ins)

      const queued = await call(RunQueuedSchema, 202, 'POST', `/v1/sessions/${id}/runs`, lea, { kind: 'tests' })
      let run = await call(VerifiedRunSchema, 200, 'GET', `/v1/sessions/${id}/runs/${queued.id}`, lea)
      for (let i = 0; i < 300 && (run.status === 'queued' || run.status === 'running'); i++) {
        await new Promise((r) => setTimeout(r, 100))
        run = await call(VerifiedRunSchema, 200, 'GET', `/v1/sessions/${id}/runs/${queued.id}`, lea)
      }
      assert.equal(run.status, 'passed', JSON.stringify(run))
      assert.equal(typeof run.withheld, 'string', 'the learner is told what is not shown')
      const full = await call(VerifiedRunSchema, 200, 'GET', `/v1/sessions/${id}/runs/${queued.id}`, ins)
      assert.ok(full.hiddenOutput, 'the instructor reads what the hidden tests printed')
      const list = await call(VerifiedRunListSchema, 200, 'GET', `/v1/sessions/${id}/runs?limit=5`, lea)
      assert.equal(list.runs[0]?.id, queued.id)
    })

    it('assignments, from the template to a learner’s room, its updates and the instructor’s overview', async () => {
      const aid = `contract-asg-${Date.now().toString(36)}`
      const host = { authorization: `Bearer ${TEST_API_KEY}` }
      const body = { id: aid, title: 'Add', instructions: '# Add', language: 'javascript', files: { 'main.js': 'let a = 1\n' }, tests: { hidden: { 'hidden.test.js': "test('x', () => {})\n" } }, ownerId: 'ins', dueAt: '2030-01-01T00:00:00Z' }
      const created = await call(AssignmentSchema, 201, 'POST', '/v1/assignments', undefined, body, host)
      assert.equal(created.hiddenTestCount, 1)
      await call(AssignmentListSchema, 200, 'GET', '/v1/assignments', undefined, undefined, host)
      const token = (role: 'instructor' | 'learner', sub: string) => mintToken({ sub, name: sub, role, assignment: aid }, TEST_SECRET, { ttl: '1h' })
      const ins = await token('instructor', 'ins')
      const lea = await token('learner', 'lea')
      const mine = await call(AssignmentSchema, 200, 'GET', `/v1/assignments/${aid}`, lea)
      assert.equal(mine.tests.hidden, undefined)
      const opened = await call(AssignmentOpenedSchema, 201, 'POST', `/v1/assignments/${aid}/open`, lea)
      const room = await RawClient.connect(s.url, opened.sessionId, opened.token)
      assert.ok(await room.waitFor(() => room.text('main.js') !== undefined), 'the learner joined their room')
      room.type('main.js', 0, '// mine\n')
      assert.ok(await room.waitFor(() => room.acked.size > 0), 'the learner’s edit was saved')
      room.close()
      await call(AssignmentSchema, 200, 'PATCH', `/v1/assignments/${aid}`, ins, { files: { 'main.js': 'let a = 2\n' } })
      const updates = await call(AssignmentUpdateListSchema, 200, 'GET', `/v1/assignments/${aid}/updates`, lea)
      assert.equal(updates.updates[0]?.file, 'main.js')
      await call(AssignmentUpdateListSchema, 200, 'POST', `/v1/assignments/${aid}/updates/accept`, lea, { file: 'main.js' })
      await call(AssignmentSubmittedSchema, 200, 'POST', `/v1/assignments/${aid}/submit`, lea)
      const rooms = await call(AssignmentRoomListSchema, 200, 'GET', `/v1/assignments/${aid}/rooms`, ins)
      assert.equal(rooms.rooms[0]?.sessionId, opened.sessionId)
      await call(AssignmentOpenedSchema, 200, 'POST', `/v1/assignments/${aid}/rooms/lea/open`, ins)
      await call(AssignmentAnalyticsSchema, 200, 'GET', `/v1/assignments/${aid}/analytics?anonymize=1`, ins)
      await call(AssignmentSchema, 200, 'POST', `/v1/assignments/${aid}/close`, ins)
    })
  })
}
