import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { readSnapshot, snapshotCacheDir, snapshotFile, writeSnapshot } from './snapshot-cache.js'

describe('the Python start-up image kept on disk', () => {
  const root = mkdtempSync(join(tmpdir(), 'sk-snapshot-'))
  after(() => rmSync(root, { recursive: true, force: true }))
  const image = new Uint8Array(Array.from({ length: 4096 }, (_, i) => i % 251))

  it('is read back as it was written, under a name that changes with what it was made from', () => {
    const dir = join(root, 'cache')
    const file = snapshotFile(dir, ['0.29.0', 'worker source', '20.20.2'])
    assert.notEqual(file, snapshotFile(dir, ['0.29.0', 'worker source, changed', '20.20.2']))
    assert.equal(readSnapshot(dir, file), null, 'nothing is there yet')
    writeSnapshot(dir, file, image)
    assert.deepEqual(readSnapshot(dir, file), image)
  })

  it('is made again when the file was damaged (its digest no longer matches)', () => {
    const dir = join(root, 'damaged')
    const file = snapshotFile(dir, ['a'])
    writeSnapshot(dir, file, image)
    const bytes = readFileSync(file)
    bytes[100] ^= 0xff
    writeFileSync(file, bytes)
    assert.equal(readSnapshot(dir, file), null)
  })

  it('is not trusted from a folder others can write to', () => {
    const dir = join(root, 'shared')
    const file = snapshotFile(dir, ['b'])
    writeSnapshot(dir, file, image)
    chmodSync(dir, 0o777)
    assert.equal(readSnapshot(dir, file), null)
    writeSnapshot(dir, file, image) // refused too: nothing written where others could swap it
    chmodSync(dir, 0o700)
    assert.deepEqual(readSnapshot(dir, file), image, 'the earlier file, still whole')
  })

  it('can be turned off, and is per user by default', () => {
    assert.equal(snapshotCacheDir({ SESSION_KIT_RUN_CACHE_DIR: 'off' }), null)
    assert.equal(snapshotCacheDir({ SESSION_KIT_RUN_CACHE_DIR: '/srv/cache' }), '/srv/cache')
    assert.match(snapshotCacheDir({})!, /session-kit-/)
  })
})
