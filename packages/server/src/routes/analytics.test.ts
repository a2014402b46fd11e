import assert from 'node:assert/strict'
import * as A from '@automerge/automerge'
import { after, before, describe, it } from 'node:test'
import type { AnalyticsResponse, OwnActivity } from '@session-kit/core'
import { mintToken } from '../auth/tokens.js'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'

// A lesson on a clock the test moves: every event is stamped with it, so the numbers are exact.
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0)
const at = (minutes: number, seconds = 0) => T0 + minutes * 60_000 + seconds * 1000

/** The CSV back into rows of strings (no quoted commas in this fixture). */
const csvRows = (text: string) =>
  text
    .trim()
    .split('\r\n')
    .map((l) => l.split(','))

for (const backend of [oneBackend()]) {
  describe(`analytics on ${backend}`, () => {
    let s: TestServer
    let now = T0
    const sid = `stats-${Date.now().toString(36)}`
    let ada: RawClient
    let grace: RawClient
    let linus: RawClient
    let insToken: string
    let leaToken: string
    let obsToken: string

    before(async () => {
      s = await startTestServer(backend, { clock: () => new Date(now) })
      insToken = await s.token(sid, 'instructor', 'ada', { name: 'Ada' })
      leaToken = await s.token(sid, 'learner', 'grace', { name: 'Grace' })
      obsToken = await s.token(sid, 'observer', 'linus', { name: 'Linus' })

      // 0:00 Ada joins; 0:30 she types one character.
      ada = await RawClient.connect(s.url, sid, insToken)
      assert.ok(await ada.waitFor(() => ada.text() !== undefined), 'Ada synced')
      now = at(0, 30)
      ada.type('main.js', 0, 'x')
      assert.ok(await ada.waitFor(() => ada.acked.size === 1), 'saved')

      // 70:10 Grace joins, 70:20 Linus (observer).
      now = at(70, 10)
      grace = await RawClient.connect(s.url, sid, leaToken)
      assert.ok(await grace.waitFor(() => grace.text() !== undefined), 'Grace synced')
      now = at(70, 20)
      linus = await RawClient.connect(s.url, sid, obsToken)
      assert.ok(await linus.waitFor(() => linus.text() !== undefined), 'Linus synced')

      // 71:05–71:07 Grace: "ab", "c", then deletes one character. 71:30 Ada types, 71:40 says hello.
      for (const [sec, edit] of [
        [5, (d: { files: Record<string, string> }) => A.splice(d, ['files', 'main.js'], 1, 0, 'ab')],
        [6, (d: { files: Record<string, string> }) => A.splice(d, ['files', 'main.js'], 3, 0, 'c')],
        [7, (d: { files: Record<string, string> }) => A.splice(d, ['files', 'main.js'], 3, 1)],
      ] as const) {
        now = at(71, sec)
        const before = grace.acked.size
        grace.edit(edit as never)
        assert.ok(await grace.waitFor(() => grace.acked.size === before + 1), 'Grace’s change saved')
      }
      now = at(71, 30)
      ada.type('main.js', 0, 'y')
      assert.ok(await ada.waitFor(() => ada.acked.size === 2), 'saved')
      now = at(71, 40)
      ada.send({ type: 'chat', text: 'Welcome!' })
      assert.ok(await ada.waitFor(() => ada.events.some((e) => e.type === 'chat')), 'chat stored')

      // 72:10–72:40 Grace runs four times; every run fails.
      for (let i = 1; i <= 4; i++) {
        now = at(72, i * 10)
        grace.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok: false, errors: 1, durationMs: 5, output: 'ReferenceError' } })
        assert.ok(await ada.waitFor(() => ada.events.filter((e) => e.type === 'run').length === i), `run ${i} stored`)
      }
      // 73:00 Grace asks for help; 74:00 Linus leaves; 119:30 Grace writes again.
      now = at(73)
      grace.send({ type: 'chat', text: 'help?' })
      assert.ok(await ada.waitFor(() => ada.events.filter((e) => e.type === 'chat').length === 2), 'chat stored')
      now = at(74)
      linus.close()
      assert.ok(await ada.waitFor(() => ada.events.some((e) => e.type === 'left' && e.userId === 'linus')), 'Linus left')
      // Others hear of a leave before the server has put away the connection: wait for that too,
      // before the clock moves on (a loaded machine would otherwise stamp it later, or count him online).
      for (let i = 0; i < 100; i++) {
        const [open] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from connections where session_id = ${sid} and user_id = 'linus'`
        if (open!.n === 0) break
        await new Promise((r) => setTimeout(r, 20))
      }
      now = at(119, 30)
      grace.send({ type: 'chat', text: 'got it' })
      assert.ok(await ada.waitFor(() => ada.events.filter((e) => e.type === 'chat').length === 3), 'chat stored')
      now = at(120)
    })
    after(async () => {
      ada?.close()
      grace?.close()
      linus?.close()
      await s.stop()
    })

    const get = async (path: string, token = insToken) => s.api('GET', `/v1/sessions/${sid}/analytics${path}`, token)

    it('gives exactly the hand-computed figures for the whole session (see docs/analytics.md)', async () => {
      const { status, json } = await get('?range=all')
      assert.equal(status, 200)
      const res = json as AnalyticsResponse
      assert.deepEqual(res.session, {
        durationSeconds: 7200,
        participantCount: 3,
        peakParticipants: 3,
        activeParticipants: 1,
        codeChanges: 5,
        serverChanges: 0,
        executions: 4,
        verifiedRuns: 0,
        codeChangesPerMinute: 0.04,
        executionsPerMinute: 0.03,
        averageSessionSeconds: 3470,
        engagementScore: 36,
      })
      const rows = res.participants.map(({ userId, name, role, engagementScore, codeChanges, charsInserted, charsDeleted, executions, chatMessages, activeSeconds, connectedSeconds }) => ({
        userId,
        name,
        role,
        engagementScore,
        codeChanges,
        charsInserted,
        charsDeleted,
        executions,
        chatMessages,
        activeSeconds,
        connectedSeconds,
      }))
      assert.deepEqual(rows, [
        { userId: 'ada', name: 'Ada', role: 'instructor', engagementScore: 44, codeChanges: 2, charsInserted: 2, charsDeleted: 0, executions: 0, chatMessages: 1, activeSeconds: 120, connectedSeconds: 7200 },
        { userId: 'grace', name: 'Grace', role: 'learner', engagementScore: 36, codeChanges: 3, charsInserted: 3, charsDeleted: 1, executions: 4, chatMessages: 2, activeSeconds: 240, connectedSeconds: 2990 },
        { userId: 'linus', name: 'Linus', role: 'observer', engagementScore: 1, codeChanges: 0, charsInserted: 0, charsDeleted: 0, executions: 0, chatMessages: 0, activeSeconds: 0, connectedSeconds: 220 },
      ])
      const grace = res.participants[1]!
      assert.deepEqual(grace.recentRuns, [false, false, false, false])
      assert.equal(grace.online, true)
      assert.equal(grace.lastActivityAt, new Date(at(119, 30)).toISOString())
      assert.equal(grace.connectedSince, new Date(at(70, 10)).toISOString())
      assert.equal(res.participants[2]!.online, false)
      // The trend: one point per minute, 0 to 120.
      assert.equal(res.seriesStepMinutes, 1)
      assert.equal(res.series.length, 121)
      assert.deepEqual(res.series[0], { minute: new Date(at(0)).toISOString(), codeChanges: 1, executions: 0, activeParticipants: 1 })
      assert.deepEqual(res.series[71], { minute: new Date(at(71)).toISOString(), codeChanges: 4, executions: 0, activeParticipants: 2 })
      assert.deepEqual(res.series[72], { minute: new Date(at(72)).toISOString(), codeChanges: 0, executions: 4, activeParticipants: 1 })
      assert.equal(res.series.reduce((n, p) => n + p.codeChanges, 0), 5)
      assert.equal(res.series.filter((p) => p.activeParticipants > 0).length, 5)
      // 24h covers the same span in a session this short.
      const day = (await get('?range=24h')).json as AnalyticsResponse
      assert.deepEqual(day.session, res.session)
      assert.deepEqual(day.participants, res.participants)
    })

    it('the last hour counts only its own minutes', async () => {
      const res = (await get('?range=1h')).json as AnalyticsResponse
      assert.equal(res.from, new Date(at(61)).toISOString())
      assert.deepEqual(res.session, {
        durationSeconds: 3540,
        participantCount: 3,
        peakParticipants: 3,
        activeParticipants: 1,
        codeChanges: 4,
        serverChanges: 0,
        executions: 4,
        verifiedRuns: 0,
        codeChangesPerMinute: 0.07,
        executionsPerMinute: 0.07,
        averageSessionSeconds: 2250,
        engagementScore: 49,
      })
      assert.deepEqual(
        res.participants.map((p) => [p.userId, p.engagementScore, p.codeChanges, p.activeSeconds, p.connectedSeconds]),
        [
          ['ada', 44, 1, 60, 3540],
          ['grace', 49, 3, 240, 2990],
          ['linus', 2, 0, 0, 220],
        ],
      )
      assert.equal(res.series.length, 60)
    })

    it('anonymizes with pseudonyms numbered by first join, the same in every range', async () => {
      for (const range of ['all', '1h']) {
        const plain = (await get(`?range=${range}`)).json as AnalyticsResponse
        const anon = (await get(`?range=${range}&anonymize=true`)).json as AnalyticsResponse
        assert.equal(anon.anonymized, true)
        assert.deepEqual(
          anon.participants.map((p) => [p.userId, p.name]),
          [
            ['participant-1', 'Participant 1'],
            ['participant-2', 'Participant 2'],
            ['participant-3', 'Participant 3'],
          ],
        )
        assert.deepEqual(
          anon.participants.map((p) => p.codeChanges),
          plain.participants.map((p) => p.codeChanges),
        )
        assert.ok(!JSON.stringify(anon).includes('Grace') && !JSON.stringify(anon).includes('"grace"'), 'no name or id left')
      }
    })

    it('exports CSV and JSON that match the route, with a sensible file name', async () => {
      const route = (await get('?range=all&anonymize=true')).json as AnalyticsResponse
      const csv = await fetch(`${s.url}/v1/sessions/${sid}/analytics/export?format=csv&range=all&anonymize=true`, { headers: { authorization: `Bearer ${insToken}` } })
      assert.equal(csv.status, 200)
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/)
      assert.match(csv.headers.get('content-disposition') ?? '', new RegExp(`attachment; filename="analytics-${sid}-all-anonymized-2026-01-05T1100\\.csv"`))
      const [header, ...rows] = csvRows(await csv.text())
      assert.deepEqual(header, ['userId', 'name', 'role', 'engagementScore', 'codeChanges', 'charsInserted', 'charsDeleted', 'executions', 'chatMessages', 'activeSeconds', 'connectedSeconds', 'handsRaised'])
      assert.deepEqual(
        rows,
        route.participants.map((p) => header!.map((h) => String(p[h as keyof typeof p]))),
      )
      const json = await s.api('GET', `/v1/sessions/${sid}/analytics/export?format=json&range=all&anonymize=true`, insToken)
      assert.match(json.headers.get('content-disposition') ?? '', /\.json"$/)
      const body = json.json as AnalyticsResponse & { format: string }
      assert.equal(body.format, 'session-kit-analytics')
      assert.deepEqual(body.session, route.session)
      assert.deepEqual(body.participants, route.participants)
      assert.deepEqual(body.series, route.series)
      assert.equal((await get('/export?format=xml')).status, 400)
    })

    it('is for instructors only; everyone sees their own counts without a score', async () => {
      for (const token of [leaToken, obsToken]) {
        const denied = await get('?range=all', token)
        assert.equal(denied.status, 403)
        assert.equal((denied.json as { error: { permission: string } }).error.permission, 'VIEW_ANALYTICS')
        const exp = await get('/export?format=csv', token)
        assert.equal(exp.status, 403)
        assert.equal((exp.json as { error: { permission: string } }).error.permission, 'EXPORT_DATA')
      }
      const me = (await get('/me?range=all', leaToken)).json as OwnActivity
      assert.deepEqual(
        { codeChanges: me.codeChanges, charsInserted: me.charsInserted, charsDeleted: me.charsDeleted, executions: me.executions, chatMessages: me.chatMessages, activeSeconds: me.activeSeconds, connectedSeconds: me.connectedSeconds },
        { codeChanges: 3, charsInserted: 3, charsDeleted: 1, executions: 4, chatMessages: 2, activeSeconds: 240, connectedSeconds: 2990 },
      )
      assert.equal('engagementScore' in me, false)
      const obs = (await get('/me', obsToken)).json as OwnActivity
      assert.equal(obs.connectedSeconds, 220)
      assert.equal((await get('?range=week')).status, 400)
    })

    it('after everyone has left, the range ends at the session’s last event', async () => {
      now = at(121)
      ada.close()
      grace.close()
      for (let i = 0; i < 100; i++) {
        const r = (await get('?range=all')).json as AnalyticsResponse
        if (r.participants.every((p) => !p.online)) break
        await new Promise((r) => setTimeout(r, 50))
      }
      now = at(300)
      const res = (await get('?range=all')).json as AnalyticsResponse
      assert.equal(res.to, new Date(at(121)).toISOString())
      assert.equal(res.session.durationSeconds, 121 * 60)
      assert.equal(res.session.activeParticipants, 1, 'Grace was active in the session’s last five minutes')
      assert.deepEqual(
        res.participants.map((p) => [p.userId, p.connectedSeconds, p.online]),
        [
          ['ada', 121 * 60, false],
          ['grace', 2990 + 60, false],
          ['linus', 220, false],
        ],
      )
    })

    it('leaves a test user (an LMS’s student view) out unless asked for, and marks them then', async () => {
      const sv = `${sid}-sv`
      now = at(400)
      const made = await s.api('POST', '/v1/sessions', undefined, { id: sv, title: 'Student view', ownerId: 'ada', files: { 'main.js': '' } }, { authorization: `Bearer ${TEST_API_KEY}` })
      assert.equal(made.status, 201, JSON.stringify(made.json))
      const ins = await s.token(sv, 'instructor', 'ada', { name: 'Ada' })
      const lea = await s.token(sv, 'learner', 'grace', { name: 'Grace' })
      const test = await mintToken({ sid: sv, role: 'learner', sub: 'ada-student-view', name: 'Ada Student', test: true }, TEST_SECRET, { ttl: '1h' })

      // 400:10 Grace joins and types; 400:20 the test user joins, types twice, runs and chats.
      now = at(400, 10)
      const g = await RawClient.connect(s.url, sv, lea)
      assert.ok(await g.waitFor(() => g.text('main.js') !== undefined), 'Grace synced')
      g.type('main.js', 0, 'a')
      assert.ok(await g.waitFor(() => g.acked.size === 1), 'saved')
      now = at(400, 20)
      const t = await RawClient.connect(s.url, sv, test)
      assert.ok(await t.waitFor(() => t.text('main.js') !== undefined), 'the test user synced')
      t.type('main.js', 0, 'xy')
      assert.ok(await t.waitFor(() => t.acked.size === 1), 'saved')
      t.type('main.js', 0, 'z')
      assert.ok(await t.waitFor(() => t.acked.size === 2), 'saved')
      t.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok: true, errors: 0, durationMs: 5, output: '' } })
      assert.ok(await g.waitFor(() => g.events.some((e) => e.type === 'run')), 'run stored')
      t.send({ type: 'chat', text: 'does this work?' })
      assert.ok(await g.waitFor(() => g.events.some((e) => e.type === 'chat')), 'chat stored')
      now = at(402)

      const stats = (path: string, token = ins) => s.api('GET', `/v1/sessions/${sv}/analytics${path}`, token)
      // Counted a moment after they are stored: ask until the test user's run is in when included.
      let all: AnalyticsResponse | undefined
      for (let i = 0; i < 100; i++) {
        all = (await stats('?includeTestUsers=true')).json as AnalyticsResponse
        if (all.session.executions === 1 && all.session.codeChanges === 3) break
        await new Promise((r) => setTimeout(r, 50))
      }

      // By default: as if the test user had never been there.
      const plain = (await stats('')).json as AnalyticsResponse
      assert.deepEqual(
        plain.participants.map((p) => [p.userId, p.codeChanges, 'testUser' in p]),
        [['grace', 1, false]],
      )
      assert.equal(plain.session.participantCount, 1)
      assert.equal(plain.session.peakParticipants, 1)
      assert.equal(plain.session.activeParticipants, 1)
      assert.equal(plain.session.codeChanges, 1)
      assert.equal(plain.session.executions, 0)
      assert.equal(plain.series.reduce((n, p) => n + p.codeChanges, 0), 1)
      assert.equal(plain.series.reduce((n, p) => n + p.executions, 0), 0)
      assert.equal(Math.max(...plain.series.map((p) => p.activeParticipants)), 1)
      assert.ok(!JSON.stringify(plain).includes('ada-student-view'), 'no trace of the test user')
      assert.deepEqual((await stats('?includeTestUsers=false')).json.participants, plain.participants)

      // Asked for: counted like anyone, and marked.
      assert.deepEqual(
        all!.participants.map((p) => [p.userId, p.codeChanges, p.executions, p.chatMessages, p.testUser]),
        [
          ['grace', 1, 0, 0, undefined],
          ['ada-student-view', 2, 1, 1, true],
        ],
      )
      assert.equal('testUser' in all!.participants[0]!, false, 'only the test user’s row carries the mark')
      assert.equal(all!.session.participantCount, 2)
      assert.equal(all!.session.peakParticipants, 2)
      assert.equal(all!.session.activeParticipants, 2)
      assert.equal(all!.session.codeChanges, 3)
      assert.equal(all!.session.executions, 1)
      assert.equal(all!.series.reduce((n, p) => n + p.codeChanges, 0), 3)
      assert.equal(all!.series.reduce((n, p) => n + p.executions, 0), 1)
      assert.deepEqual((await stats('?includeTestUsers=1')).json.participants, all!.participants)

      // Pseudonyms are numbered over everyone: Grace is Participant 1 either way.
      const anon = (await stats('?anonymize=true&includeTestUsers=true')).json as AnalyticsResponse
      assert.deepEqual(
        anon.participants.map((p) => [p.name, p.testUser]),
        [
          ['Participant 1', undefined],
          ['Participant 2', true],
        ],
      )
      assert.deepEqual(((await stats('?anonymize=true')).json as AnalyticsResponse).participants.map((p) => p.name), ['Participant 1'])

      // The CSV: the same rows; a testUser column only when test users were asked for.
      const csv = async (q: string) => csvRows(await (await fetch(`${s.url}/v1/sessions/${sv}/analytics/export?format=csv${q}`, { headers: { authorization: `Bearer ${ins}` } })).text())
      const [header, ...rows] = await csv('')
      assert.equal(header!.includes('testUser'), false)
      assert.deepEqual(rows.map((r) => r[0]), ['grace'])
      const [header2, ...rows2] = await csv('&includeTestUsers=true')
      assert.equal(header2!.at(-1), 'testUser')
      assert.deepEqual(rows2.map((r) => [r[0], r.at(-1)]), [
        ['grace', 'false'],
        ['ada-student-view', 'true'],
      ])
      const json = (await stats('/export?format=json')).json as AnalyticsResponse
      assert.deepEqual(json.participants.map((p) => p.userId), ['grace'])

      // The test user sees their own counts, like anyone.
      const own = (await stats('/me', test)).json as OwnActivity
      assert.deepEqual([own.userId, own.codeChanges, own.executions, own.chatMessages], ['ada-student-view', 2, 1, 1])
      assert.equal('testUser' in own, false)

      const bad = await stats('?includeTestUsers=maybe')
      assert.equal(bad.status, 400)
      assert.match(JSON.stringify(bad.json), /includeTestUsers must be true or false/)
      g.close()
      t.close()
    })
  })
}
