import { expect } from '@open-wc/testing'
import { loadAutomerge, type AutomergeModule } from './automerge.js'
import { ReplicaHarness, seeded } from '../test-support/replica-harness.js'

let A: AutomergeModule

describe('DocSync with its replica (threads interleaved by hand)', () => {
  before(async () => {
    A = await loadAutomerge()
  })

  it('shows the first sync, then remote splices', async () => {
    const h = new ReplicaHarness(A, { 'main.js': 'hello\n', 'b.js': '' })
    h.settle()
    expect(h.doc.synced).to.equal(true)
    expect(h.doc.files()).to.deep.equal(['b.js', 'main.js'])
    h.remoteEdit('main.js', 5, 0, ' world')
    h.settle()
    expect(h.doc.text('main.js')).to.equal('hello world\n')
    expect(h.shown.get('main.js')).to.equal('hello world\n')
  })

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`converges under random interleavings of local and remote edits (seed ${seed})`, async () => {
      const rnd = seeded(seed)
      const files = ['main.js', 'util.js']
      const h = new ReplicaHarness(A, { 'main.js': 'abcdef', 'util.js': '' })
      h.settle()
      const edit = (text: string) => {
        // Small texts and few positions: inserts at the same position and overlapping deletes are common.
        const from = rnd.int(text.length + 1)
        const to = rnd.next() < 0.3 ? Math.min(text.length, from + 1 + rnd.int(4)) : from
        return { from, to, insert: rnd.next() < 0.8 ? rnd.pick(['x', 'yy', 'Z', '\n', 'é', '\r\n', 'w']) : '' }
      }
      for (let step = 0; step < 600; step++) {
        const r = rnd.next()
        const file = rnd.pick(files)
        if (r < 0.2) {
          const e = edit(h.shown.get(file)!)
          h.localEdit(file, e.from, e.to, e.insert)
        } else if (r < 0.35) {
          const e = edit(h.serverText(file))
          h.remoteEdit(file, e.from, e.to - e.from, e.insert)
          h.serverSend()
        } else if (r < 0.55) h.deliverToReplica()
        else if (r < 0.75) h.deliverToPage()
        else if (r < 0.85) h.applyFrames()
        else h.serverReceive()
        // What the editor shows is always the page's text.
        for (const f of files) expect(h.shown.get(f), `step ${step}: the editor and the page's text of ${f}`).to.equal(h.doc.text(f))
      }
      h.settle()
      for (const f of files) {
        expect(h.doc.text(f), `${f} after quiescence`).to.equal(h.serverText(f))
        expect(h.shown.get(f)).to.equal(h.serverText(f))
      }
      expect(h.doc.pending).to.be.greaterThan(0)
    })
  }
})
