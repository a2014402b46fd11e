import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, type TestServer } from '../testing/server.js'

for (const backend of [oneBackend()]) {
  describe(`snapshots on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    it('learners keep personal snapshots, cannot restore; an instructor’s restore reaches a learner live; export round-trips', async () => {
      const id = `snap-${Date.now().toString(36)}`
      const ins = await RawClient.connect(s.url, id, await s.token(id, 'instructor', 'ins', { name: 'Ada' }))
      assert.ok(await ins.waitFor(() => ins.text() !== undefined), 'synced')
      const h = ins.type('main.js', 0, 'const answer = 42\n')
      assert.ok(await ins.waitFor(() => ins.acked.has(h)), 'saved')
      const insToken = await s.token(id, 'instructor', 'ins', { name: 'Ada' })
      const l1 = await s.token(id, 'learner', 'l1', { name: 'Grace' })
      const l2 = await s.token(id, 'learner', 'l2', { name: 'Linus' })

      const mine = await s.api('POST', `/v1/sessions/${id}/snapshots`, l1, { title: 'My attempt', description: 'before refactoring' })
      assert.equal(mine.status, 201)
      assert.equal(mine.json.creatorName, 'Grace')
      const theirs = await s.api('POST', `/v1/sessions/${id}/snapshots`, insToken, { title: 'Reference' })
      assert.equal((await s.api('POST', `/v1/sessions/${id}/snapshots`, await s.token(id, 'observer', 'o'), { title: 'x' })).status, 403)
      assert.equal((await s.api('POST', `/v1/sessions/${id}/snapshots`, l1, { title: '' })).status, 400)

      const l2List = await s.api('GET', `/v1/sessions/${id}/snapshots`, l2)
      assert.deepEqual(l2List.json.snapshots.map((x: { title: string }) => x.title), ['Reference'], 'another learner sees only instructors’ snapshots')
      assert.equal((await s.api('GET', `/v1/sessions/${id}/snapshots/${mine.json.id}`, l2)).status, 404)
      assert.equal((await s.api('GET', `/v1/sessions/${id}/snapshots`, insToken)).json.snapshots.length, 2, 'instructors see all')
      assert.equal((await s.api('GET', `/v1/sessions/${id}/snapshots/${mine.json.id}`, l1)).json.files['main.js'], 'const answer = 42\n')

      const refused = await s.api('POST', `/v1/sessions/${id}/snapshots/${theirs.json.id}/restore`, l1)
      assert.equal(refused.status, 403)
      assert.equal(refused.json.error.permission, 'RESTORE_SNAPSHOT')

      // Change the code, then restore the reference: a connected learner sees it live.
      const learner = await RawClient.connect(s.url, id, l1)
      assert.ok(await learner.waitFor(() => learner.text() === 'const answer = 42\n'), 'learner synced')
      learner.type('main.js', 0, '// learner was here\n')
      ins.edit((d) => {
        d.files['extra.js'] = 'added later'
      })
      assert.ok(await learner.waitFor(() => Object.keys(learner.doc.files).length === 2), 'learner has both files')
      const restored = await s.api('POST', `/v1/sessions/${id}/snapshots/${theirs.json.id}/restore`, insToken)
      assert.equal(restored.status, 200)
      assert.deepEqual(restored.json.files, { 'main.js': 'const answer = 42\n' })
      assert.ok(await learner.waitFor(() => learner.text('main.js') === 'const answer = 42\n' && !('extra.js' in learner.doc.files)), `live restore reached the learner: ${JSON.stringify(learner.doc.files)}`)
      assert.equal(learner.closed, null)
      const [{ n }] = await s.db.sql`select count(*)::int as n from events where session_id = ${id} and kind = 'server_change' and user_id = 'ins'`
      assert.ok(n >= 1, 'the restore is a recorded change: history kept')

      const exported = await s.api('GET', `/v1/sessions/${id}/snapshots/${mine.json.id}/export`, l1)
      assert.match(exported.headers.get('content-disposition') ?? '', /attachment; filename=".*My-attempt\.json"/)
      assert.deepEqual(exported.json.files, { 'main.js': 'const answer = 42\n' })
      assert.equal(exported.json.title, 'My attempt')
      assert.equal(exported.json.format, 'session-kit-snapshot')

      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/snapshots/${theirs.json.id}`, l1)).status, 403, 'a learner cannot delete an instructor’s snapshot')
      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/snapshots/${mine.json.id}`, l1)).status, 204, 'the creator can')
      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/snapshots/${theirs.json.id}`, insToken)).status, 204)
      ins.close()
      learner.close()
    })

    it('tells the room when a snapshot is saved, deleted or restored, each only to those who may see it', async () => {
      const id = `snap-ev-${Date.now().toString(36)}`
      const insToken = await s.token(id, 'instructor', 'ins', { name: 'Ada' })
      const l1 = await s.token(id, 'learner', 'l1', { name: 'Grace' })
      const l2 = await s.token(id, 'learner', 'l2', { name: 'Linus' })
      // The instructor opens the session; then the learners come.
      const ins = await RawClient.connect(s.url, id, insToken, { mode: 'events' })
      assert.ok(await ins.waitFor(() => ins.event('welcome') !== undefined), `the instructor joined: ${JSON.stringify(ins.events)}`)
      const [grace, linus] = await Promise.all([l1, l2].map((t) => RawClient.connect(s.url, id, t, { mode: 'events' })))
      assert.ok(await ins.waitFor(() => [grace, linus].every((c) => c.event('welcome') !== undefined)), `the learners joined: ${JSON.stringify(grace.events)}`)
      const seen = (c: RawClient) => c.events.filter((e) => e.type === 'snapshot').map((e) => `${e.change} ${e.title} by ${e.by.name}`)

      const personal = await s.api('POST', `/v1/sessions/${id}/snapshots`, l1, { title: 'Mine' })
      const shared = await s.api('POST', `/v1/sessions/${id}/snapshots`, insToken, { title: 'Reference' })
      assert.ok(await grace.waitFor(() => seen(grace).length === 2), `Grace hears both: ${seen(grace)}`)
      assert.ok(await ins.waitFor(() => seen(ins).length === 2), 'the instructor hears both')
      assert.ok(await linus.waitFor(() => seen(linus).length === 1))
      assert.deepEqual(seen(linus), ['created Reference by Ada'], 'another learner never hears of a personal snapshot')
      const created = ins.events.find((e) => e.type === 'snapshot' && e.id === shared.json.id)
      assert.deepEqual(created.snapshot, shared.json, 'a new snapshot comes as the list shows it')

      assert.equal((await s.api('POST', `/v1/sessions/${id}/snapshots/${shared.json.id}/restore`, insToken)).status, 200)
      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/snapshots/${personal.json.id}`, l1)).status, 204)
      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/snapshots/${shared.json.id}`, insToken)).status, 204)
      assert.ok(await ins.waitFor(() => seen(ins).length === 5), `the instructor hears all: ${seen(ins)}`)
      assert.deepEqual(seen(ins), ['created Mine by Grace', 'created Reference by Ada', 'restored Reference by Ada', 'deleted Mine by Grace', 'deleted Reference by Ada'])
      assert.ok(await linus.waitFor(() => seen(linus).length === 3))
      await new Promise((r) => setTimeout(r, 100))
      assert.deepEqual(seen(linus), ['created Reference by Ada', 'restored Reference by Ada', 'deleted Reference by Ada'])
      for (const c of [ins, grace, linus]) c.close()
    })
  })
}
