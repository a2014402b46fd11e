import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as A from '@automerge/automerge'
import { applySplices } from '@session-kit/core'
import { TextIndex } from './text-index.js'

type Doc = { files: Record<string, string> }

function seeded(seed: number) {
  return (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n)
}

/** Never split a surrogate pair: the start of the character at `at`. */
const startOfChar = (text: string, at: number) => (at > 0 && at < text.length && /[\uDC00-\uDFFF]/.test(text[at]!) ? at - 1 : at)

describe('the text index', () => {
  it('agrees with Automerge after every change, under random concurrent edits from several actors', () => {
    for (const seed of [1, 7, 42, 99, 1234]) {
      const rnd = seeded(seed)
      let server = A.from<Doc>({ files: { 'a.js': 'start', 'b.js': '' } })
      const mirror = new TextIndex()
      for (const c of A.getAllChanges(server)) mirror.apply(A.decodeChange(c))
      // Actors with different id lengths and orders, to exercise concurrent ordering.
      const actors = ['01', 'ff', 'a0b1', '7c', '0000000000000000ab']
      let clients = actors.map((actor) => A.clone(server, { actor }))
      let texts = mirror.files()
      for (let step = 0; step < 400; step++) {
        const k = rnd(clients.length)
        let c = clients[k]!
        const file = rnd(4) === 0 ? 'b.js' : 'a.js'
        const text = String(c.files[file] ?? '')
        const len = text.length
        // Never split a surrogate pair: move to the start of a character.
        const whole = (at: number) => startOfChar(text, at)
        c = A.change(c, (d) => {
          if (rnd(5) === 0 && len > 0) {
            const at = whole(rnd(len))
            const end = whole(Math.min(len, at + 1 + rnd(4)))
            if (end > at) A.splice(d, ['files', file], at, end - at)
          } else {
            // Characters outside the BMP are two UTF-16 units in one Automerge element.
            A.splice(d, ['files', file], whole(rnd(len + 1)), 0, rnd(7) === 0 ? '😀' : 'xyz'.slice(0, 1 + rnd(3)))
          }
        })
        if (c === clients[k]) continue
        const bytes = A.getLastLocalChange(c)!
        clients[k] = c
        // The server accepts the change (in this order) and the mirror turns it into splices.
        server = A.applyChanges(server, [bytes])[0]
        const { splices } = mirror.apply(A.decodeChange(bytes))
        texts = applySplices(texts, splices)
        assert.deepEqual(mirror.files(), { 'a.js': String(server.files['a.js']), 'b.js': String(server.files['b.js']) }, `seed ${seed} step ${step}: mirror`)
        assert.deepEqual(texts, mirror.files(), `seed ${seed} step ${step}: splices`)
        // Cursors resolve where Automerge puts them.
        const probe = String(server.files[file] ?? '')
        if (probe.length) {
          const at = startOfChar(probe, rnd(probe.length))
          assert.equal(mirror.cursorOffset(file, A.getCursor(server, ['files', file], at)), at, `seed ${seed} step ${step}: cursor`)
          assert.equal(mirror.cursorOffset(file, A.getCursor(server, ['files', file], probe.length)), probe.length, `seed ${seed} step ${step}: cursor at the end`)
        }
        // Sometimes a client catches up with the server (others stay concurrent).
        if (rnd(6) === 0) clients[rnd(clients.length)] = A.merge(A.clone(clients[rnd(clients.length)]!), server)
      }
    }
  })

  it('follows files being added and removed', () => {
    let doc = A.from<Doc>({ files: { 'main.js': 'x' } })
    const mirror = new TextIndex()
    for (const c of A.getAllChanges(doc)) mirror.apply(A.decodeChange(c))
    doc = A.change(doc, (d) => {
      d.files['util.js'] = 'helper'
      delete d.files['main.js']
    })
    const r = mirror.apply(A.decodeChange(A.getLastLocalChange(doc)!))
    assert.deepEqual(r.created, ['util.js'])
    assert.deepEqual(r.removed, ['main.js'])
    assert.deepEqual(mirror.files(), { 'util.js': 'helper' })
  })

  it('travels between threads whole, deleted elements included', async () => {
    let doc = A.from<Doc>({ files: { 'main.js': 'hello 😀 world' } })
    const index = new TextIndex()
    for (const c of A.getAllChanges(doc)) index.apply(A.decodeChange(c))
    doc = A.change(doc, (d) => A.splice(d, ['files', 'main.js'], 0, 6))
    index.apply(A.decodeChange(A.getLastLocalChange(doc)!))
    const copy = TextIndex.import(structuredClone(index.export()))
    const inTurns = await TextIndex.importInTurns(structuredClone(index.export()), 3)
    assert.deepEqual(inTurns.files(), copy.files())
    assert.equal(inTurns.cursorOffset('main.js', A.getCursor(doc, ['files', 'main.js'], 3)), 3)
    assert.deepEqual(copy.files(), { 'main.js': '😀 world' })
    assert.equal(copy.size, index.size)
    // An insertion after a deleted character lands where Automerge puts it.
    const peer = A.change(A.clone(doc), (d) => A.splice(d, ['files', 'main.js'], 2, 0, '!'))
    const r = copy.apply(A.decodeChange(A.getLastLocalChange(peer)!))
    assert.deepEqual(copy.files(), { 'main.js': String(peer.files['main.js']) })
    assert.deepEqual(r.splices, [{ file: 'main.js', at: 2, del: 0, ins: '!' }])
  })
})
