import assert from 'node:assert/strict'
import { gunzipSync } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { mintToken } from '../auth/tokens.js'
import { parseApi, UserErasedSchema, UserExportSchema } from '@session-kit/core/api'
import type { Replay } from '@session-kit/core'
import { allTables, mentions, rowCounts, rowTexts } from '../testing/census.js'
import { RawClient } from '../testing/client.js'
import { backends } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'

/*
 * Erasure of one person (DELETE /v1/users/:userId), their export, and the deletion of a session,
 * held to a census of every table of the schema (read from information_schema: a table a later
 * migration adds is counted too).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Tables whose rows change by themselves while a test runs (heartbeats, the webhook worker's attempts, compaction, the retention job's row). */
const VOLATILE = new Set(['instances', 'webhook_deliveries', 'webhook_endpoints', 'documents', 'doc_chunks', 'retention_job'])

for (const backend of backends()) {
  describe(`erasure and deletion on ${backend}`, () => {
    let s: TestServer
    let n = 0
    before(async () => {
      s = await startTestServer(backend, { env: { SESSION_KIT_WEBHOOK_ALLOW_PRIVATE: '1' } })
      // Deliveries that stay pending (nobody listens on port 9): their payloads name people too.
      assert.equal((await s.api('POST', '/v1/webhooks', TEST_API_KEY, { url: 'http://127.0.0.1:9/hook' })).status, 201)
    })
    after(() => s.stop())

    const uid = (base: string) => `${base}-${++n}-${Date.now().toString(36)}`

    async function createSession(ownerId: string) {
      const id = uid('room')
      const res = await s.api('POST', '/v1/sessions', TEST_API_KEY, { id, title: 'Loops', ownerId })
      assert.equal(res.status, 201, JSON.stringify(res.json))
      return id
    }

    async function join(sid: string, role: 'instructor' | 'learner', user: string, name: string, email?: string) {
      const token = await s.token(sid, role, user, { name, email })
      const client = await RawClient.connect(s.url, sid, token)
      assert.ok(await client.waitFor(() => client.text() !== undefined), `${user} synced`)
      return { client, token }
    }

    /** Every connection closed and what closing writes (leaves) written. */
    async function quiet() {
      for (let i = 0; i < 200; i++) {
        const [row] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from connections`
        if (!row!.n) break
        await sleep(25)
      }
      await sleep(300)
    }

    async function replayOf(sid: string, recId: string, token: string): Promise<Replay> {
      for (let i = 0; i < 200; i++) {
        if ((await s.api('GET', `/v1/sessions/${sid}/recordings/${recId}`, token)).json.status === 'ready') break
        await sleep(50)
      }
      const res = await fetch(`${s.url}/v1/sessions/${sid}/recordings/${recId}/events`, { headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'identity' } })
      assert.equal(res.status, 200)
      return (await res.json()) as Replay
    }

    async function finishedRun(sid: string, id: string, token: string) {
      for (let i = 0; i < 300; i++) {
        const r = await s.api('GET', `/v1/sessions/${sid}/runs/${id}`, token)
        if (r.json.finishedAt) return r.json
        await sleep(100)
      }
      throw new Error('the run did not finish')
    }

    /** Rows of every steady table that name none of `needles`: what must survive byte for byte. */
    async function othersRows(needles: string[]) {
      const out: Record<string, string[]> = {}
      for (const t of await allTables(s.db.sql)) {
        // Replays are gzip: looked into by `replaysNaming` instead.
        if (VOLATILE.has(t) || t === 'recording_replays') continue
        out[t] = (await rowTexts(s.db.sql, t)).filter((row) => !needles.some((x) => row.includes(x)))
      }
      return out
    }

    /** Stored replays (gzip, so invisible to `mentions`) whose JSON holds any of `needles`. */
    async function replaysNaming(needles: string[]) {
      const rows = await s.db.sql<{ data: Buffer }[]>`select data from recording_replays`
      return rows.filter((r) => needles.some((x) => gunzipSync(r.data).toString('utf8').includes(x))).length
    }

    it('erases one person everywhere: their rows go or name a former participant, others’ stay, the code they typed stays', async () => {
      const LEA = uid('lea-erased')
      const LEA_NAME = 'Grace Erasable'
      const LEA_EMAIL = `${LEA}@example.com`
      const needles = [LEA, LEA_NAME, LEA_EMAIL]

      // ---- a shared room: typing, chat, a run, a hand, a recording, a snapshot, a verified run, moderation, invitations, consent
      const sid = await createSession('ins-ada')
      const ins = await join(sid, 'instructor', 'ins-ada', 'Ada Instructor')
      const lea = await join(sid, 'learner', LEA, LEA_NAME, LEA_EMAIL)
      const bob = await join(sid, 'learner', 'bob-other', 'Bob Other', 'bob.other@example.com')
      const rec = await s.api('POST', `/v1/sessions/${sid}/recordings`, ins.token, { title: 'Lesson' })
      assert.equal(rec.status, 201, JSON.stringify(rec.json))
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/recording-consent`, lea.token, { consent: true })).status, 200)
      const leaEdit = lea.client.type('main.js', 0, 'function leaSolution() { return 42 }\n')
      assert.ok(await lea.client.waitFor(() => lea.client.acked.has(leaEdit)), 'her edit saved')
      assert.ok(await bob.client.waitFor(() => (bob.client.text() ?? '').includes('leaSolution')))
      const bobEdit = bob.client.type('main.js', bob.client.text()!.length, 'const bobPart = 1\n')
      assert.ok(await bob.client.waitFor(() => bob.client.acked.has(bobEdit)), 'his edit saved')
      lea.client.send({ type: 'chat', text: 'hello from lea' })
      bob.client.send({ type: 'chat', text: 'hello from bob' })
      lea.client.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok: true, errors: 0, durationMs: 5, output: '42' } })
      lea.client.send({ type: 'hand', raised: true, question: 'what is a closure?' })
      assert.ok(await ins.client.waitFor(() => ins.client.events.filter((e) => e.type === 'chat').length >= 2 && ins.client.events.some((e) => e.type === 'lecture' && e.lecture.hands.length === 1)), 'chat and hand seen')
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/snapshots`, lea.token, { title: 'my attempt' })).status, 201)
      const run = await s.api('POST', `/v1/sessions/${sid}/runs`, lea.token, { kind: 'program', file: 'main.js' })
      assert.equal(run.status, 202, JSON.stringify(run.json))
      await finishedRun(sid, run.json.id, lea.token)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/participants/${LEA}/mute`, ins.token)).status, 200)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/participants/${LEA}/unmute`, ins.token)).status, 200)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/invitations`, ins.token, { email: LEA_EMAIL, role: 'learner' })).status, 201)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/invitations`, ins.token, { email: 'carol@example.com', role: 'learner' })).status, 201)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/recordings/${rec.json.id}/stop`, ins.token)).status, 200)
      const replayBefore = await replayOf(sid, rec.json.id, ins.token)
      assert.equal(replayBefore.participants[LEA]?.name, LEA_NAME)

      // ---- a room she owns (shared with bob), an invitation she sent there
      const owned = await createSession(LEA)
      const ownerToken = await s.token(owned, 'instructor', LEA, { name: LEA_NAME, email: LEA_EMAIL })
      const sent = await s.api('POST', `/v1/sessions/${owned}/invitations`, ownerToken, { email: 'dave@example.com', role: 'learner' })
      assert.equal(sent.status, 201, JSON.stringify(sent.json))

      // ---- her assignment room (hers alone) and bob's
      const aid = uid('hw')
      assert.equal((await s.api('POST', '/v1/assignments', TEST_API_KEY, { id: aid, title: 'Sums', instructions: '', language: 'javascript', files: { 'main.js': '' }, ownerId: 'ins-ada' })).status, 201)
      const openRoom = async (user: string, name: string, text: string) => {
        const opened = await s.api('POST', `/v1/assignments/${aid}/open`, await mintToken({ sub: user, name, role: 'learner', assignment: aid }, TEST_SECRET, { ttl: '1h' }))
        assert.equal(opened.status, 201, JSON.stringify(opened.json))
        const c = await RawClient.connect(s.url, opened.json.sessionId, opened.json.token)
        assert.ok(await c.waitFor(() => c.text() !== undefined))
        const h = c.type('main.js', 0, text)
        assert.ok(await c.waitFor(() => c.acked.has(h)))
        c.close()
        return opened.json.sessionId as string
      }
      const leaRoom = await openRoom(LEA, LEA_NAME, 'function leaHomework() {}')
      const bobRoom = await openRoom('bob-other', 'Bob Other', 'function bobHomework() {}')

      // ---- her LMS membership and grade, and bob's
      await s.db.sql`insert into lti_platforms (id, issuer, client_id, auth_url, token_url, jwks_url) values ('plat-erase', 'https://lms.example', 'c1', 'https://lms.example/a', 'https://lms.example/t', 'https://lms.example/k') on conflict do nothing`
      for (const [user, name, email] of [[LEA, LEA_NAME, LEA_EMAIL], ['bob-other', 'Bob Other', 'bob.other@example.com']] as const) {
        await s.db.sql`insert into lti_members (platform_id, context_id, lti_sub, user_id, name, email, role, source) values ('plat-erase', 'course-1', ${'sub-' + user}, ${user}, ${name}, ${email}, 'learner', 'launch')`
        await s.db.sql`insert into lti_grades (assignment_id, user_id, platform_id, lti_sub, status, submitted_at) values (${aid}, ${user}, 'plat-erase', ${'sub-' + user}, 'failed', now())`
      }

      // ---- bob's own room, where she never was
      const other = await createSession('ins-ada')
      const bobAlone = await join(other, 'learner', 'bob-other', 'Bob Other', 'bob.other@example.com')
      bobAlone.client.send({ type: 'chat', text: 'only bob here' })
      assert.ok(await bobAlone.client.waitFor(() => bobAlone.client.events.some((e) => e.type === 'chat')))

      // ---- her export, before anything goes
      const exp = await s.api('GET', `/v1/users/${encodeURIComponent(LEA)}/export`, TEST_API_KEY)
      assert.equal(exp.status, 200, JSON.stringify(exp.json))
      const data = parseApi(UserExportSchema, exp.json)
      assert.deepEqual(data.emails, [LEA_EMAIL.toLowerCase()])
      assert.deepEqual(new Set(data.sessions.map((x) => x.id)), new Set([sid, owned, leaRoom]))
      assert.equal(data.sessions.find((x) => x.id === sid)?.participant?.name, LEA_NAME)
      assert.equal(data.sessions.find((x) => x.id === owned)?.ownedByYou, true)
      assert.deepEqual(data.chat.map((m) => m.body), ['hello from lea'])
      assert.ok(data.events.some((e) => e.kind === 'code_change') && data.events.some((e) => e.kind === 'run') && data.events.some((e) => e.kind === 'join'))
      assert.deepEqual(data.invitations.received.map((i) => i.email), [LEA_EMAIL])
      assert.equal(data.invitations.sent.length, 1)
      assert.equal(data.runs.length, 1)
      assert.deepEqual(data.recordings.map((r) => [r.id, r.youAppear, r.createdByYou]), [[rec.json.id, true, false]])
      assert.deepEqual(data.snapshots.map((x) => x.title), ['my attempt'])
      assert.deepEqual(data.raisedHands.map((h) => h.question), ['what is a closure?'])
      assert.deepEqual(data.assignmentRooms.map((r) => [r.sessionId, r.files['main.js']]), [[leaRoom, 'function leaHomework() {}']])
      assert.deepEqual(data.lti.memberships.map((m) => m.email), [LEA_EMAIL])
      assert.equal(data.lti.grades.length, 1)
      assert.ok(data.audit.some((e) => e.action === 'participant.muted' && e.targetId === LEA), 'the audit entries naming her')
      const text = JSON.stringify(exp.json)
      for (const theirs of ['hello from bob', 'bob.other@example.com', 'carol@example.com', 'dave@example.com', 'bobHomework']) assert.ok(!text.includes(theirs), `others' data stays out of her export: ${theirs}`)

      for (const c of [ins.client, lea.client, bob.client, bobAlone.client]) c.close()
      await quiet()

      // ---- the census before
      const countsBefore = await rowCounts(s.db.sql)
      const named = await mentions(s.db.sql, needles)
      for (const t of ['participants', 'chat_messages', 'events', 'activity_minutes', 'actors', 'invitations', 'outbox', 'snapshots', 'verified_runs', 'raised_hands', 'recording_consents', 'assignment_rooms', 'sessions', 'lti_members', 'lti_grades', 'audit_log', 'webhook_deliveries']) {
        assert.ok(named[t], `the scenario leaves her in ${t} (${JSON.stringify(named)})`)
      }
      const kept = await othersRows([...needles, leaRoom])
      assert.equal(await replaysNaming(needles), 1)

      // ---- erase
      const res = await s.api('DELETE', `/v1/users/${encodeURIComponent(LEA)}`, TEST_API_KEY)
      assert.equal(res.status, 200, JSON.stringify(res.json))
      const erased = parseApi(UserErasedSchema, res.json)
      assert.equal(erased.userId, LEA)

      // Nothing anywhere names her: not her id, not her name, not her address.
      assert.deepEqual(await mentions(s.db.sql, needles), {})
      assert.equal(await replaysNaming(needles), 0)
      // Every table lost exactly what the answer says (her assignment room's rows among them), and gained only the erasure's own records.
      const countsAfter = await rowCounts(s.db.sql)
      const gained: Record<string, number> = { audit_log: 2, erased_users: 1, deleted_sessions: 1 }
      for (const t of Object.keys({ ...countsBefore, ...countsAfter })) {
        if (VOLATILE.has(t)) continue
        assert.equal(countsAfter[t], (countsBefore[t] ?? 0) - (erased.deleted[t] ?? 0) + (gained[t] ?? 0), `rows of ${t}: before ${countsBefore[t]}, deleted ${erased.deleted[t] ?? 0}`)
      }
      for (const t of ['participants', 'chat_messages', 'events', 'activity_minutes', 'raised_hands', 'recording_consents', 'lti_members', 'lti_grades', 'invitations', 'outbox', 'assignment_rooms', 'sessions']) assert.ok(erased.deleted[t], `deleted from ${t}`)
      for (const t of ['actors', 'events', 'sessions', 'snapshots', 'verified_runs', 'invitations', 'recording_replays', 'audit_log', 'webhook_deliveries']) assert.ok(erased.anonymised[t], `anonymised in ${t}`)
      // Everyone else's rows are still there, byte for byte.
      const now = await othersRows([...needles, leaRoom])
      for (const [t, rows] of Object.entries(kept)) {
        const left = new Set(now[t] ?? [])
        assert.deepEqual(rows.filter((r) => !left.has(r)), [], `others' rows of ${t} are intact`)
      }
      // Her assignment room is gone with everything in it; bob's is untouched.
      assert.equal((await s.db.sql`select 1 from sessions where id = ${leaRoom}`).length, 0)
      assert.equal((await s.db.sql`select 1 from sessions where id = ${bobRoom}`).length, 1)

      // The code she typed stays in the shared document, attributed to a former participant.
      const insToken = await s.token(sid, 'instructor', 'ins-ada', { name: 'Ada Instructor' })
      const doc = await s.api('GET', `/v1/sessions/${sid}/document`, insToken)
      assert.equal(doc.json.files['main.js'], 'function leaSolution() { return 42 }\nconst bobPart = 1\n')
      const [former] = await s.db.sql<{ id: string }[]>`select distinct user_id as id from actors where session_id = ${sid} and user_id like 'former-participant:%'`
      assert.ok(former, 'her Automerge actor now belongs to a former participant')
      const replay = await replayOf(sid, rec.json.id, insToken)
      assert.equal(replay.participants[former!.id]?.name, 'A former participant')
      assert.ok(replay.events.some((e) => e.type === 'edit' && e.userId === former!.id), 'her edits are in the replay, as a former participant’s')
      assert.deepEqual(replay.events.filter((e) => e.type === 'chat').map((e) => (e as { text: string }).text), ['hello from bob'])
      assert.equal(replay.events.filter((e) => e.type === 'edit').length, replayBefore.events.filter((e) => e.type === 'edit').length)
      // The audit log keeps what happened, to a former participant: the same placeholder throughout.
      const audit = await s.api('GET', `/v1/audit?limit=200`, TEST_API_KEY)
      assert.equal(audit.status, 200, JSON.stringify(audit.json))
      const entries = audit.json.entries as { action: string; targetId: string | null }[]
      const erasure = entries.find((e) => e.action === 'user.erased')
      assert.ok(erasure?.targetId?.startsWith('former-participant:'))
      assert.equal(entries.find((e) => e.action === 'participant.muted')?.targetId, erasure!.targetId)
      assert.equal(erasure!.targetId, former!.id, 'one placeholder for her in the audit log and the document')

      // A token issued before the erasure no longer opens anything; one issued after does (the host brought her back).
      const old = await s.api('GET', `/v1/sessions/${sid}`, lea.token)
      assert.equal(old.status, 401)
      assert.equal(old.json.error.code, 'token_user_erased')
      await sleep(1100)
      assert.equal((await s.api('GET', `/v1/sessions/${sid}`, await s.token(sid, 'learner', LEA, { name: LEA_NAME }))).status, 200)

      // Again: nothing more to do.
      const again = await s.api('DELETE', `/v1/users/${encodeURIComponent(LEA)}`, TEST_API_KEY)
      assert.deepEqual([again.json.deleted, again.json.anonymised], [{}, {}])
    })

    it('closes the person’s open connections first, on every room, and erases what closing wrote', async () => {
      const ZOE = uid('zoe-erased')
      const sid = await createSession('ins-ada')
      const zoe = await join(sid, 'learner', ZOE, 'Zoe Erasable')
      zoe.client.send({ type: 'hand', raised: true })
      assert.ok(await zoe.client.waitFor(() => zoe.client.events.some((e) => e.type === 'lecture')))
      const res = await s.api('DELETE', `/v1/users/${ZOE}`, TEST_API_KEY)
      assert.equal(res.status, 200)
      const closed = await zoe.client.waitClosed()
      assert.equal(closed?.code, 4409, 'closed as removed: the page does not reconnect')
      await sleep(300)
      assert.deepEqual(await mentions(s.db.sql, [ZOE, 'Zoe Erasable']), {})
      // Reconnecting with the same token is refused.
      const back = await RawClient.connect(s.url, sid, zoe.token)
      assert.ok((await back.waitClosed())?.code)
      assert.equal(back.welcome, null)
      assert.deepEqual(await mentions(s.db.sql, [ZOE, 'Zoe Erasable']), {})
    })

    it('is for the host only', async () => {
      assert.equal((await s.api('DELETE', '/v1/users/someone')).status, 401)
      const sid = await createSession('ins-ada')
      const ins = await s.token(sid, 'instructor', 'ins-ada')
      assert.equal((await s.api('DELETE', '/v1/users/someone', ins)).status, 401)
      assert.equal((await s.api('GET', '/v1/users/someone/export', ins)).status, 401)
      assert.equal((await s.api('GET', '/v1/users/someone/export?email=not-an-address', TEST_API_KEY)).status, 400)
    })

    it('deleting a session leaves nothing of it in any table: document, people, chat, events, recordings and their replays, invitations and their mail, runs, LMS link', async () => {
      const sid = await createSession('ins-ada')
      const ins = await join(sid, 'instructor', 'ins-ada', 'Ada Instructor')
      const lea = await join(sid, 'learner', 'lea-del', 'Lea Del', 'lea.del@example.com')
      const rec = await s.api('POST', `/v1/sessions/${sid}/recordings`, ins.token, { title: 'To delete' })
      const h = lea.client.type('main.js', 0, 'console.log(1)\n')
      assert.ok(await lea.client.waitFor(() => lea.client.acked.has(h)))
      lea.client.send({ type: 'chat', text: 'bye' })
      lea.client.send({ type: 'hand', raised: true, question: 'q' })
      ins.client.send({ type: 'follow', on: true })
      assert.ok(await ins.client.waitFor(() => ins.client.events.some((e) => e.type === 'chat')))
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/recording-consent`, lea.token, { consent: true })).status, 200)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/recordings/${rec.json.id}/stop`, ins.token)).status, 200)
      await replayOf(sid, rec.json.id, ins.token)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/snapshots`, ins.token, { title: 'snap' })).status, 201)
      assert.equal((await s.api('PUT', `/v1/sessions/${sid}/hidden-files/secret.test.js`, ins.token, { text: 'test()' })).status, 201)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/invitations`, ins.token, { email: 'eve@example.com', role: 'learner' })).status, 201)
      const run = await s.api('POST', `/v1/sessions/${sid}/runs`, lea.token, { kind: 'program', file: 'main.js' })
      await finishedRun(sid, run.json.id, lea.token)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/participants/lea-del/kick`, ins.token)).status, 200)
      // An LMS link opening it, and another room's lecture spotlighting it (references without a foreign key).
      await s.db.sql`insert into lti_platforms (id, issuer, client_id, auth_url, token_url, jwks_url) values ('plat-del', 'https://lms.example/del', 'c2', 'https://a', 'https://t', 'https://k') on conflict do nothing`
      await s.db.sql`insert into lti_links (platform_id, deployment_id, resource_link_id, kind, session_id) values ('plat-del', 'd1', ${'rl-' + sid}, 'room', ${sid})`
      const lecture = await createSession('ins-ada')
      await s.db.sql`insert into lectures (session_id, spotlight_user_id, spotlight_name, spotlight_by, spotlight_at, spotlight_session_id) values (${lecture}, 'lea-del', 'Lea Del', 'Ada', now(), ${sid})`
      ins.client.close()
      lea.client.close()
      await quiet()

      const [{ recId }] = await s.db.sql<{ recId: string }[]>`select id as "recId" from recordings where session_id = ${sid}`
      const hasReplay = async () => (await s.db.sql`select 1 from recording_replays where recording_id = ${recId}`).length
      assert.equal(await hasReplay(), 1)
      const before = await mentions(s.db.sql, [sid])
      for (const t of ['sessions', 'documents', 'participants', 'chat_messages', 'events', 'activity_minutes', 'recordings', 'snapshots', 'hidden_files', 'invitations', 'invitation_sends', 'outbox', 'verified_runs', 'bans', 'lectures', 'actors', 'recording_consents', 'lti_links']) {
        assert.ok(before[t], `the scenario put the session in ${t} (${JSON.stringify(before)})`)
      }
      const others = await othersRows([sid, 'lea-del', 'Lea Del', recId])

      assert.equal((await s.api('DELETE', `/v1/sessions/${sid}`, TEST_API_KEY)).status, 204)

      // What may still name it: the record that it was deleted (old tokens cannot reopen the id), the
      // audit trail (it outlives what it is about), and the host's webhook notifications about it.
      const left = await mentions(s.db.sql, [sid])
      assert.deepEqual(Object.keys(left).filter((t) => !['deleted_sessions', 'audit_log', 'webhook_deliveries'].includes(t)), [], JSON.stringify(left))
      assert.equal(left.deleted_sessions, 1)
      assert.equal(await hasReplay(), 0, 'the stored replay went with its recording')
      const now = await othersRows([sid, 'lea-del', 'Lea Del', recId])
      for (const [t, rows] of Object.entries(others)) {
        const kept = new Set(now[t] ?? [])
        assert.deepEqual(rows.filter((r) => !kept.has(r)), [], `other sessions' rows of ${t} are intact`)
      }
    })

    it('a replay keeps its keyframes pointing at the right events when her chat is taken out', async () => {
      const { forgetInReplay } = await import('../erasure/replays.js')
      const replay: Replay = {
        version: 1,
        recording: { id: 'r', sessionId: 's', sessionTitle: 't', title: 't', description: null, startedAt: new Date(0).toISOString(), durationMs: 10 },
        files: { 'a.js': '' },
        events: [
          { t: 1, type: 'chat', userId: 'x', text: 'mine' },
          { t: 2, type: 'edit', userId: 'x', splices: [{ file: 'a.js', at: 0, del: 0, ins: 'a' }] },
          { t: 3, type: 'chat', userId: 'y', text: 'theirs' },
          { t: 4, type: 'edit', userId: 'y', splices: [{ file: 'a.js', at: 1, del: 0, ins: 'b' }] },
        ],
        keyframes: [{ index: 0, t: 0, files: { 'a.js': '' } }, { index: 3, t: 3, files: { 'a.js': 'a' } }],
        participants: { x: { name: 'X', color: '#000' }, y: { name: 'Y', color: '#111' } },
      }
      assert.equal(forgetInReplay(replay, { userId: 'x', placeholder: 'former-participant:1', names: new Set(['X']), emails: [] }), true)
      assert.deepEqual(replay.events.map((e) => [e.type, e.userId]), [['edit', 'former-participant:1'], ['chat', 'y'], ['edit', 'y']])
      assert.deepEqual(replay.keyframes.map((k) => k.index), [0, 2])
      assert.deepEqual(Object.keys(replay.participants).sort(), ['former-participant:1', 'y'])
    })
  })
}
