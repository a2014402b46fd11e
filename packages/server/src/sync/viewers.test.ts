import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as A from '@automerge/automerge'
import { oneBackend } from '../testing/db.js'
import { RawClient } from '../testing/client.js'
import { startTestServer, type TestServer } from '../testing/server.js'

let n = 0
const sid = (label: string) => `${label}-${Date.now().toString(36)}-${n++}`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const backend of [oneBackend()]) {
  describe(`light viewers and the relay on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    async function open(id: string) {
      const ins = await RawClient.connect(s.url, id, await s.token(id, 'instructor', 'ins'))
      assert.ok(await ins.waitFor(() => ins.text() !== undefined), 'no document synced')
      return ins
    }
    const viewer = async (id: string, user: string, role: 'observer' | 'learner' = 'observer') =>
      RawClient.connect(s.url, id, await s.token(id, role, user), { mode: 'full', allowView: true })

    it('an observer gets the text and then one splices frame per durable batch, never Automerge', async () => {
      const id = sid('view')
      const ins = await open(id)
      const obs = await viewer(id, 'obs')
      assert.equal(obs.welcome.mode, 'view')
      assert.equal(obs.welcome.protocol, 2)
      assert.ok(await obs.waitFor(() => obs.view !== null), 'no text frame')
      assert.deepEqual(obs.view, { 'main.js': ins.text('main.js') })
      for (let i = 0; i < 20; i++) {
        ins.type('main.js', i % 3 === 0 ? 0 : ins.text()!.length, i % 5 === 0 ? '😀' : 'ab')
        if (i % 4 === 0) ins.edit((d) => A.splice(d, ['files', 'main.js'], 1, 2))
        await sleep(5)
      }
      assert.ok(await obs.waitFor(() => obs.view!['main.js'] === ins.text()), `viewer diverged: ${JSON.stringify(obs.view)} vs ${ins.text()}`)
      assert.equal(obs.binaryReceived, 0, 'a viewer never receives an Automerge frame')
      const stored = (await s.api('GET', `/v1/sessions/${id}/document`, await s.token(id, 'observer', 'x'))).json.files['main.js']
      assert.equal(stored, ins.text())
      ins.close()
      obs.close()
    })

    it('every viewer receives the very same bytes for a batch (encoded once)', async () => {
      const id = sid('once')
      const ins = await open(id)
      const viewers = await Promise.all(['a', 'b', 'c'].map((u) => viewer(id, u)))
      await Promise.all(viewers.map((v) => v.waitFor(() => v.view !== null)))
      ins.type('main.js', 0, 'hello')
      await Promise.all(viewers.map((v) => v.waitFor(() => v.events.some((e) => e.type === 'splices'))))
      const frames = viewers.map((v) => v.rawText.find((t) => t.includes('"splices"')))
      assert.ok(frames[0], 'no splices frame')
      assert.deepEqual(frames, [frames[0], frames[0], frames[0]])
      assert.deepEqual(JSON.parse(frames[0]!).splices, [{ file: 'main.js', index: 0, delete: 0, insert: 'hello' }])
      ins.close()
      for (const v of viewers) v.close()
    })

    it('a protocol-1 peer and a protocol-2 full peer keep converging beside viewers', async () => {
      const id = sid('mixed')
      const ins = await open(id)
      const p2 = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'), { mode: 'full' })
      assert.equal(p2.welcome.mode, 'full')
      await p2.waitFor(() => p2.text() !== undefined)
      const obs = await viewer(id, 'obs')
      for (let i = 0; i < 15; i++) {
        ins.type('main.js', 0, 'i')
        p2.type('main.js', p2.text()!.length, 'p')
        await sleep(10)
      }
      assert.ok(await ins.waitFor(() => ins.text() === p2.text() && ins.text()!.length >= 30 && obs.view?.['main.js'] === ins.text()), `diverged: ${ins.text()} / ${p2.text()} / ${obs.view?.['main.js']}`)
      assert.deepEqual([ins.resets, p2.resets], [0, 0])
      ins.close()
      p2.close()
      obs.close()
    })

    it('a muted writer becomes a viewer on the same socket; unmuted, it asks for full and writes again', async () => {
      const id = sid('mute')
      const ins = await open(id)
      const insToken = await s.token(id, 'instructor', 'ins')
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'), { mode: 'full', allowView: true })
      assert.equal(lea.welcome.mode, 'full')
      await lea.waitFor(() => lea.text() !== undefined)
      assert.equal((await s.api('POST', `/v1/sessions/${id}/participants/lea/mute`, insToken)).status, 200)
      assert.ok(await lea.waitFor(() => lea.view !== null), 'a muted protocol-2 writer is given the text')
      assert.equal(lea.closed, null, 'it is not disconnected')
      assert.ok(lea.events.some((e) => e.type === 'mode' && e.mode === 'view'))
      ins.type('main.js', 0, 'while muted ')
      assert.ok(await lea.waitFor(() => lea.view!['main.js'] === ins.text()))
      assert.equal((await s.api('POST', `/v1/sessions/${id}/participants/lea/unmute`, insToken)).status, 200)
      assert.ok(await lea.waitFor(() => lea.events.some((e) => e.type === 'permissions' && e.permissions.includes('EDIT_CODE'))))
      lea.send({ type: 'mode', mode: 'full' })
      assert.ok(await lea.waitFor(() => lea.text() === ins.text()), 'the handshake brings the document again')
      const hash = lea.type('main.js', 0, 'back ')
      assert.ok(await lea.waitFor(() => lea.acked.has(hash)), 'its edit is acknowledged')
      assert.ok(await ins.waitFor(() => ins.text()!.startsWith('back while muted')), ins.text())
      ins.close()
      lea.close()
    })

    it('a refused write never reaches a viewer, and hidden people’s presence never reaches learners or observers', async () => {
      const id = sid('refused')
      const ins = await open(id)
      const insToken = await s.token(id, 'instructor', 'ins')
      const obs = await viewer(id, 'obs')
      await obs.waitFor(() => obs.view !== null)
      // A protocol-1 learner that keeps its replica and types while muted.
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      await lea.waitFor(() => lea.text() !== undefined)
      await s.api('POST', `/v1/sessions/${id}/participants/lea/mute`, insToken)
      await lea.waitClosed(3000) // 4001: its replica is rebuilt
      const again = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      await again.waitFor(() => again.text() !== undefined)
      again.type('main.js', 0, 'SNEAKY')
      assert.equal((await again.waitClosed(3000))?.code, 4003)
      // A hidden instructor moves their cursor.
      const hidden = await RawClient.connect(s.url, id, await s.token(id, 'instructor', 'ghost'))
      await hidden.waitFor(() => hidden.text() !== undefined)
      assert.equal((await s.api('PATCH', `/v1/sessions/${id}/participants/ghost`, insToken, { hidden: true })).status, 200)
      await sleep(100)
      const elem = A.getCursor(hidden.doc, ['files', 'main.js'], 2)
      for (let i = 0; i < 5; i++) {
        hidden.send({ type: 'presence', cursor: { file: 'main.js', anchor: elem, head: elem } })
        await sleep(30)
      }
      ins.type('main.js', 0, 'ok ')
      assert.ok(await obs.waitFor(() => obs.view!['main.js'] === ins.text()))
      await sleep(300)
      assert.ok(!JSON.stringify(obs.events).includes('SNEAKY'), 'the refused edit never reached the viewer')
      const seen = obs.events.filter((e) => e.type === 'presences').flatMap((e) => e.participants).filter((p: { userId: string }) => p.userId === 'ghost')
      assert.deepEqual(seen, [], 'the hidden instructor’s cursor never reached the observer')
      const insSaw = ins.events.filter((e) => e.type === 'presence' && e.participant.userId === 'ghost' && e.participant.cursor)
      assert.ok(insSaw.length > 0, 'instructors do see it')
      for (const c of [ins, obs, hidden]) c.close()
    })

    it('coalesces cursor moves: at most ~10 a second per person, the latest winning; viewers get offsets', async () => {
      const id = sid('cursors')
      const ins = await open(id)
      const obs = await viewer(id, 'obs')
      await obs.waitFor(() => obs.view !== null)
      ins.type('main.js', 0, 'abcdefghij')
      await obs.waitFor(() => obs.view!['main.js']!.startsWith('abcdefghij'))
      const t0 = Date.now()
      for (let i = 0; i < 40; i++) {
        const elem = A.getCursor(ins.doc, ['files', 'main.js'], i % 10)
        ins.send({ type: 'presence', cursor: { file: 'main.js', anchor: elem, head: elem } })
        await sleep(25)
      }
      const seconds = (Date.now() - t0) / 1000
      await sleep(300)
      const updates = obs.events.filter((e) => e.type === 'presences').flatMap((e) => e.participants).filter((p: { userId: string }) => p.userId === 'ins')
      assert.ok(updates.length >= 3 && updates.length <= Math.ceil(seconds * 10) + 2, `${updates.length} updates in ${seconds.toFixed(1)} s`)
      assert.deepEqual(updates.at(-1).cursor, { file: 'main.js', anchor: 39 % 10, head: 39 % 10 }, 'the latest wins, as an offset into the text')
      ins.close()
      obs.close()
    })

    if (backend === 'postgres') {
      it('a viewer never receives a change that is not durable', async () => {
        const id = sid('durable')
        const ins = await open(id)
        const obs = await viewer(id, 'obs')
        await obs.waitFor(() => obs.view !== null)
        // Hold every write to the document's chunks.
        const lock = await s.db.sql.reserve()
        await lock`begin`
        await lock`lock table doc_chunks in exclusive mode`
        const hash = ins.type('main.js', 0, 'pending')
        await sleep(400)
        assert.ok(!ins.acked.has(hash), 'not acknowledged while it cannot be stored')
        assert.ok(!obs.events.some((e) => e.type === 'splices'), 'nothing relayed while it cannot be stored')
        await lock`rollback`
        lock.release()
        assert.ok(await obs.waitFor(() => obs.view!['main.js']!.startsWith('pending')))
        assert.ok(ins.acked.has(hash))
        ins.close()
        obs.close()
      })
    }
  })
}
