import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, type TestServer } from '../testing/server.js'

for (const backend of [oneBackend()]) {
  describe(`analytics privacy on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    it('the session’s pseudonymize switch: instructors see "Participant N" in the answer, the CSV and the JSON export, whatever they ask for; learners see and download their own data', async () => {
      const id = `pseudo-${Date.now().toString(36)}`
      assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id, title: id, ownerId: 'ins', files: { 'main.js': '' } })).status, 201)
      const ins = await s.token(id, 'instructor', 'ins', { name: 'Ada Instructor' })
      const leaToken = await s.token(id, 'learner', 'lea', { name: 'Lea Learner' })
      const a = await RawClient.connect(s.url, id, ins)
      const b = await RawClient.connect(s.url, id, leaToken)
      assert.ok(await b.waitFor(() => b.text() !== undefined), 'synced')
      const h = b.type('main.js', 0, 'hello')
      assert.ok(await b.waitFor(() => b.acked.has(h)), 'stored')
      b.send({ type: 'chat', text: 'hi' })
      assert.ok(await b.waitFor(() => b.events.some((e) => e.type === 'chat')))

      const named = await s.api('GET', `/v1/sessions/${id}/analytics`, ins)
      assert.equal(named.json.anonymized, false)
      assert.ok(named.json.participants.some((p: { name: string }) => p.name === 'Lea Learner'))

      assert.equal((await s.api('PATCH', `/v1/sessions/${id}`, leaToken, { pseudonymize: true })).status, 403, 'not a learner’s to set')
      assert.equal((await s.api('PATCH', `/v1/sessions/${id}`, ins, { pseudonymize: 'yes' })).status, 400)
      const on = await s.api('PATCH', `/v1/sessions/${id}`, ins, { pseudonymize: true })
      assert.equal(on.json.pseudonymize, true)
      const names = ['Lea Learner', 'Ada Instructor', '"lea"', '"ins"']
      const hidden = (text: string, where: string) => {
        for (const n of names) assert.ok(!text.includes(n), `${where} does not show ${n}`)
      }
      const res = await s.api('GET', `/v1/sessions/${id}/analytics?anonymize=false`, ins)
      assert.equal(res.json.anonymized, true, 'asked for names: the session says no')
      assert.deepEqual(res.json.participants.map((p: { name: string }) => p.name).sort(), ['Participant 1', 'Participant 2'])
      assert.ok(res.json.participants.every((p: { userId: string }) => /^participant-\d+$/.test(p.userId)))
      hidden(JSON.stringify(res.json), 'the analytics answer')
      const csv = await fetch(`${s.url}/v1/sessions/${id}/analytics/export?format=csv&anonymize=false`, { headers: { authorization: `Bearer ${ins}` } })
      const csvText = await csv.text()
      assert.match(csvText, /Participant 2/)
      hidden(csvText.replaceAll(',lea,', '"lea"').replaceAll(',ins,', '"ins"'), 'the CSV export')
      assert.match(csv.headers.get('content-disposition') ?? '', /-anonymized-/)
      const json = await s.api('GET', `/v1/sessions/${id}/analytics/export?format=json`, ins)
      hidden(JSON.stringify(json.json.participants), 'the JSON export')

      // Learners: their own counts as always, and a download of them.
      const me = await s.api('GET', `/v1/sessions/${id}/analytics/me`, leaToken)
      assert.equal(me.status, 200)
      assert.equal(me.json.userId, 'lea')
      assert.equal(me.json.name, 'Lea Learner')
      assert.equal(me.json.codeChanges, 1)
      assert.equal(me.headers.get('content-disposition'), null, 'shown, not downloaded')
      const mine = await s.api('GET', `/v1/sessions/${id}/analytics/me?format=json`, leaToken)
      assert.match(mine.headers.get('content-disposition') ?? '', /^attachment; filename="my-activity-pseudo-[\w-]+-all-[\dT-]+\.json"$/)
      assert.equal(mine.json.format, 'session-kit-own-activity')
      assert.equal(mine.json.sessionId, id)
      assert.equal(mine.json.userId, 'lea')
      assert.equal(mine.json.chatMessages, 1)
      assert.ok(Array.isArray(mine.json.minutes) && mine.json.minutes.some((m: { codeChanges: number }) => m.codeChanges === 1), 'minute by minute')
      assert.ok(!JSON.stringify(mine.json).includes('Ada'), 'nobody else’s data')
      const mineCsv = await fetch(`${s.url}/v1/sessions/${id}/analytics/me?format=csv`, { headers: { authorization: `Bearer ${leaToken}` } })
      assert.match(mineCsv.headers.get('content-type') ?? '', /^text\/csv/)
      assert.match(mineCsv.headers.get('content-disposition') ?? '', /\.csv"$/)
      const [head, row, end] = (await mineCsv.text()).split('\r\n')
      assert.equal(head!.split(',')[0], 'userId')
      assert.ok(row!.startsWith('lea,Lea Learner,learner,all,'))
      assert.equal(end, '')

      assert.equal((await s.api('PATCH', `/v1/sessions/${id}`, ins, { pseudonymize: false })).json.pseudonymize, false)
      assert.equal((await s.api('GET', `/v1/sessions/${id}/analytics`, ins)).json.anonymized, false, 'switched off: names again')
      a.close()
      b.close()
    })
  })
}
