import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { LectureState, Replay } from '@session-kit/core'
import { createServer } from '../server.js'
import { oneBackend, freshDataDir, removeDir } from '../testing/db.js'
import { RawClient } from '../testing/client.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'

let n = 0
const sid = (label: string) => `${label}-${Date.now().toString(36)}-${n++}`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The lecture as this client last heard it (the latest `lecture` event, else its welcome's). */
function lecture(c: RawClient): LectureState | undefined {
  return [...c.events].reverse().find((e) => e.type === 'lecture')?.lecture ?? c.welcome?.lecture
}
const changes = (c: RawClient) => c.events.filter((e) => e.type === 'lecture' && e.change).map((e) => e.change)
const errors = (c: RawClient) => c.events.filter((e) => e.type === 'error')

for (const backend of [oneBackend()]) {
  describe(`lecture mode on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    /** A room with its owner `ins` (Ada), learners `lea` (Grace) and `lea2` (Linus), and an observer `obs`. */
    async function room(label: string, observer: { mode?: 'full' | 'view'; allowView?: boolean } = {}) {
      const id = sid(label)
      const as = (role: 'instructor' | 'learner' | 'observer', user: string, name: string) => s.token(id, role, user, { name })
      const ins = await RawClient.connect(s.url, id, await as('instructor', 'ins', 'Ada'))
      assert.ok(await ins.waitFor(() => ins.text() !== undefined), 'instructor synced')
      const lea = await RawClient.connect(s.url, id, await as('learner', 'lea', 'Grace'))
      const lea2 = await RawClient.connect(s.url, id, await as('learner', 'lea2', 'Linus'))
      const obs = await RawClient.connect(s.url, id, await as('observer', 'obs', 'Obi'), observer)
      for (const c of [lea, lea2, obs]) assert.ok(c.welcome, 'joined')
      return { id, ins, lea, lea2, obs, as, people: [ins, lea, lea2, obs], close: () => [ins, lea, lea2, obs].forEach((c) => c.close()) }
    }

    it('follow me: learners and observers (full peers and light viewers) see who leads; a reconnecting participant’s welcome says so', async () => {
      const r = await room('follow', { mode: 'full', allowView: true })
      const viewer = await RawClient.connect(s.url, r.id, await r.as('observer', 'viewer', 'Vera'), { mode: 'view' })
      assert.equal(r.obs.welcome.mode, 'view', 'an observer that accepts a view is a light viewer')
      assert.deepEqual(r.lea.welcome.lecture, { follow: null, spotlight: null, hands: [], handCount: 0 })

      r.ins.send({ type: 'follow', on: true })
      for (const c of [...r.people, viewer]) {
        assert.ok(await c.waitFor(() => lecture(c)?.follow?.userId === 'ins'), `${c.welcome.participant.userId} follows Ada`)
        assert.equal(lecture(c)!.follow!.name, 'Ada')
        assert.ok(!Number.isNaN(Date.parse(lecture(c)!.follow!.since)))
        assert.deepEqual(changes(c).at(-1), { kind: 'follow-started', userId: 'ins', name: 'Ada' })
      }

      // A page that reloads (or loses its connection) is told at once whom to follow.
      r.lea.close()
      const back = await RawClient.connect(s.url, r.id, await r.as('learner', 'lea', 'Grace'))
      assert.equal(back.welcome.lecture.follow.userId, 'ins')
      const late = await RawClient.connect(s.url, r.id, await r.as('observer', 'late', 'Lou'), { mode: 'view' })
      assert.equal(late.welcome.lecture.follow.userId, 'ins')

      r.ins.send({ type: 'follow', on: false })
      for (const c of [back, r.obs, viewer, late]) {
        assert.ok(await c.waitFor(() => lecture(c)?.follow === null), 'following stopped')
        assert.deepEqual(changes(c).at(-1), { kind: 'follow-stopped', userId: 'ins', name: 'Ada' })
      }
      const again = await RawClient.connect(s.url, r.id, await r.as('learner', 'lea', 'Grace'))
      assert.equal(again.welcome.lecture.follow, null)
      for (const c of [back, viewer, late, again]) c.close()
      r.close()
    })

    it('raised hands: oldest first with questions for instructors; a learner sees only their own hand and the count', async () => {
      const r = await room('hands')
      r.lea.send({ type: 'hand', raised: true, question: '  Why does the loop stop at 9?  ' })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.handCount === 1))
      await sleep(20)
      r.lea2.send({ type: 'hand', raised: true, question: 'SECRET-QUESTION-OF-LINUS' })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.handCount === 2))
      r.obs.send({ type: 'hand', raised: true })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.handCount === 3), 'three hands up')

      const queue = lecture(r.ins)!.hands
      assert.deepEqual(queue.map((h) => [h.userId, h.name, h.question]), [
        ['lea', 'Grace', 'Why does the loop stop at 9?'],
        ['lea2', 'Linus', 'SECRET-QUESTION-OF-LINUS'],
        ['obs', 'Obi', ''],
      ])
      assert.ok(Date.parse(queue[0]!.raisedAt) <= Date.parse(queue[1]!.raisedAt), 'oldest first')
      assert.ok(changes(r.ins).some((c) => c.kind === 'hand-raised' && c.userId === 'lea2' && c.name === 'Linus'), 'instructors hear who raised a hand')

      assert.ok(await r.lea.waitFor(() => lecture(r.lea)?.handCount === 3))
      assert.deepEqual(lecture(r.lea)!.hands.map((h) => [h.userId, h.question]), [['lea', 'Why does the loop stop at 9?']])
      assert.ok(await r.obs.waitFor(() => lecture(r.obs)?.handCount === 3))
      assert.deepEqual(lecture(r.obs)!.hands.map((h) => h.userId), ['obs'])
      // Nothing of another learner's hand reaches a learner: not the question, not whose it is.
      assert.ok(!r.lea.rawText.some((t) => t.includes('SECRET-QUESTION-OF-LINUS')), 'a learner never receives another learner’s question')
      assert.ok(!changes(r.lea).some((c) => c.userId === 'lea2'))

      // Raising again changes the question and keeps the hand's place.
      r.lea.send({ type: 'hand', raised: true, question: 'Actually: why 9 and not 10?' })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.hands[0]?.question === 'Actually: why 9 and not 10?'))
      assert.deepEqual(lecture(r.ins)!.hands.map((h) => h.userId), ['lea', 'lea2', 'obs'])

      // A participant lowers their own hand.
      r.lea2.send({ type: 'hand', raised: false })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.handCount === 2))
      assert.deepEqual(lecture(r.ins)!.hands.map((h) => h.userId), ['lea', 'obs'])
      assert.ok(await r.lea2.waitFor(() => lecture(r.lea2)?.hands.length === 0 && lecture(r.lea2)?.handCount === 2))
      assert.deepEqual(changes(r.lea2).at(-1), { kind: 'hand-lowered', userId: 'lea2', name: 'Linus' })

      // A learner may not lower someone else's hand, nor all of them: refused with the reason.
      r.lea2.send({ type: 'hand', raised: false, userId: 'lea' })
      r.lea2.send({ type: 'hand', raised: false, all: true })
      assert.ok(await r.lea2.waitFor(() => errors(r.lea2).length === 2))
      for (const e of errors(r.lea2)) {
        assert.equal(e.code, 'forbidden')
        assert.match(e.message, /Only instructors lead the lecture/)
      }
      // Nobody raises someone else's hand.
      r.ins.send({ type: 'hand', raised: true, userId: 'lea2' })
      assert.ok(await r.ins.waitFor(() => errors(r.ins).length === 1))
      assert.match(errors(r.ins)[0].message, /raised by its owner only/)
      assert.equal(lecture(r.ins)!.handCount, 2)

      // The instructor lowers one hand, then all.
      r.ins.send({ type: 'hand', raised: false, userId: 'lea' })
      assert.ok(await r.lea.waitFor(() => lecture(r.lea)?.hands.length === 0 && lecture(r.lea)?.handCount === 1))
      assert.deepEqual(changes(r.lea).at(-1), { kind: 'hand-lowered', userId: 'lea', name: 'Grace', by: 'Ada' })
      r.ins.send({ type: 'hand', raised: false, all: true })
      for (const c of r.people) {
        assert.ok(await c.waitFor(() => lecture(c)?.handCount === 0), 'every hand is down')
        assert.deepEqual(changes(c).at(-1), { kind: 'hands-cleared', by: 'Ada' })
      }

      // Analytics count each person's raised hands (a changed question is not another hand), in JSON and CSV.
      const stats = (await s.api('GET', `/v1/sessions/${r.id}/analytics`, await r.as('instructor', 'ins', 'Ada'))).json
      const raised = Object.fromEntries(stats.participants.map((p: { userId: string; handsRaised: number }) => [p.userId, p.handsRaised]))
      assert.deepEqual(raised, { ins: 0, lea: 1, lea2: 1, obs: 1 })
      const csv = await fetch(`${s.url}/v1/sessions/${r.id}/analytics/export?format=csv`, { headers: { authorization: `Bearer ${await r.as('instructor', 'ins', 'Ada')}` } })
      const [header, ...rows] = (await csv.text()).trim().split('\r\n')
      const col = header!.split(',').indexOf('handsRaised')
      assert.ok(col > 0, 'the CSV has a handsRaised column')
      assert.deepEqual(rows.map((row) => [row.split(',')[0], row.split(',')[col]]).sort(), [['ins', '0'], ['lea', '1'], ['lea2', '1'], ['obs', '1']])
      assert.equal((await s.api('GET', `/v1/sessions/${r.id}/analytics/me`, await r.as('learner', 'lea', 'Grace'))).json.handsRaised, 1)
      r.close()
    })

    it('only instructors lead: a learner or an observer cannot follow or spotlight; a muted learner still raises a hand', async () => {
      const r = await room('deny')
      for (const c of [r.lea, r.obs]) {
        c.send({ type: 'follow', on: true })
        c.send({ type: 'spotlight', userId: 'lea' })
        c.send({ type: 'spotlight', userId: null })
        assert.ok(await c.waitFor(() => errors(c).length === 3), 'three refusals')
        assert.deepEqual(errors(c).map((e) => e.code), ['forbidden', 'forbidden', 'forbidden'])
        assert.match(errors(c)[0].message, c === r.obs ? /Observers follow the lecture but do not lead it/ : /Only instructors lead the lecture/)
      }
      await sleep(100)
      assert.deepEqual(lecture(r.ins), { follow: null, spotlight: null, hands: [], handCount: 0 }, 'nothing changed')
      assert.equal((await s.api('POST', `/v1/sessions/${r.id}/participants/lea/mute`, await r.as('instructor', 'ins', 'Ada'))).status, 200)
      const muted = await RawClient.connect(s.url, r.id, await r.as('learner', 'lea', 'Grace'), { sync: false })
      muted.send({ type: 'hand', raised: true, question: 'May I speak?' })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.hands[0]?.question === 'May I speak?'), 'a muted learner asks to be heard')
      muted.close()
      r.close()
    })

    it('hand raises are rate-limited per person; lowering is not', async () => {
      const r = await room('rate')
      for (let i = 0; i < 4; i++) {
        r.lea.send({ type: 'hand', raised: true, question: `try ${i}` })
        r.lea.send({ type: 'hand', raised: false })
      }
      assert.ok(await r.lea.waitFor(() => r.lea.events.some((e) => e.type === 'rate_limited')), 'the fourth raise is refused')
      const limited = r.lea.events.find((e) => e.type === 'rate_limited')
      assert.equal(limited.what, 'hand')
      assert.ok(limited.retryAfterMs > 0 && limited.retryAfterMs <= 10_000, `retryAfterMs ${limited.retryAfterMs}`)
      assert.match(limited.message, /try again in \d+ s/)
      assert.equal(r.lea.events.filter((e) => e.type === 'rate_limited').length, 1)
      // Another person's allowance is their own.
      r.lea2.send({ type: 'hand', raised: true })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.hands.some((h) => h.userId === 'lea2') === true))
      assert.equal(changes(r.ins).filter((c) => c.kind === 'hand-raised' && c.userId === 'lea').length, 3)
      r.close()
    })

    it('spotlight: everyone sees whose code is shown and who started it; ending it clears it; hidden, unknown and removed people are refused', async () => {
      const r = await room('spot', { mode: 'view' })
      const insToken = await r.as('instructor', 'ins', 'Ada')
      r.ins.send({ type: 'spotlight', userId: 'lea' })
      for (const c of r.people) {
        assert.ok(await c.waitFor(() => lecture(c)?.spotlight?.userId === 'lea'), 'spotlight on Grace')
        assert.equal(lecture(c)!.spotlight!.name, 'Grace')
        assert.equal(lecture(c)!.spotlight!.by, 'Ada')
        assert.deepEqual(changes(c).at(-1), { kind: 'spotlight-started', userId: 'lea', name: 'Grace' })
      }
      const back = await RawClient.connect(s.url, r.id, await r.as('learner', 'lea2', 'Linus'), { sync: false })
      assert.equal(back.welcome.lecture.spotlight.userId, 'lea', 'the spotlight survives a reload')
      r.ins.send({ type: 'spotlight', userId: null })
      for (const c of [...r.people, back]) {
        assert.ok(await c.waitFor(() => lecture(c)?.spotlight === null), 'spotlight ended')
        assert.deepEqual(changes(c).at(-1), { kind: 'spotlight-stopped', userId: 'lea', name: 'Grace' })
      }

      // Refusals: someone unknown, someone hidden, someone removed.
      assert.equal((await s.api('PATCH', `/v1/sessions/${r.id}/participants/lea2`, insToken, { hidden: true })).status, 200)
      assert.equal((await s.api('POST', `/v1/sessions/${r.id}/participants/obs/kick`, insToken)).status, 200)
      r.ins.send({ type: 'spotlight', userId: 'nobody-here' })
      r.ins.send({ type: 'spotlight', userId: 'lea2' })
      r.ins.send({ type: 'spotlight', userId: 'obs' })
      assert.ok(await r.ins.waitFor(() => errors(r.ins).length === 3))
      assert.deepEqual(
        errors(r.ins).map((e) => [e.code, e.message]),
        [
          ['participant_not_found', 'Nobody with that user id has joined this session, so there is no code of theirs to spotlight.'],
          ['participant_hidden', 'Linus is hidden from learners and observers; make them visible before spotlighting them.'],
          ['participant_removed', 'Obi was removed from this session and cannot be spotlighted.'],
        ],
      )
      await sleep(100)
      assert.equal(lecture(r.ins)!.spotlight, null)
      back.close()
      r.close()
    })

    it('people leaving the room leave the lecture: a demoted leader stops leading, a hidden or removed participant leaves the spotlight, a removed participant’s hand comes down', async () => {
      const r = await room('leave')
      const owner = await r.as('instructor', 'ins', 'Ada')
      // A second instructor leads; the owner makes them a learner.
      const ins2 = await RawClient.connect(s.url, r.id, await r.as('instructor', 'ins2', 'Bea'), { sync: false })
      ins2.send({ type: 'follow', on: true })
      assert.ok(await r.lea.waitFor(() => lecture(r.lea)?.follow?.userId === 'ins2'))
      r.lea.send({ type: 'hand', raised: true, question: 'FOR-INSTRUCTORS' })
      assert.ok(await ins2.waitFor(() => lecture(ins2)?.hands[0]?.question === 'FOR-INSTRUCTORS'), 'an instructor sees the question')
      assert.equal((await s.api('PATCH', `/v1/sessions/${r.id}/participants/ins2`, owner, { role: 'learner' })).status, 200)
      assert.ok(await r.lea.waitFor(() => lecture(r.lea)?.follow === null), 'a leader who is no longer an instructor stops leading')
      assert.deepEqual(changes(r.lea).at(-1), { kind: 'follow-stopped', userId: 'ins2', name: 'Bea' })
      // Now a learner, they see the queue as learners do: the count, not others' hands.
      assert.ok(await ins2.waitFor(() => lecture(ins2)?.hands.length === 0 && lecture(ins2)?.handCount === 1), 'a demoted instructor no longer sees others’ hands')

      // Spotlit and then hidden: the spotlight ends.
      r.ins.send({ type: 'spotlight', userId: 'lea2' })
      assert.ok(await r.lea.waitFor(() => lecture(r.lea)?.spotlight?.userId === 'lea2'))
      assert.equal((await s.api('PATCH', `/v1/sessions/${r.id}/participants/lea2`, owner, { hidden: true })).status, 200)
      assert.ok(await r.lea.waitFor(() => lecture(r.lea)?.spotlight === null), 'hidden: out of the spotlight')

      // Spotlit with a hand up, then removed: both end; the owner's own lead goes on.
      r.ins.send({ type: 'follow', on: true })
      r.lea.send({ type: 'hand', raised: true, question: 'q' })
      r.ins.send({ type: 'spotlight', userId: 'lea' })
      assert.ok(await r.obs.waitFor(() => lecture(r.obs)?.spotlight?.userId === 'lea' && lecture(r.obs)?.handCount === 1 && lecture(r.obs)?.follow?.userId === 'ins'))
      assert.equal((await s.api('POST', `/v1/sessions/${r.id}/participants/lea/kick`, owner)).status, 200)
      assert.ok(await r.obs.waitFor(() => lecture(r.obs)?.spotlight === null && lecture(r.obs)?.handCount === 0), 'removed: out of the spotlight, hand down')
      assert.equal(lecture(r.obs)!.follow?.userId, 'ins')
      assert.equal(lecture(r.ins)!.hands.length, 0)
      ins2.close()
      r.close()
    })

    it('recordings show hands, follow and spotlight in their timeline; deleting the session leaves no lecture rows', async () => {
      const r = await room('rec')
      const insToken = await r.as('instructor', 'ins', 'Ada')
      const rec = await s.api('POST', `/v1/sessions/${r.id}/recordings`, insToken, { title: 'Lecture' })
      assert.equal(rec.status, 201)
      r.ins.send({ type: 'follow', on: true })
      assert.ok(await r.lea.waitFor(() => lecture(r.lea)?.follow !== null))
      r.lea.send({ type: 'hand', raised: true, question: 'PRIVATE-QUESTION' })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.handCount === 1))
      r.ins.send({ type: 'spotlight', userId: 'lea' })
      r.ins.send({ type: 'spotlight', userId: null })
      r.ins.send({ type: 'hand', raised: false, userId: 'lea' })
      r.ins.send({ type: 'follow', on: false })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.follow === null && lecture(r.ins)?.handCount === 0 && changes(r.ins).length === 6))
      await s.api('POST', `/v1/sessions/${r.id}/recordings/${rec.json.id}/stop`, insToken)
      let replay: Replay | undefined
      for (let i = 0; i < 100 && !replay; i++) {
        if ((await s.api('GET', `/v1/sessions/${r.id}/recordings/${rec.json.id}`, insToken)).json.status === 'ready') {
          replay = (await s.api('GET', `/v1/sessions/${r.id}/recordings/${rec.json.id}/events`, insToken)).json
        } else await sleep(50)
      }
      assert.ok(replay, 'the replay was built')
      const timeline = replay.events.filter((e) => e.type === 'lecture').map((e) => e.type === 'lecture' && [e.change.kind, e.userId])
      assert.deepEqual(timeline, [
        ['follow-started', 'ins'],
        ['hand-raised', 'lea'],
        ['spotlight-started', 'lea'],
        ['spotlight-stopped', 'lea'],
        ['hand-lowered', 'lea'],
        ['follow-stopped', 'ins'],
      ])
      assert.ok(!JSON.stringify(replay).includes('PRIVATE-QUESTION'), 'questions are not recorded')
      assert.equal(replay.participants.lea?.name, 'Grace')

      r.ins.send({ type: 'follow', on: true })
      r.lea.send({ type: 'hand', raised: true })
      assert.ok(await r.ins.waitFor(() => lecture(r.ins)?.handCount === 1 && lecture(r.ins)?.follow !== null))
      r.close()
      assert.equal((await s.api('DELETE', `/v1/sessions/${r.id}`, TEST_API_KEY)).status, 204)
      const [left] = await s.db.sql`select (select count(*) from raised_hands where session_id = ${r.id})::int as hands, (select count(*) from lectures where session_id = ${r.id})::int as lectures`
      assert.deepEqual({ ...left }, { hands: 0, lectures: 0 })
    })

    it('events that are not understood are answered, and nothing changes', async () => {
      const r = await room('bad')
      const bad = [
        { type: 'hand', raised: 'yes' },
        { type: 'hand', raised: true, question: 'x'.repeat(281) },
        { type: 'hand', raised: true, question: 'bell\u0007' },
        { type: 'follow' },
        { type: 'spotlight' },
        { type: 'spotlight', userId: '' },
      ]
      for (const e of bad) r.lea.send(e)
      assert.ok(await r.lea.waitFor(() => errors(r.lea).length === bad.length))
      assert.deepEqual(errors(r.lea).map((e) => e.code), bad.map(() => 'malformed'))
      assert.match(errors(r.lea)[1].message, /at most 280 characters/)
      assert.match(errors(r.lea)[2].message, /control characters/)
      await sleep(100)
      assert.equal(lecture(r.ins)!.handCount, 0)
      r.close()
    })

    it('the queue survives a server restart', async () => {
      const a = await startTestServer(backend)
      let b: Awaited<ReturnType<typeof createServer>> | undefined
      try {
        const id = sid('restart')
        const tok = (role: 'instructor' | 'learner', user: string, name: string) => a.token(id, role, user, { name })
        const ins = await RawClient.connect(a.url, id, await tok('instructor', 'ins', 'Ada'), { sync: false })
        ins.send({ type: 'follow', on: true })
        for (const [user, name] of [['u1', 'First'], ['u2', 'Second'], ['u3', 'Third']] as const) {
          const c = await RawClient.connect(a.url, id, await tok('learner', user, name), { sync: false })
          c.send({ type: 'hand', raised: true, question: `question of ${name}` })
          assert.ok(await ins.waitFor(() => lecture(ins)?.hands.some((h) => h.userId === user) ?? false))
          c.close()
        }
        const before = lecture(ins)!
        assert.equal(before.follow?.userId, 'ins')
        ins.close()
        await a.close()

        b = await createServer({ port: 0, host: '127.0.0.1', dataDir: a.dataDir, databaseUrl: a.databaseUrl, env: { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY, SESSION_KIT_NEW_CONNECTIONS_PER_IP: '0' }, log: () => {} })
        const again = await RawClient.connect(b.url, id, await tok('instructor', 'ins', 'Ada'), { sync: false })
        assert.deepEqual(again.welcome.lecture, before, 'the same queue, in the same order, with the same leader')
        assert.deepEqual(again.welcome.lecture.hands.map((h: { userId: string }) => h.userId), ['u1', 'u2', 'u3'])
        const learner = await RawClient.connect(b.url, id, await tok('learner', 'u2', 'Second'), { sync: false })
        assert.deepEqual(learner.welcome.lecture.hands.map((h: { question: string }) => h.question), ['question of Second'])
        assert.equal(learner.welcome.lecture.handCount, 3)
        again.close()
        learner.close()
      } finally {
        await b?.close()
        await a.stop()
      }
    })

    if (backend === 'postgres') {
      it('a hand raised on one instance reaches an instructor on another', async () => {
        const other = await createServer({ port: 0, host: '127.0.0.1', dataDir: await freshDataDir(), databaseUrl: s.databaseUrl, env: { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY, SESSION_KIT_NEW_CONNECTIONS_PER_IP: '0' }, log: () => {} })
        try {
          const id = sid('multi')
          const ins = await RawClient.connect(other.url, id, await s.token(id, 'instructor', 'ins', { name: 'Ada' }), { sync: false })
          assert.ok(ins.welcome, 'the instructor is on instance B')
          const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea', { name: 'Grace' }), { sync: false })
          const lea2 = await RawClient.connect(other.url, id, await s.token(id, 'learner', 'lea2', { name: 'Linus' }), { sync: false })
          lea.send({ type: 'hand', raised: true, question: 'From instance A' })
          assert.ok(await ins.waitFor(() => lecture(ins)?.hands[0]?.question === 'From instance A'), 'instance B’s instructor sees the hand')
          assert.deepEqual(changes(ins).at(-1), { kind: 'hand-raised', userId: 'lea', name: 'Grace' })
          assert.ok(await lea2.waitFor(() => lecture(lea2)?.handCount === 1), 'a learner on B sees the count')
          assert.deepEqual(lecture(lea2)!.hands, [])
          ins.send({ type: 'follow', on: true })
          assert.ok(await lea.waitFor(() => lecture(lea)?.follow?.userId === 'ins'), 'instance A hears follow from B')
          ins.send({ type: 'hand', raised: false, all: true })
          assert.ok(await lea.waitFor(() => lecture(lea)?.handCount === 0 && lecture(lea)?.hands.length === 0))
          for (const c of [ins, lea, lea2]) c.close()
        } finally {
          const dir = other.config.dataDir
          await other.close()
          removeDir(dir)
        }
      })
    }
  })
}
