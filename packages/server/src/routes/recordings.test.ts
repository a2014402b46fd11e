import assert from 'node:assert/strict'
import * as A from '@automerge/automerge'
import { after, before, describe, it } from 'node:test'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { replayStateAt, type Replay } from '@session-kit/core'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const filesAt = (replay: Replay, t: number) => replayStateAt(replay, t).files

for (const backend of [oneBackend()]) {
  describe(`recordings on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    async function replayOf(id: string, recId: string, token: string): Promise<Replay> {
      for (let i = 0; i < 100; i++) {
        const r = await s.api('GET', `/v1/sessions/${id}/recordings/${recId}`, token)
        if (r.json.status === 'ready') break
        await sleep(50)
      }
      const res = await fetch(`${s.url}/v1/sessions/${id}/recordings/${recId}/events`, { headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'identity' } })
      assert.equal(res.status, 200)
      return (await res.json()) as Replay
    }

    it('replays a scripted session exactly: final code, a mid-point, paused edits left out of the typing, duration without the pause', async () => {
      const id = `rec-${Date.now().toString(36)}`
      const ins = await RawClient.connect(s.url, id, await s.token(id, 'instructor', 'ins', { name: 'Ada' }))
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea', { name: 'Grace' }))
      assert.ok((await ins.waitFor(() => ins.text() !== undefined)) && (await lea.waitFor(() => lea.text() !== undefined)), 'synced')
      ins.type('main.js', 0, 'before the recording;\n')
      assert.ok(await lea.waitFor(() => lea.text() === 'before the recording;\n'), 'pre-recording text')
      const insToken = await s.token(id, 'instructor', 'ins', { name: 'Ada' })
      const rec = await s.api('POST', `/v1/sessions/${id}/recordings`, insToken, { title: 'Loops lesson', description: 'for and while' })
      assert.equal(rec.status, 201)
      assert.ok(await lea.waitFor(() => lea.events.some((e) => e.type === 'session' && e.session.recording && /Ada started recording/.test(e.reason))), 'everyone is told the room is recorded')
      const t0 = Date.now()
      for (let i = 0; i < 15; i++) {
        ins.type('main.js', 0, 'a')
        lea.type('main.js', lea.text()!.length, 'b')
        await sleep(8)
      }
      assert.ok(await ins.waitFor(() => ins.acked.size >= 16 && lea.acked.size >= 15 && ins.text() === lea.text()), 'phase 1 saved')
      const midText = ins.text()!
      const midAt = Date.now()
      await sleep(30)
      assert.equal((await s.api('POST', `/v1/sessions/${id}/recordings/${rec.json.id}/pause`, insToken)).json.status, 'paused')
      const pausedAt = Date.now()
      lea.type('main.js', 0, 'PAUSED ')
      assert.ok(await lea.waitFor(() => lea.acked.size >= 16), 'paused edit saved')
      await sleep(400)
      assert.equal((await s.api('POST', `/v1/sessions/${id}/recordings/${rec.json.id}/resume`, insToken)).json.status, 'recording')
      const pauseMs = Date.now() - pausedAt
      const phase3: string[] = []
      for (let i = 0; i < 10; i++) {
        // Deletions too, of text typed before and during the recording.
        if (i % 3 === 0) phase3.push(ins.edit((d) => A.splice(d, ['files', 'main.js'], 2, 3)))
        phase3.push(ins.type('main.js', 0, 'c'))
        await sleep(5)
      }
      assert.ok(await ins.waitFor(() => phase3.every((h) => ins.acked.has(h)) && ins.text() === lea.text()), 'phase 3 saved')
      const finalText = ins.text()!
      const stop = await s.api('POST', `/v1/sessions/${id}/recordings/${rec.json.id}/stop`, insToken)
      assert.equal(stop.json.status, 'processing')
      const wall = Date.now() - t0
      const replay = await replayOf(id, rec.json.id, insToken)

      assert.deepEqual(replay.files, { 'main.js': 'before the recording;\n' }, 'starts from the document at the start')
      assert.equal(filesAt(replay, Infinity)['main.js'], finalText, 'ends with the exact code at stop')
      // On the server's clock: the recording started (and paused) slightly before our requests returned.
      const meta = await s.api('GET', `/v1/sessions/${id}/recordings/${rec.json.id}`, insToken)
      const startedAt = Date.parse(meta.json.spans[0].from)
      const midT = midAt - startedAt
      assert.equal(filesAt(replay, midT)['main.js'], midText, 'the text at a mid-point equals the document then')
      const pausePoint = Date.parse(meta.json.spans[0].to) - startedAt
      assert.ok(!filesAt(replay, pausePoint - 1)['main.js']!.includes('PAUSED'), 'paused edits are not typed into the replay')
      const jump = replay.events.find((e) => e.type === 'edit' && e.splices.some((sp) => sp.ins.includes('PAUSED')))!
      assert.equal(jump?.t, pausePoint, 'the paused edit appears at once where the recording resumed')
      const spans = meta.json.spans.map((x: { from: string; to: string }) => [Date.parse(x.from), Date.parse(x.to)])
      assert.equal(spans.length, 2, 'one pause: two recorded spans')
      assert.equal(replay.recording.durationMs, spans[0][1] - spans[0][0] + spans[1][1] - spans[1][0], 'duration is the recorded spans only')
      assert.ok(replay.recording.durationMs <= wall - pauseMs + 60, `duration ${replay.recording.durationMs} excludes the ${pauseMs} ms pause (wall ${wall})`)
      assert.deepEqual(replay.participants.lea, { name: 'Grace', color: replay.participants.lea!.color })
      assert.ok(replay.events.some((e) => e.type === 'edit' && e.userId === 'lea'), 'each change carries its author')
      assert.equal(meta.json.durationSeconds, Math.round(replay.recording.durationMs / 1000))
      ins.close()
      lea.close()
    })

    it('records chat and runs with markers; private recordings are 404 publicly, public ones play without a token', async () => {
      const id = `rec-pub-${Date.now().toString(36)}`
      const ins = await RawClient.connect(s.url, id, await s.token(id, 'instructor', 'ins', { name: 'Ada' }))
      assert.ok(await ins.waitFor(() => ins.text() !== undefined), 'synced')
      const insToken = await s.token(id, 'instructor', 'ins', { name: 'Ada' })
      const lea = await s.token(id, 'learner', 'lea')
      assert.equal((await s.api('POST', `/v1/sessions/${id}/recordings`, lea, { title: 'no' })).status, 403)
      const rec = await s.api('POST', `/v1/sessions/${id}/recordings`, insToken, { title: 'Public demo' })
      assert.equal((await s.api('POST', `/v1/sessions/${id}/recordings`, insToken, { title: 'twice' })).status, 409)
      ins.type('main.js', 0, 'x')
      ins.send({ type: 'chat', text: 'look at line 1' })
      ins.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok: true, errors: 0, durationMs: 12, output: '' } })
      assert.ok(await ins.waitFor(() => ins.events.some((e) => e.type === 'run')), 'run shared')
      assert.equal((await s.api('POST', `/v1/sessions/${id}/recordings/${rec.json.id}/stop`, lea)).status, 403)
      await s.api('POST', `/v1/sessions/${id}/recordings/${rec.json.id}/stop`, insToken)
      const replay = await replayOf(id, rec.json.id, insToken)
      assert.deepEqual(replay.events.filter((e) => e.type !== 'edit').map((e) => e.type), ['chat', 'run'])
      assert.equal(replay.events.find((e) => e.type === 'chat' && e.text === 'look at line 1')?.userId, 'ins')
      const hidden = await s.api('GET', `/v1/recordings/${rec.json.id}/public`)
      assert.equal(hidden.status, 404)
      assert.equal((await s.api('PATCH', `/v1/sessions/${id}/recordings/${rec.json.id}`, insToken, { isPublic: true, title: 'Renamed' })).json.title, 'Renamed')
      const open = await fetch(`${s.url}/v1/recordings/${rec.json.id}/public`)
      assert.equal(open.status, 200)
      assert.equal(((await open.json()) as Replay).events.length, replay.events.length)
      const dl = await fetch(`${s.url}/v1/sessions/${id}/recordings/${rec.json.id}/download`, { headers: { authorization: `Bearer ${insToken}`, 'accept-encoding': 'gzip' } })
      assert.match(dl.headers.get('content-disposition') ?? '', /attachment; filename="recording-Renamed\.json"/)
      // (fetch undoes the gzip content encoding itself)
      assert.equal(((await dl.json()) as Replay).recording.title, 'Public demo', 'the replay was built under its first title')
      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/recordings/${rec.json.id}`, lea)).status, 403)
      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/recordings/${rec.json.id}`, insToken)).status, 204)
      assert.equal((await fetch(`${s.url}/v1/recordings/${rec.json.id}/public`)).status, 404)
      ins.close()
    })
  })
}

for (const backend of [oneBackend()]) {
  describe(`recording times on ${backend}`, () => {
    let s: TestServer
    // An instance whose own clock is an hour ahead: the recording must not follow it.
    before(async () => {
      s = await startTestServer(backend, { clock: () => new Date(Date.now() + 3_600_000) })
    })
    after(() => s.stop())

    it('are the database’s: start, pause, resume and stop agree with every instance, whatever its clock', async () => {
      const id = `clock-${Date.now().toString(36)}`
      const token = await s.token(id, 'instructor', 'ins', { name: 'Ada' })
      const ins = await RawClient.connect(s.url, id, token)
      assert.ok(ins.welcome, 'joined')
      const dbNow = async () => (await s.db.sql<{ t: Date }[]>`select now() as t`)[0]!.t.getTime()
      const near = (iso: string, t: number, what: string) => assert.ok(Math.abs(new Date(iso).getTime() - t) < 60_000, `${what} ${iso} is not the database’s time (${new Date(t).toISOString()})`)
      const rec = await s.api('POST', `/v1/sessions/${id}/recordings`, token, { title: 'Clocks' })
      assert.equal(rec.status, 201)
      near(rec.json.startedAt, await dbNow(), 'started at')
      near(rec.json.spans[0].from, await dbNow(), 'the first span starts at')
      const base = `/v1/sessions/${id}/recordings/${rec.json.id}`
      for (const action of ['pause', 'resume', 'stop']) assert.equal((await s.api('POST', `${base}/${action}`, token)).status, 200, action)
      const done = (await s.api('GET', base, token)).json
      near(done.stoppedAt, await dbNow(), 'stopped at')
      assert.equal(done.spans.length, 2)
      for (const span of done.spans) near(span.to, await dbNow(), 'a span ends at')
      assert.ok(done.durationMs >= 0 && done.durationMs < 60_000, `recorded ${done.durationMs} ms`)
      ins.close()
    })
  })
}
