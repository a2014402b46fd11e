import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as A from '@automerge/automerge'
import { readEntries, splitChunks } from './changes.js'
import { Committer, type CommitItem } from './committer.js'
import { backends } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, type TestServer } from '../testing/server.js'

/** `n` changes by one fresh actor, as a commit item for `sid`. */
function item(sid: string, n: number, userId: string): CommitItem & { actor: string } {
  let doc = A.from<{ n: number }>({ n: 0 })
  const changes = []
  for (let i = 0; i < n; i++) {
    doc = A.change(doc, (d) => {
      d.n = i + 1
    })
    changes.push(...readEntries([A.getLastLocalChange(doc)!]))
  }
  const actor = A.getActorId(doc)
  return { sessionId: sid, changes, userId, newActors: [{ actor, userId }], at: new Date(), kind: 'code_change', actor }
}

for (const backend of backends()) {
  describe(`the group committer on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
      for (const id of ['gc-a', 'gc-b', 'gc-c']) {
        const res = await s.api('POST', '/v1/sessions', undefined, { id, title: id, ownerId: 'o' }, { authorization: `Bearer ${TEST_API_KEY}` })
        assert.equal(res.status, 201)
      }
    })
    after(() => s.stop())

    it('stores many rooms’ batches in one statement: each its own chunk, events and actors, a room’s in order', async () => {
      const committer = new Committer(s.db.sql, { instanceId: 'test', notify: false, parallel: 2 })
      const items = [item('gc-a', 2, 'ua'), item('gc-b', 1, 'ub'), item('gc-a', 3, 'ua2'), item('gc-c', 1, 'uc')]
      const ids = await Promise.all(items.map((i) => committer.commit(i)))
      assert.equal(new Set(ids).size, 4, 'one chunk per batch')
      assert.ok(ids[0]! < ids[2]!, 'a room’s batches are stored in the order they were accepted')
      for (const [k, it] of items.entries()) {
        const [row] = await s.db.sql<{ sessionId: string; data: Uint8Array; hashes: string[] }[]>`select session_id as "sessionId", data, hashes from doc_chunks where id = ${ids[k]!}`
        assert.equal(row!.sessionId, it.sessionId)
        assert.deepEqual(row!.hashes, it.changes.map((c) => c.change.hash))
        assert.deepEqual(splitChunks(new Uint8Array(row!.data)).map((b) => A.decodeChange(b).hash), row!.hashes, 'the chunk holds exactly those changes')
        const events = await s.db.sql<{ ref: string; userId: string }[]>`select ref, user_id as "userId" from events where session_id = ${it.sessionId} and kind = 'code_change' and ref = any(${row!.hashes})`
        assert.equal(events.length, it.changes.length)
        assert.ok(events.every((e) => e.userId === it.userId))
        const [actor] = await s.db.sql<{ userId: string }[]>`select user_id as "userId" from actors where session_id = ${it.sessionId} and actor = ${it.actor}`
        assert.equal(actor?.userId, it.userId, 'the actor is bound to its user')
      }
      assert.equal(committer.stats.changes, 7)
    })

    it('refuses an item whose room was cancelled and stores the others', async () => {
      const committer = new Committer(s.db.sql, { instanceId: 'test', notify: false })
      const ok = item('gc-b', 1, 'ub')
      const cancelled = { ...item('gc-c', 1, 'uc'), isCancelled: () => true }
      const [a, b] = await Promise.allSettled([committer.commit(ok), committer.commit(cancelled)])
      assert.equal(a.status, 'fulfilled')
      assert.equal(b.status, 'rejected')
      const [{ n }] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from events where ref = ${cancelled.changes[0]!.change.hash}`
      assert.equal(n, 0, 'nothing of the cancelled item is stored')
    })
  })
}
