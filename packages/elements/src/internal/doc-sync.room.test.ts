import { expect } from '@open-wc/testing'
import { loadAutomerge, type AutomergeModule } from './automerge.js'
import { DocSync } from './doc-sync.js'
import { applySplices } from './rebase.js'
import type { TextSplice, UnsentEdit } from '../text-source.js'
import { UnsentStore } from './unsent-store.js'
import { api, createSession, freshSid, token, waitFor } from '../test-support/room.js'
import { seeded } from '../test-support/replica-harness.js'
import { syncSocket } from '../test-support/sync-socket.js'

let A: AutomergeModule

/** A DocSync with what an editor following it would show. */
function writer(key = `room-test|${Math.random()}`) {
  const doc = new DocSync(A, new UnsentStore(key))
  const shown = new Map<string, string>()
  const reload = () => {
    shown.clear()
    for (const f of doc.files()) shown.set(f, doc.text(f)!)
  }
  doc.addEventListener('ready', reload)
  doc.addEventListener('text', reload)
  doc.addEventListener('splices', (e) => {
    for (const s of (e as CustomEvent<TextSplice[]>).detail) shown.set(s.file, applySplices(shown.get(s.file)!, [s]))
  })
  const type = (file: string, from: number, to: number, insert: string) => {
    const text = shown.get(file)!
    shown.set(file, text.slice(0, from) + insert + text.slice(to))
    doc.splice(file, [{ from, to, insert }])
  }
  return { doc, shown, type }
}

async function serverText(sid: string, file: string) {
  const tok = await token(sid, 'instructor', 'ins')
  const { files } = (await (await api('GET', `/v1/sessions/${sid}/document`, tok)).json()) as { files: Record<string, string> }
  return files[file]
}

describe('DocSync against a server (replica in the document worker)', () => {
  let warnings: unknown[][] = []
  const warn = console.warn
  before(async () => {
    A = await loadAutomerge()
  })
  beforeEach(() => {
    warnings = []
    console.warn = (...args: unknown[]) => warnings.push(args)
  })
  afterEach(() => {
    console.warn = warn
  })

  it('two writers typing at the same places converge on the server’s text', async () => {
    const sid = freshSid('docsync')
    await createSession(sid, { 'main.js': 'x'.repeat(2000) })
    const a = writer()
    const b = writer()
    await syncSocket(a.doc, sid, await token(sid, 'instructor', 'ins'))
    await syncSocket(b.doc, sid, await token(sid, 'learner', 'lea'))
    await waitFor(() => a.doc.synced && b.doc.synced, 10000, 'both synced')
    const rnd = seeded(42)
    for (let i = 0; i < 150; i++) {
      for (const w of [a, b]) {
        const text = w.shown.get('main.js')!
        // Both near the start: inserts at one position and overlapping deletes race.
        const from = rnd.int(Math.min(text.length, 12) + 1)
        const to = rnd.next() < 0.25 ? Math.min(text.length, from + 1 + rnd.int(3)) : from
        w.type('main.js', from, to, rnd.pick(['a', 'b', '\n', 'cd']))
      }
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, rnd.int(30)))
    }
    await waitFor(() => a.doc.pending === 0 && b.doc.pending === 0, 15000, 'everything acknowledged')
    const server = await serverText(sid, 'main.js')
    await waitFor(() => a.shown.get('main.js') === server && b.shown.get('main.js') === server, 10000, 'both editors show the server’s text')
    expect(a.doc.text('main.js')).to.equal(server)
    expect(b.doc.text('main.js')).to.equal(server)
    expect(warnings, 'no fallback to the main thread').to.deep.equal([])
    expect(await a.doc.cursorPositions('main.js', [await a.doc.cursor('main.js', 5)])).to.deep.equal([5])
  })

  it('keeps unsent edits on the device and sends them after a reload', async () => {
    const sid = freshSid('unsent')
    await createSession(sid, { 'main.js': 'shared\n' })
    const key = `unsent-test|${sid}`
    const tok = await token(sid, 'learner', 'lea')
    const first = writer(key)
    const socket = await syncSocket(first.doc, sid, tok)
    await waitFor(() => first.doc.synced, 10000, 'synced')
    socket.close()
    await socket.closed
    first.type('main.js', 0, 0, 'offline ')
    await waitFor(() => first.doc.unsent.entries.length === 1, 5000, 'the change kept')
    expect(first.doc.pending).to.equal(1)
    // Give the store its write, then "reload": a new page with a new replica and the same key.
    await new Promise((r) => setTimeout(r, 200))
    first.doc.close()
    const second = writer(key)
    await syncSocket(second.doc, sid, tok)
    await waitFor(() => second.doc.text('main.js') === 'offline shared\n', 10000, 'the restored edit')
    await waitFor(() => second.doc.pending === 0, 10000, 'acknowledged')
    expect(second.shown.get('main.js')).to.equal('offline shared\n')
    expect(await serverText(sid, 'main.js')).to.equal('offline shared\n')
  })

  it('after a refused write, shows the edits that were lost with the text they made', async () => {
    const sid = freshSid('refused')
    await createSession(sid, { 'main.js': 'shared\n' })
    const tok = await token(sid, 'observer', 'obs')
    const w = writer()
    const unsent: UnsentEdit[][] = []
    w.doc.addEventListener('unsent', (e) => unsent.push((e as CustomEvent<UnsentEdit[]>).detail))
    const socket = await syncSocket(w.doc, sid, tok)
    await waitFor(() => w.doc.synced, 10000, 'synced')
    w.type('main.js', 0, 0, 'my draft ')
    const closed = await socket.closed
    expect(closed.code).to.equal(4003)
    w.doc.discardReplica()
    expect(w.doc.synced).to.equal(false)
    await syncSocket(w.doc, sid, tok)
    await waitFor(() => unsent.length > 0, 10000, 'the unsent edits')
    expect(unsent[0]).to.deep.equal([{ file: 'main.js', text: 'my draft shared\n' }])
    expect(w.doc.text('main.js')).to.equal('shared\n')
    expect(w.doc.pending).to.equal(0)
  })

  it('runs in the page, and says so once, when no worker can start', async () => {
    const Original = globalThis.Worker
    globalThis.Worker = class {
      constructor() {
        throw new DOMException('refused by the test', 'SecurityError')
      }
    } as unknown as typeof Worker
    try {
      const sid = freshSid('noworker')
      await createSession(sid, { 'main.js': 'abc' })
      const w = writer()
      await syncSocket(w.doc, sid, await token(sid, 'instructor', 'ins'))
      await waitFor(() => w.doc.synced, 10000, 'synced')
      w.type('main.js', 3, 3, 'd')
      await waitFor(() => w.doc.pending === 0 && w.doc.unsent.entries.length === 0, 10000, 'saved')
      expect(await serverText(sid, 'main.js')).to.equal('abcd')
      expect(warnings.length).to.equal(1)
      expect(String(warnings[0]![0])).to.contain('main thread')
    } finally {
      globalThis.Worker = Original
    }
  })
})
