import assert from 'node:assert/strict'
import { chmodSync, lstatSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { loadConfig } from '../config.js'
import { freshDataDir, removeDir } from '../testing/db.js'
import { openDatabase, type Database } from './db.js'
import { migrate } from './migrate.js'

const mode = (path: string) => statSync(path).mode & 0o777

/** Every file and folder under `dir` that someone other than the owner could read, write or enter. */
function open(dir: string): string[] {
  const loose: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (lstatSync(path).mode & 0o077) loose.push(`${path} ${mode(path).toString(8)}`)
    if (entry.isDirectory()) loose.push(...open(path))
  }
  return loose
}

describe('the embedded database’s files (data at rest)', () => {
  it('a fresh data folder is 0700 and nothing in it is readable by others, after start and after close', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'sk-perm-'))
    const dataDir = join(parent, 'data')
    const logs: string[] = []
    let db: Database | undefined
    try {
      db = await openDatabase({ dataDir, log: (m) => logs.push(m) })
      assert.equal(mode(dataDir).toString(8), '700', 'DATA_DIR')
      assert.equal(mode(join(dataDir, 'pglite')).toString(8), '700', 'the database folder')
      assert.deepEqual(open(dataDir), [], 'after initdb')
      await migrate(db.sql)
      await db.sql`insert into sessions (id, title, owner_id) values ('s', 'Private class', 'o')`
      await db.close()
      db = undefined
      assert.deepEqual(open(dataDir), [], 'after running and closing (new tables, WAL)')
      assert.deepEqual(logs, [], 'nothing to report on a fresh folder')
    } finally {
      await db?.close()
      removeDir(parent)
    }
  })

  it('an existing folder with loose permissions is tightened at start, with a log line', async () => {
    const dataDir = await freshDataDir()
    const pglite = join(dataDir, 'pglite')
    const loosen = (dir: string) => {
      chmodSync(dir, 0o777)
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) loosen(join(dir, entry.name))
        else chmodSync(join(dir, entry.name), 0o666)
      }
    }
    loosen(pglite)
    const logs: string[] = []
    let db: Database | undefined
    try {
      db = await openDatabase({ dataDir, log: (m) => logs.push(m) })
      assert.equal(mode(pglite).toString(8), '700')
      assert.deepEqual(open(pglite), [])
      assert.equal(logs.length, 1, logs.join('\n'))
      assert.match(logs[0]!, /pglite/)
      assert.match(logs[0]!, /0700/)
    } finally {
      await db?.close()
      removeDir(dataDir)
    }
  })

  it('the folder the development secret creates is 0700 too', () => {
    const parent = mkdtempSync(join(tmpdir(), 'sk-perm-'))
    try {
      loadConfig({ DATA_DIR: join(parent, 'data') }, {}, () => {})
      assert.equal(mode(join(parent, 'data')).toString(8), '700')
      assert.equal(mode(join(parent, 'data', 'secret')).toString(8), '600')
    } finally {
      removeDir(parent)
    }
  })
})
