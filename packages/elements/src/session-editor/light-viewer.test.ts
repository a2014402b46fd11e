import { EditorView } from '@codemirror/view'
import { expect } from '@open-wc/testing'
import { api, createSession, freshSid, live, mountRoom, shadowText, token, typeAt, waitFor } from '../test-support/room.js'
import { listenToLiveRegions } from '../test-support/live-regions.js'

// Protocol 2 end to end: who cannot edit is a light viewer (no Automerge on the page), and a
// change of permissions moves a page between viewing and writing on the same socket.

/** What this page has fetched of Automerge: the library, its wasm, the replica's code and its worker. */
const automergeRequests = () =>
  performance
    .getEntriesByType('resource')
    .map((e) => e.name)
    .filter((name) => /@automerge|\.wasm|doc-sync|doc-worker|replica/.test(name))

/** Count the WebSockets this page opens until `stop()`. */
function countSockets(): { count(): number; stop(): void } {
  let n = 0
  const Native = window.WebSocket
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols)
      n++
    }
  }
  return { count: () => n, stop: () => (window.WebSocket = Native) }
}

const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))

/** The text of the line at the top of the scroller. */
function topLine(view: EditorView): string {
  return view.state.doc.lineAt(view.lineBlockAtHeight(view.scrollDOM.scrollTop - view.documentPadding.top).from).text
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`).join('\n')

describe('<session-editor> as a light viewer (protocol 2)', () => {
  before(() => performance.setResourceTimingBufferSize(10_000))

  it('an observer sees the code and the instructor’s edits and cursor, and the page loads no Automerge', async () => {
    const sid = freshSid('viewer')
    await createSession(sid, { 'main.js': 'const x = 1\n' })
    const sockets = countSockets()
    const observer = await mountRoom(sid, 'observer', 'obs', { name: 'Linus' })
    const seen = await live(observer.editor)
    sockets.stop()
    expect(sockets.count(), 'connections opened: one, asking for the document from the start').to.equal(1)
    const client = observer.room.client!
    expect(client.mode).to.equal('view')
    expect(client.source?.kind).to.equal('view')
    expect(observer.editor.value).to.equal('const x = 1\n')
    expect(seen.state.readOnly).to.equal(true)
    expect(shadowText(observer.editor, '[part=indicator]')).to.equal('View only')
    await new Promise((r) => setTimeout(r, 300))
    expect(automergeRequests(), 'Automerge fetched by an observer’s page').to.deep.equal([])

    // The instructor (another room on this page, which does load Automerge) types.
    const ins = await mountRoom(sid, 'instructor', 'ins', { name: 'Ada' })
    const typing = await live(ins.editor)
    typing.focus()
    typeAt(typing, typing.state.doc.length, 'x = x + 1\n')
    typing.dispatch({ selection: { anchor: 6 } })
    await waitFor(() => observer.editor.value === 'const x = 1\nx = x + 1\n', 8000, 'the instructor’s edits at the observer')
    await waitFor(() => observer.editor.shadowRoot!.querySelector('.sk-caret-label')?.textContent === 'Ada', 6000, 'the instructor’s caret')
    expect(automergeRequests().length, 'what the check would catch: the instructor’s Automerge').to.be.greaterThan(0)
    expect(client.doc, 'the observer’s replica').to.equal(null)
    expect(client.mode).to.equal('view')
    await expect(observer.editor).to.be.accessible()
  })

  it('a muted learner becomes a viewer and, unmuted, a writer again — same scroll and selection, and types', async () => {
    const sid = freshSid('mute-view')
    await createSession(sid, { 'main.js': lines(300) })
    const ins = await token(sid, 'instructor', 'ins', 'Ada')
    const learner = await mountRoom(sid, 'learner', 'lea', { name: 'Grace' })
    learner.editor.style.setProperty('--session-editor-height', '12rem')
    const view = await live(learner.editor)
    const client = learner.room.client!
    await waitFor(() => client.source?.kind === 'full', 8000, 'a writer')
    // Reading further down, a word selected.
    const line = view.state.doc.line(161)
    view.dispatch({ selection: { anchor: line.from, head: line.from + 4 } })
    view.scrollDOM.scrollTop = view.lineBlockAt(view.state.doc.line(150).from).top
    await frame()
    const top = topLine(view)
    const selected = () => `${view.state.sliceDoc(view.state.selection.main.from, view.state.selection.main.to)}|${view.state.doc.lineAt(view.state.selection.main.from).text}`
    expect(selected()).to.equal('line|line 160')

    await api('POST', `/v1/sessions/${sid}/participants/lea/mute`, ins)
    await waitFor(() => client.mode === 'view' && client.source?.kind === 'view', 8000, 'a viewer')
    await waitFor(() => learner.editor.shadowRoot!.querySelector('.editor.live') !== null, 4000, 'live as a viewer')
    await frame()
    expect(view.state.readOnly).to.equal(true)
    expect(shadowText(learner.editor, '[part=indicator]')).to.equal('Muted')
    expect(topLine(view)).to.equal(top)
    expect(selected()).to.equal('line|line 160')

    // The instructor adds a line at the very top while Grace views: she keeps her place.
    const room2 = await mountRoom(sid, 'instructor', 'ins', { name: 'Ada' })
    const typing = await live(room2.editor)
    typeAt(typing, 0, '// note\n')
    await waitFor(() => learner.editor.value.startsWith('// note\n'), 8000, 'the instructor’s line at the viewer')
    await frame()
    expect(topLine(view)).to.equal(top)
    expect(selected()).to.equal('line|line 160')

    await api('POST', `/v1/sessions/${sid}/participants/lea/unmute`, ins)
    await waitFor(() => client.mode === 'full' && client.source?.kind === 'full' && !view.state.readOnly, 10000, 'a writer again')
    await frame()
    expect(learner.editor.value).to.equal(`// note\n${lines(300)}`)
    expect(topLine(view)).to.equal(top)
    expect(selected()).to.equal('line|line 160')

    const at = view.state.selection.main.to
    typeAt(view, at, 'X')
    await learner.editor.updateComplete
    await waitFor(() => shadowText(learner.editor, '[part=save-state]') === 'All changes saved', 8000, 'saved')
    await waitFor(() => room2.editor.value.includes('\nlineX 160\n'), 8000, 'Grace’s keystroke at the instructor')
    const doc = await (await api('GET', `/v1/sessions/${sid}/document`, ins)).json()
    expect(doc.files['main.js']).to.contain('\nlineX 160\n')
  })

  it('shows edits typed as editing was locked, so they can be copied, and goes on viewing', async () => {
    const sid = freshSid('refused')
    await createSession(sid, { 'main.js': 'shared\n' })
    const { editor, room } = await mountRoom(sid, 'learner', 'lea')
    await live(editor)
    const client = room.client!
    await waitFor(() => client.source?.kind === 'full', 8000, 'a writer')
    // A keystroke racing the lock: made as the news arrives, before the page is read-only.
    client.events.addEventListener('permissions', () => client.doc?.splice('main.js', [{ from: 0, to: 0, insert: 'my draft ' }]), { once: true })
    await api('POST', `/v1/sessions/${sid}/lock`, await token(sid, 'instructor', 'ins', 'Ada'))
    await waitFor(() => editor.shadowRoot!.querySelector('[part=unsent]') !== null, 10000, 'the unsent panel')
    expect(shadowText(editor, '[part=unsent] pre')).to.equal('my draft shared')
    // Copying twice is said twice (copied, or that copying was blocked): the same words, read again.
    const heard = listenToLiveRegions(editor)
    const copy = editor.shadowRoot!.querySelector<HTMLButtonElement>('[part=unsent] .unsent-head button')!
    copy.click()
    await waitFor(() => heard.take().length === 1, 5000, 'the first copy said')
    copy.click()
    await waitFor(() => heard.take().length === 1, 5000, 'the second copy said')
    await waitFor(() => client.mode === 'view' && client.source?.kind === 'view', 8000, 'viewing again')
    await live(editor)
    expect(editor.value).to.equal('shared\n')
    await expect(editor).to.be.accessible()
  })
})
