import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as A from '@automerge/automerge'
import { concatBytes, countEdits, readEntries, splitChunks } from './changes.js'

function someChanges(n: number) {
  let doc = A.from({ files: { 'a.js': '' } })
  const out: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    doc = A.change(doc, (d) => A.splice(d, ['files', 'a.js'], 0, 0, 'x'.repeat(i * 50 + 1)))
    out.push(A.getLastLocalChange(doc)!)
  }
  return { doc, changes: out }
}

describe('change chunks', () => {
  it('split a stored concatenation back into the original changes', () => {
    const { changes } = someChanges(6)
    const parts = splitChunks(concatBytes(changes))
    assert.equal(parts.length, 6)
    parts.forEach((p, i) => assert.deepEqual(A.decodeChange(p).hash, A.decodeChange(changes[i]!).hash))
  })
  it('refuse truncated or foreign data', () => {
    const { changes } = someChanges(1)
    assert.throws(() => splitChunks(changes[0]!.subarray(0, changes[0]!.length - 3)), /truncated/)
    assert.throws(() => splitChunks(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), /not an Automerge chunk/)
  })
  it('unpack bundles and whole documents into individual changes with their hashes', () => {
    const { doc, changes } = someChanges(5)
    const hashes = changes.map((c) => A.decodeChange(c).hash)
    const bundle = A.saveBundle(doc, hashes)
    assert.deepEqual(readEntries([bundle]).map((c) => c.change.hash), hashes)
    const fromDoc = readEntries([A.save(doc)]).map((c) => c.change.hash)
    for (const h of hashes) assert.ok(fromDoc.includes(h), 'every change comes out of a document entry')
    assert.throws(() => readEntries([new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 5, 1])]), /could not be decoded/)
  })
  it('read every change of a writer that sends many before hearing back (chunks back to back)', () => {
    let server = A.from({ files: { 'a.js': 'hello' } })
    let writer = A.clone(server)
    let ss = A.initSyncState()
    let ws = A.initSyncState()
    for (let k = 0; k < 6; k++) {
      let m: Uint8Array | null
      ;[ss, m] = A.generateSyncMessage(server, ss)
      if (m) [writer, ws] = A.receiveSyncMessage(writer, ws, m)
      ;[ws, m] = A.generateSyncMessage(writer, ws)
      if (m) [server, ss] = A.receiveSyncMessage(server, ss, m)
    }
    const before = A.getHeads(writer)
    const sent = new Set<string>()
    for (let i = 0; i < 30; i++) {
      writer = A.change(writer, (d) => A.splice(d, ['files', 'a.js'], 5 + i, 0, String.fromCharCode(97 + (i % 26))))
      if (i % 5 !== 4) continue
      const [next, m] = A.generateSyncMessage(writer, ws)
      ws = next
      const held = { heads: A.getHeads(server), has: (h: string) => A.getBackend(server).getChangeMetaByHash(h) !== null }
      for (const c of readEntries(A.decodeSyncMessage(m!).changes, held)) sent.add(c.change.hash)
    }
    const expected = A.getChanges(A.view(writer, before), writer).map((c) => A.decodeChange(c).hash)
    assert.equal(expected.length, 30)
    assert.deepEqual([...sent].sort(), expected.sort())
  })
  it('count characters inserted and deleted', () => {
    let doc = A.from({ files: { 'a.js': 'hello world' } })
    doc = A.change(doc, (d) => A.splice(d, ['files', 'a.js'], 0, 5, 'hey'))
    assert.deepEqual(countEdits(A.decodeChange(A.getLastLocalChange(doc)!)), { inserted: 3, deleted: 5 })
  })
})
