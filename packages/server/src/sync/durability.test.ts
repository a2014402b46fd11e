import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as A from '@automerge/automerge'
import { mintToken } from '../auth/tokens.js'
import { RawClient } from '../testing/client.js'
import { backends, freshDataDir, freshPostgres, removeDir } from '../testing/db.js'
import { freePort, spawnServer, type ServerProcess } from '../testing/process.js'
import { TEST_SECRET } from '../testing/server.js'

for (const backend of backends()) {
  describe(`durability on ${backend}`, () => {
    it('after SIGKILL while a client types, every acknowledged edit is there on restart', async () => {
      const dataDir = await freshDataDir()
      const pg = backend === 'postgres' ? await freshPostgres() : undefined
      const port = await freePort()
      const base = `http://127.0.0.1:${port}`
      const sid = 'crash'
      const token = (role: 'instructor' | 'observer', user: string) => mintToken({ sid, role, sub: user, name: user }, TEST_SECRET)
      let server = await spawnServer({ port, dataDir, databaseUrl: pg?.url })
      try {
        const writer = await RawClient.connect(base, sid, await token('instructor', 'w'))
        assert.ok(await writer.waitFor(() => writer.text() !== undefined), 'writer synced')
        let typing = true
        const typed = (async () => {
          for (let i = 0; typing && writer.closed === null; i++) {
            writer.type('main.js', writer.text()!.length, String.fromCharCode(97 + (i % 26)))
            await new Promise((r) => setTimeout(r, 3))
          }
        })()
        await writer.waitFor(() => writer.acked.size >= 150, 20_000)
        await server.kill('SIGKILL')
        typing = false
        await typed
        const acked = [...writer.acked]
        assert.ok(acked.length >= 150, `only ${acked.length} edits were acknowledged before the kill`)
        server = await spawnServer({ port, dataDir, databaseUrl: pg?.url })
        const reader = await RawClient.connect(base, sid, await token('observer', 'r'))
        assert.ok(reader.welcome, `reader refused: ${JSON.stringify(reader.closed)}`)
        await reader.waitFor(() => (reader.text() ?? '').length >= acked.length)
        const missing = acked.filter((h) => !A.hasHeads(reader.doc, [h]))
        assert.deepEqual(missing, [], `${missing.length} acknowledged edits were lost`)
        reader.close()
      } finally {
        await server.kill('SIGKILL')
        await pg?.drop()
        removeDir(dataDir)
      }
    })
  })
}

describe('several server processes on one PostgreSQL', { skip: process.env.DATABASE_URL ? false : 'DATABASE_URL is not set: fan-out between instances needs a real PostgreSQL (LISTEN/NOTIFY)' }, () => {
  it('an edit on one process reaches a client on the other, and so do presence and permission changes', async () => {
    const pg = await freshPostgres()
    const dirs = [await freshDataDir(), await freshDataDir()]
    const ports = [await freePort(), await freePort()]
    const children: ServerProcess[] = []
    try {
      for (let i = 0; i < 2; i++) children.push(await spawnServer({ port: ports[i]!, dataDir: dirs[i]!, databaseUrl: pg.url }))
      const [a, b] = ports.map((p) => `http://127.0.0.1:${p}`) as [string, string]
      const sid = 'multi'
      const tok = (role: 'instructor' | 'learner', user: string) => mintToken({ sid, role, sub: user, name: user }, TEST_SECRET)
      const ins = await RawClient.connect(a, sid, await tok('instructor', 'ins'))
      assert.ok(await ins.waitFor(() => ins.text() !== undefined), 'instructor synced')
      const lea = await RawClient.connect(b, sid, await tok('learner', 'lea'))
      assert.ok(await lea.waitFor(() => lea.text() !== undefined), 'learner synced on the other process')
      ins.type('main.js', 0, 'from A;')
      assert.ok(await lea.waitFor(() => lea.text() === 'from A;'), `B saw ${lea.text()}`)
      for (let i = 0; i < 20; i++) {
        lea.type('main.js', lea.text()!.length, 'b')
        ins.type('main.js', 0, 'a')
      }
      assert.ok(await ins.waitFor(() => ins.text() === lea.text() && ins.text()!.length === 47), `diverged: ${ins.text()} / ${lea.text()}`)
      assert.ok(await ins.waitFor(() => ins.events.some((e) => e.type === 'joined' && e.participant.userId === 'lea')), 'presence crossed processes')
      assert.deepEqual([ins.resets, lea.resets], [0, 0], 'the servers never made a client reset its sync state')
      const res = await fetch(`${a}/v1/sessions/${sid}/lock`, { method: 'POST', headers: { authorization: `Bearer ${await tok('instructor', 'ins')}` } })
      assert.equal(res.status, 200)
      assert.equal((await lea.waitClosed())?.code, 4001)
      ins.close()
    } finally {
      await Promise.all(children.map((c) => c.kill('SIGKILL')))
      await pg.drop()
      dirs.forEach(removeDir)
    }
  })
})
