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

  for (const [seed, discards] of [[1, false], [2, false], [3, false], [4, false], [5, false], [6, false], [7, true], [8, true]] as const) {
    it(`converges under random interleavings of local and remote edits (seed ${seed}${discards ? ', with refused writes' : ''})`, async () => {
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
        if (discards && r < 0.01) {
          // A refused write: the replica is dropped while messages of both threads are in flight.
          h.doc.discardReplica()
          h.reconnect()
        } else if (r < 0.2) {
          if (!h.doc.synced) continue
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
        if (h.doc.synced) for (const f of files) expect(h.shown.get(f), `step ${step}: the editor and the page's text of ${f}`).to.equal(h.doc.text(f))
      }
      h.settle()
      for (const f of files) {
        expect(h.doc.text(f), `${f} after quiescence`).to.equal(h.serverText(f))
        expect(h.shown.get(f)).to.equal(h.serverText(f))
      }
      if (!discards) expect(h.doc.pending).to.be.greaterThan(0)
    })
  }

  it('resolves cursors through local edits the replica had not applied when it answered', async () => {
    const h = new ReplicaHarness(A, { 'main.js': 'hello world' })
    h.settle()
    const cursor = A.getCursor(h.server, ['files', 'main.js'], 6)
    const asked = h.doc.cursorPositions('main.js', [cursor, 3])
    h.localEdit('main.js', 0, 0, 'XX')
    h.deliverToReplica()
    expect(h.toReplica.length, 'the edit has not reached the replica').to.equal(1)
    // The replica answers before it sees the edit; the page maps the answer through it.
    h.deliverToPage()
    expect(await asked).to.deep.equal([8, 3])
    h.settle()
    const again = h.doc.cursorPositions('main.js', [cursor])
    h.settle()
    expect(await again).to.deep.equal([8])
    expect(h.doc.text('main.js')).to.equal('XXhello world')
  })

  it('a discarded replica’s last words are not applied, and the rejoin starts clean', async () => {
    const h = new ReplicaHarness(A, { 'main.js': 'abc' })
    h.settle()
    h.remoteEdit('main.js', 3, 0, 'd')
    h.serverSend()
    h.deliverToReplica()
    h.applyFrames()
    h.localEdit('main.js', 0, 0, 'X')
    // The replica's batch ('d') and the edit are in flight when the page drops the replica.
    h.doc.discardReplica()
    expect(h.doc.synced).to.equal(false)
    expect(h.doc.text('main.js')).to.equal(undefined)
    h.reconnect()
    h.settle()
    expect(h.doc.synced).to.equal(true)
    // The old replica's change 'X' reached the server (its bytes were reported): the new one has it too.
    expect(h.doc.text('main.js')).to.equal(h.serverText('main.js'))
    expect(h.shown.get('main.js')).to.equal(h.serverText('main.js'))
    h.remoteEdit('main.js', 0, 0, '>')
    h.serverSend()
    h.settle()
    expect(h.doc.text('main.js')).to.equal(h.serverText('main.js'))
  })
})
