import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import postgres from 'postgres'
import { backends, freshDataDir, freshPostgres, removeDir } from '../testing/db.js'
import { openDatabase } from './db.js'
import { migrate } from './migrate.js'

for (const backend of backends()) {
  describe(`migrations on ${backend}`, () => {
    it('apply once and are idempotent on restart', async () => {
      const dataDir = await freshDataDir()
      const pg = backend === 'postgres' ? await freshPostgres() : undefined
      try {
        let db = await openDatabase({ dataDir, databaseUrl: pg?.url })
        const first = await migrate(db.sql)
        assert.ok(first.includes('001_foundation.sql'), `applied ${first}`)
        await db.sql`insert into sessions (id, title, owner_id) values ('kept', 'Kept', 'o')`
        await db.close()
        db = await openDatabase({ dataDir, databaseUrl: pg?.url })
        assert.deepEqual(await migrate(db.sql), [], 'nothing to apply on restart')
        const [row] = await db.sql`select title from sessions where id = 'kept'`
        assert.equal(row?.title, 'Kept')
        await db.close()
      } finally {
        await pg?.drop()
        removeDir(dataDir)
      }
    })
    if (backend === 'postgres') {
      it('two instances starting together take turns (advisory lock)', async () => {
        const pg = await freshPostgres()
        const a = postgres(pg.url, { max: 2, onnotice: () => {} })
        const b = postgres(pg.url, { max: 2, onnotice: () => {} })
        try {
          const [x, y] = await Promise.all([migrate(a as never), migrate(b as never)])
          assert.deepEqual([...x, ...y].filter((n) => n === '001_foundation.sql'), ['001_foundation.sql'], 'each migration ran exactly once')
        } finally {
          await a.end()
          await b.end()
          await pg.drop()
        }
      })
    }
  })
}
