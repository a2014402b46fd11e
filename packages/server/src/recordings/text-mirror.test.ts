import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as A from '@automerge/automerge'
import { applySplices } from '@session-kit/core'
import { DocMirror } from './text-mirror.js'

type Doc = { files: Record<string, string> }

function seeded(seed: number) {
  return (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n)
}

describe('the text mirror', () => {
  it('agrees with Automerge after every change, under random concurrent edits from several actors', () => {
    for (const seed of [1, 7, 42, 99, 1234]) {
      const rnd = seeded(seed)
      let server = A.from<Doc>({ files: { 'a.js': 'start', 'b.js': '' } })
      const mirror = new DocMirror()
      for (const c of A.getAllChanges(server)) mirror.apply(A.decodeChange(c))
      // Actors with different id lengths and orders, to exercise concurrent ordering.
      const actors = ['01', 'ff', 'a0b1', '7c', '0000000000000000ab']
      let clients = actors.map((actor) => A.clone(server, { actor }))
      let texts = mirror.files()
      for (let step = 0; step < 400; step++) {
        const k = rnd(clients.length)
        let c = clients[k]!
        const file = rnd(4) === 0 ? 'b.js' : 'a.js'
        const len = String(c.files[file] ?? '').length
        c = A.change(c, (d) => {
          if (rnd(5) === 0 && len > 0) {
            const at = rnd(len)
            A.splice(d, ['files', file], at, 1 + rnd(Math.min(4, len - at)))
          } else {
            A.splice(d, ['files', file], rnd(len + 1), 0, 'xyz'.slice(0, 1 + rnd(3)))
          }
        })
        const bytes = A.getLastLocalChange(c)!
        clients[k] = c
        // The server accepts the change (in this order) and the mirror turns it into splices.
        server = A.applyChanges(server, [bytes])[0]
        const { splices } = mirror.apply(A.decodeChange(bytes))
        texts = applySplices(texts, splices)
        assert.deepEqual(mirror.files(), { 'a.js': String(server.files['a.js']), 'b.js': String(server.files['b.js']) }, `seed ${seed} step ${step}: mirror`)
        assert.deepEqual(texts, mirror.files(), `seed ${seed} step ${step}: splices`)
        // Sometimes a client catches up with the server (others stay concurrent).
        if (rnd(6) === 0) clients[rnd(clients.length)] = A.merge(A.clone(clients[rnd(clients.length)]!), server)
      }
    }
  })

  it('follows files being added and removed', () => {
    let doc = A.from<Doc>({ files: { 'main.js': 'x' } })
    const mirror = new DocMirror()
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
})
