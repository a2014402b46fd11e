import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import * as A from '@automerge/automerge'
import { compressed, compressedChunk } from '../testing/chunks.js'
import { concatBytes } from './changes.js'
import { scanEntries } from './scan.js'

const MiB = 1024 * 1024
type Doc = { files: Record<string, string> }

/** What Automerge itself says a chunk holds, to check the scanner against. */
function decodedCost(changes: Uint8Array[]) {
  let ops = 0
  let inserts = 0
  for (const c of changes) {
    for (const op of A.decodeChange(c).ops as unknown as { action: string; insert?: boolean }[]) {
      ops++
      if (op.insert) inserts++
    }
  }
  return { ops, inserts }
}

describe('reading what a change costs before decoding it', () => {
  let doc = A.from<Doc>({ files: { 'main.js': 'hello' } })
  const h0 = A.getHeads(doc)
  doc = A.change(doc, (d) => A.splice(d, ['files', 'main.js'], 2, 2, 'xyz'))
  doc = A.change(doc, (d) => {
    d.files['b.js'] = 'more text'
  })
  doc = A.change(doc, (d) => A.splice(d, ['files', 'b.js'], 0, 4))
  const changes = A.getChanges(A.view(doc, h0), doc)

  it('counts the operations and insertions of plain changes exactly, one by one or back to back', () => {
    for (const c of changes) assert.deepEqual(scanEntries([c], MiB), { chunks: [{ type: 1, ...decodedCost([c]) }], ...decodedCost([c]), bulk: false })
    const together = scanEntries([concatBytes(changes)], MiB)
    assert.deepEqual({ ops: together.ops, inserts: together.inserts }, decodedCost(changes))
    assert.equal(together.chunks.length, changes.length)
  })

  it('counts five pastes of 199,000 characters (the flood that stalled the server) from their headers', () => {
    const big = A.change(A.clone(doc), (d) => A.splice(d, ['files', 'main.js'], 0, 0, 'a'.repeat(199_000)))
    const change = A.getLastLocalChange(big)!
    const cost = scanEntries([change, change, change, change, change], 8 * MiB)
    assert.equal(cost.ops, 5 * 199_000)
    assert.equal(cost.inserts, 5 * 199_000)
  })

  it('inflates compressed changes within a budget, and refuses what expands beyond it', () => {
    const big = A.change(A.clone(doc), (d) => A.splice(d, ['files', 'main.js'], 0, 0, 'abc '.repeat(5000)))
    const change = A.getLastLocalChange(big)!
    const packed = compressed(change)
    assert.equal(A.decodeChange(packed).hash, A.decodeChange(change).hash, 'Automerge reads the compressed form as the same change')
    assert.deepEqual(scanEntries([packed], MiB), { chunks: [{ type: 2, ops: 20_000, inserts: 20_000 }], ops: 20_000, inserts: 20_000, bulk: false })
    assert.throws(() => scanEntries([packed], 1000), /expand to more than/)
    // A DEFLATE bomb: 1 MiB of zeros squeezed into ~1 kB.
    const bomb = deflateRawSync(new Uint8Array(MiB))
    const bombChunk = compressedChunk(change, bomb)
    assert.throws(() => scanEntries([bombChunk], 64 * 1024), /expand to more than/)
  })

  it('bounds whole documents and bundles by everything they hold', () => {
    const saved = A.save(doc)
    const all = decodedCost(A.getAllChanges(doc))
    const cost = scanEntries([saved], MiB)
    assert.equal(cost.bulk, true)
    assert.equal(cost.ops, A.stats(doc).numOps, 'a document holds its surviving operations')
    assert.ok(cost.ops <= all.ops && cost.inserts <= all.inserts)
    const big = A.change(A.clone(doc), (d) => A.splice(d, ['files', 'main.js'], 0, 0, 'q'.repeat(30_000)))
    assert.ok(scanEntries([A.save(big)], MiB).inserts >= 30_000, 'the inserts of a whole document are counted')
    const hashes = A.getAllChanges(big).map((c) => A.decodeChange(c).hash)
    const bundle = A.saveBundle(big, hashes)
    const b = scanEntries([bundle], MiB)
    assert.equal(b.bulk, true)
    assert.ok(b.inserts >= 30_000 && b.ops >= b.inserts, `bundle: ${JSON.stringify(b)}`)
  })

  it('refuses what is not a chunk it accepts', () => {
    assert.throws(() => scanEntries([new Uint8Array(0)], MiB), /empty/)
    assert.throws(() => scanEntries([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])], MiB), /not an Automerge chunk/)
    const c = changes[0]!
    assert.throws(() => scanEntries([c.subarray(0, c.length - 5)], MiB), /truncated/)
    const unknown = new Uint8Array(c)
    unknown[8] = 9
    assert.throws(() => scanEntries([unknown], MiB), /chunk type 9/)
  })
})
