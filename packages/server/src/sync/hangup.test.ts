import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import WebSocket from 'ws'
import { RawClient } from '../testing/client.js'
import { backends } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, type TestServer } from '../testing/server.js'

const HANGUPS = 40

async function poll(pred: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await pred()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return false
}

for (const backend of backends()) {
  describe(`hellos whose socket closes at once (${backend})`, () => {
    let s: TestServer
    const sid = 'hangups'
    before(async () => {
      s = await startTestServer(backend)
      const res = await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Hang-ups', language: 'javascript', ownerId: 'teacher' })
      assert.equal(res.status, 201, JSON.stringify(res.json))
    })
    after(() => s?.stop())

    it(`${HANGUPS} hang-ups right after the hello do no join: no participant, peer, presence or loaded room is left`, async () => {
      const tokens = await Promise.all(Array.from({ length: HANGUPS }, (_, i) => s.token(sid, 'learner', `hang-${i}`)))
      await Promise.all(
        tokens.map(
          (token) =>
            new Promise<void>((resolve) => {
              const ws = new WebSocket(s.url.replace(/^http/, 'ws') + `/v1/sessions/${sid}/sync`)
              ws.on('open', () => {
                ws.send(JSON.stringify({ type: 'hello', token, protocol: 1, sync: true }))
                ws.close()
              })
              ws.on('close', () => resolve())
              ws.on('error', () => resolve())
            }),
        ),
      )
      assert.ok(await poll(() => s.hub.stats.joining === 0), `hellos still being checked: ${JSON.stringify(s.hub.stats)}`)
      await s.hub.drain()
      assert.deepEqual(s.hub.stats, { rooms: 0, loading: 0, peers: 0, joining: 0 }, 'nothing loaded or connected for sockets that hung up')
      const [{ n: participants }] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from participants where session_id = ${sid} and user_id like 'hang-%'`
      assert.equal(participants, 0, 'nobody who hung up before the welcome is recorded as having joined')
      const [{ n: listed }] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from connections where session_id = ${sid}`
      assert.equal(listed, 0, 'no presence row')

      // And the room still opens for someone who stays.
      const stays = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'stays'))
      assert.ok(stays.welcome, `refused: ${JSON.stringify(stays.closed)}`)
      stays.close()
      await stays.waitClosed()
      assert.ok(await poll(() => s.hub.stats.peers === 0), 'the peer that left is gone')
    })
  })
}
