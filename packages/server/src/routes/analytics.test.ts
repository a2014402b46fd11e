import assert from 'node:assert/strict'
import * as A from '@automerge/automerge'
import { after, before, describe, it } from 'node:test'
import type { AnalyticsResponse, OwnActivity } from '@session-kit/core'
import { RawClient } from '../testing/client.js'
import { backends } from '../testing/db.js'
import { startTestServer, type TestServer } from '../testing/server.js'

// A lesson on a clock the test moves: every event is stamped with it, so the numbers are exact.
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0)
const at = (minutes: number, seconds = 0) => T0 + minutes * 60_000 + seconds * 1000

/** The CSV back into rows of strings (no quoted commas in this fixture). */
const csvRows = (text: string) =>
  text
    .trim()
    .split('\r\n')
    .map((l) => l.split(','))

for (const backend of backends()) {
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
  })
}
