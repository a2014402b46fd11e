import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import postgres from '#postgres'
import { backends, freshDataDir, freshPostgres, removeDir } from '../testing/db.js'
import { openDatabase } from './db.js'
import { migrate, MIGRATIONS_DIR } from './migrate.js'

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
    it('the analytics rollup backfills what came before 005 exactly as its trigger counts what comes after', async () => {
      const dataDir = await freshDataDir()
      const pg = backend === 'postgres' ? await freshPostgres() : undefined
      const before = mkdtempSync(join(tmpdir(), 'session-kit-migrations-'))
      for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => f < '005')) cpSync(join(MIGRATIONS_DIR, f), join(before, f))
      const db = await openDatabase({ dataDir, databaseUrl: pg?.url })
      try {
        const { sql } = db
        // The same lesson in two sessions: `old` before the rollup existed, `new` after (in batches, as the server inserts).
        const lesson = (sid: string) => [
          ...[1, 2, 3].map((i) => ({ session_id: sid, kind: 'code_change', user_id: 'ada', at: `2026-01-05T09:00:0${i}Z`, inserted: i, deleted: i - 1, ref: `h${i}`, data: null })),
          { session_id: sid, kind: 'server_change', user_id: '', at: '2026-01-05T09:00:30Z', inserted: 4, deleted: 0, ref: 'h4', data: null },
          ...Array.from({ length: 12 }, (_, i) => ({ session_id: sid, kind: 'run', user_id: 'grace', at: `2026-01-05T09:0${1 + (i % 3)}:${10 + i}Z`, inserted: 0, deleted: 0, ref: null, data: { ok: i % 4 === 0 } })),
          { session_id: sid, kind: 'chat', user_id: 'grace', at: '2026-01-05T09:05:00Z', inserted: 0, deleted: 0, ref: '1', data: null },
          { session_id: sid, kind: 'join', user_id: 'grace', at: '2026-01-05T09:00:00Z', inserted: 0, deleted: 0, ref: null, data: null },
        ]
        const insert = (rows: ReturnType<typeof lesson>) => sql`insert into events ${sql(rows.map((r) => ({ ...r, data: r.data && sql.json(r.data) })) as never, 'session_id', 'kind', 'user_id', 'at', 'inserted', 'deleted', 'ref', 'data')}`
        const seed = async (sid: string) => {
          await sql`insert into sessions (id, title, owner_id) values (${sid}, ${sid}, 'o')`
          await sql`insert into participants (session_id, user_id, name, token_role) values (${sid}, 'grace', 'Grace', 'learner'), (${sid}, 'ada', 'Ada', 'instructor')`
        }
        await migrate(sql, before)
        await seed('old')
        await insert(lesson('old'))
        assert.ok((await migrate(sql)).includes('005_analytics.sql'))
        await seed('new')
        const rows = lesson('new')
        for (let i = 0; i < rows.length; i += 5) await insert(rows.slice(i, i + 5))
        const minutes = (sid: string) => sql`
          select minute, user_id, code_changes, chars_inserted, chars_deleted, server_changes, executions, failed_executions, chat_messages, last_activity_at
          from activity_minutes where session_id = ${sid} order by minute, user_id`
        const runs = (sid: string) => sql`select user_id, recent_runs from participants where session_id = ${sid} order by user_id`
        const backfilled = await minutes('old')
        assert.ok(backfilled.length >= 4, `backfilled ${backfilled.length} rows`)
        assert.deepEqual(await minutes('new'), backfilled)
        assert.deepEqual(await runs('new'), await runs('old'))
        assert.equal((await runs('old')).find((r) => r.user_id === 'grace')?.recent_runs.length, 10, 'the latest ten runs are kept')
      } finally {
        await db.close()
        await pg?.drop()
        removeDir(dataDir)
        rmSync(before, { recursive: true, force: true })
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
