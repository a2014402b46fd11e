import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { backends, freshDataDir, freshPostgres, removeDir } from '../testing/db.js'
import { openDatabase, type Database } from './db.js'
import { appendBatch, appendChanges, compactDocument, loadDocument, type AppendedChanges } from './documents.js'
import { migrate } from './migrate.js'

const change = (sessionId: string, userId: string, actor: string | null, hash: string): AppendedChanges => ({
  sessionId,
  data: new Uint8Array([1, 2, 3]),
  hashes: [hash],
  kind: 'code_change',
  userId,
  at: null,
  inserted: [1],
  deleted: [0],
  newActors: actor ? [{ actor, userId }] : [],
})

for (const backend of backends()) {
  describe(`appending changes on ${backend}`, () => {
    let db: Database
    let dataDir: string
    let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined
    before(async () => {
      dataDir = await freshDataDir()
      pg = backend === 'postgres' ? await freshPostgres() : undefined
      db = await openDatabase({ dataDir, databaseUrl: pg?.url })
      await migrate(db.sql)
      for (const id of ['s1', 's2', 's3']) await db.sql`insert into sessions (id, title, owner_id) values (${id}, ${id}, 'o')`
    })
    after(async () => {
      await db.close()
      await pg?.drop()
      removeDir(dataDir)
    })
    const stored = async (sid: string) => (await db.sql<{ n: number }[]>`select count(*)::int as n from doc_chunks where session_id = ${sid}`)[0]!.n
    const events = async (sid: string) => (await db.sql<{ n: number }[]>`select count(*)::int as n from events where session_id = ${sid}`)[0]!.n
    const owner = async (sid: string, actor: string) => (await db.sql<{ userId: string }[]>`select user_id as "userId" from actors where session_id = ${sid} and actor = ${actor}`).map((r) => r.userId)

    it('stores nothing for an actor another instance bound to someone else first (one statement)', async () => {
      // Instance A bound the actor to ada; instance B, not yet told, binds it to bob.
      assert.equal(typeof (await appendChanges(db.sql, change('s1', 'ada', 'aa01', 'h1'))), 'number')
      assert.equal(await appendChanges(db.sql, change('s1', 'bob', 'aa01', 'h2')), null, 'the second binding is refused')
      assert.deepEqual(await owner('s1', 'aa01'), ['ada'])
      assert.equal(await stored('s1'), 1, 'only the winner’s chunk is stored')
      assert.equal(await events('s1'), 1, 'and only its event')
      // The same user binding the same actor again (its page reconnected elsewhere) is fine.
      assert.equal(typeof (await appendChanges(db.sql, change('s1', 'ada', 'aa01', 'h3'))), 'number')
    })

    it('leaves out, in a batch, an item that lost its actor and what follows it in its session only', async () => {
      await appendChanges(db.sql, change('s2', 'ada', 'bb01', 'g1'))
      const ids = await appendBatch(db.sql, [change('s2', 'bob', 'bb01', 'g2'), change('s2', 'bob', null, 'g3'), change('s1', 'cy', 'cc01', 'g4')])
      assert.equal(ids[0], null)
      assert.equal(ids[1], null, 'a later item of the same session may build on the refused one')
      assert.equal(typeof ids[2], 'number', 'another session’s item is stored')
      assert.deepEqual(await owner('s2', 'bb01'), ['ada'])
      assert.equal(await stored('s2'), 1)
      assert.equal(await events('s2'), 1)
      assert.deepEqual(await owner('s1', 'cc01'), ['cy'])
    })

    // Another instance's compaction needs a connection of its own: PostgreSQL (PGlite serves one).
    if (backend === 'postgres')
    it('reads the base, its chunks and the actors as of one moment, even when another instance compacts between the reads', async () => {
      const oldBase = new Uint8Array([9, 9])
      await db.sql`insert into documents (session_id, base, heads) values ('s3', ${Buffer.from(oldBase)}, ${[]})`
      const first = await appendChanges(db.sql, change('s3', 'ada', 'dd01', 'k1'))
      const second = await appendChanges(db.sql, change('s3', 'ada', null, 'k2'))
      // Another instance folds both chunks into a new base, and moves the actor's sequence on.
      const compact = () => compactDocument(db.sql, 's3', new Uint8Array([7, 7, 7]), ['k2'], [first!, second!], new Map([['dd01', { seq: 2, maxOp: 10 }]]), {})
      const loaded = (await loadDocument(db.sql, 's3', compact))!
      // The old base with both chunks (what it held before), never the old base without them.
      assert.deepEqual([...loaded.base], [...oldBase])
      assert.deepEqual(loaded.chunks.map((c) => c.id), [first, second], 'the chunks the base does not hold are read with it')
      assert.equal(loaded.actors.get('dd01')!.seq, 0, 'sequence numbers as of that base, not ahead of the chunks read')
      // Read again: the compacted document, whole.
      const after = (await loadDocument(db.sql, 's3'))!
      assert.deepEqual([...after.base], [7, 7, 7])
      assert.equal(after.chunks.length, 0)
    })
  })
}
