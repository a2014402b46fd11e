import { ContextProvider } from '@lit/context'
import { StateEffect, type Transaction } from '@codemirror/state'
import { EditorView } from '@codemirror/view'
import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import type { Cursor, LocalEdit, Permission, PresenceInfo } from '@session-kit/core'
import '../define/session-editor.js'
import { roomContext } from '../internal/context.js'
import { RoomClient, ServerEventMessage } from '../internal/room-client.js'
import { RoomState } from '../room-state.js'
import type { TextSource } from '../text-source.js'
import { ViewSync } from '../internal/view-sync.js'
import { live, shadowText, waitFor } from '../test-support/room.js'
import type { SessionEditor } from './session-editor.js'

// The editor against sources made here (no server): what it does with a light view's splices and
// when the room switches it between a view and a replica.

/** A replica as the editor sees one: whole text, local edits taken through `splice`. */
class FakeReplica extends EventTarget implements TextSource {
  readonly kind = 'full'
  readonly synced = true
  pending = 0
  readonly edits: LocalEdit[][] = []
  constructor(private readonly content: Record<string, string>) {
    super()
  }
  text(file: string) {
    return this.content[file]
  }
  files() {
    return Object.keys(this.content)
  }
  cursor(_file: string, pos: number): Promise<Cursor['anchor']> {
    return Promise.resolve(pos)
  }
  cursorPositions(_file: string, cursors: Cursor['anchor'][]) {
    return Promise.resolve(cursors.map((c) => (typeof c === 'number' ? c : null)))
  }
  splice(file: string, edits: LocalEdit[]) {
    this.edits.push(edits)
    let text = this.content[file]!
    for (const e of [...edits].sort((a, b) => b.from - a.from)) text = text.slice(0, e.from) + e.insert + text.slice(e.to)
    this.content[file] = text
  }
}

const me: PresenceInfo = { userId: 'me', name: 'Me', role: 'learner', color: '#0f766e', owner: false, muted: false, cursor: null }
const session = { id: 's', title: 'T', language: 'javascript', editingLocked: false, recording: false, recordingState: 'off' as const }
// An observer's token (read, never verified, here): the client does not fetch Automerge for it.
const fakeToken = `x.${btoa(JSON.stringify({ sub: 'me', role: 'observer' }))}.y`

/** Mount an editor in a room whose learner may edit or is muted, showing `source`. */
async function mountWith(source: TextSource, mayEdit: boolean) {
  const host = await fixture<HTMLDivElement>(html`<div></div>`)
  const client = new RoomClient({ server: 'http://127.0.0.1:1', session: 's', token: () => fakeToken, tokenProvider: () => undefined, onChange: () => {} })
  const provider = new ContextProvider(host, { context: roomContext })
  const publish = (src: TextSource, edit: boolean) => {
    const participant = { ...me, muted: !edit }
    const permissions = (edit ? ['VIEW_CODE', 'EDIT_CODE'] : ['VIEW_CODE']) as Permission[]
    provider.setValue(new RoomState(client, 'live', participant, permissions, session, [participant], null, null, src))
  }
  publish(source, mayEdit)
  const editor = document.createElement('session-editor') as SessionEditor
  editor.file = 'main.js'
  editor.style.setProperty('--session-editor-height', '12rem')
  host.append(editor)
  const view = await live(editor)
  return { client, editor, view, publish }
}

/** Every document-changing transaction the view applies from now on. */
function transactions(view: EditorView): Transaction[] {
  const seen: Transaction[] = []
  view.dispatch({ effects: StateEffect.appendConfig.of(EditorView.updateListener.of((u) => seen.push(...u.transactions.filter((t) => t.docChanged)))) })
  return seen
}

const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))

/** The text of the first line whose block is visible at the top of the scroller. */
function topLine(view: EditorView): string {
  const block = view.lineBlockAtHeight(view.scrollDOM.scrollTop - view.documentPadding.top)
  return view.state.doc.lineAt(block.from).text
}

describe('<session-editor> with a light view and a replica', () => {
  it('shows a view read-only and applies a frame of splices as one transaction', async () => {
    const viewSync = new ViewSync()
    viewSync.load({ 'main.js': 'let a = 1\nlet b = 2\n' }, [])
    const { editor, view } = await mountWith(viewSync, false)
    expect(view.state.readOnly).to.equal(true)
    expect(editor.value).to.equal('let a = 1\nlet b = 2\n')
    const seen = transactions(view)
    viewSync.apply(
      [
        { file: 'main.js', index: 4, delete: 1, insert: 'alpha' },
        { file: 'main.js', index: 13, delete: 0, insert: '0' },
        { file: 'other.js', index: 0, delete: 0, insert: 'not this file' },
        { file: 'main.js', index: 19, delete: 1, insert: 'beta' },
      ],
      ['h2'],
    )
    expect(seen.length).to.equal(1)
    expect(editor.value).to.equal('let alpha = 10\nlet beta = 2\n')
    expect(editor.value).to.equal(viewSync.text('main.js'))
    await expect(editor).to.be.accessible()
  })

  it('moves from a view to the replica and back by the smallest edit, keeping scroll, selection and keystrokes', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i}`)
    const viewSync = new ViewSync()
    viewSync.load({ 'main.js': lines.join('\n') }, [])
    const { editor, view, publish } = await mountWith(viewSync, false)
    // Reading far down, a word selected.
    view.dispatch({ selection: { anchor: view.state.doc.line(160).from, head: view.state.doc.line(160).from + 4 }, scrollIntoView: false })
    view.scrollDOM.scrollTop = view.lineBlockAt(view.state.doc.line(150).from).top
    await frame()
    const top = topLine(view)
    expect(top).to.match(/^line 1[45]\d$/)

    // EDIT_CODE granted: the replica is ready, and it already holds an edit near the top.
    const replica = new FakeReplica({ 'main.js': ['// added above', ...lines].join('\n') })
    const seen = transactions(view)
    publish(replica, true)
    await waitFor(() => !view.state.readOnly, 4000, 'editable')
    await frame()
    expect(editor.value).to.equal(replica.text('main.js'))
    expect(seen.length).to.equal(1)
    const spans: [number, number, string][] = []
    seen[0]!.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => spans.push([fromA, toA, inserted.toString()]))
    expect(spans).to.deep.equal([[0, 0, '// added above\n']])
    expect(topLine(view)).to.equal(top)
    const selected = view.state.sliceDoc(view.state.selection.main.from, view.state.selection.main.to)
    expect(selected).to.equal('line')
    expect(view.state.doc.lineAt(view.state.selection.main.from).text).to.equal('line 159')

    // Typing goes to the replica.
    const at = view.state.selection.main.to
    view.dispatch({ changes: { from: at, insert: 'X' }, userEvent: 'input.type' })
    expect(replica.edits.at(-1)).to.deep.equal([{ from: at, to: at, insert: 'X' }])
    expect(replica.text('main.js')).to.equal(editor.value)

    // EDIT_CODE taken away: read-only at once; the replica is dropped, and the view (from the
    // server, with the keystroke) takes over once its text has come.
    publish(replica, false)
    await waitFor(() => view.state.readOnly, 4000, 'read-only')
    replica.dispatchEvent(new Event('reset'))
    viewSync.reset()
    viewSync.load({ 'main.js': replica.text('main.js')! }, [])
    publish(viewSync, false)
    await waitFor(() => editor.shadowRoot!.querySelector('.editor.live') !== null, 4000, 'live again')
    await frame()
    expect(view.state.readOnly).to.equal(true)
    expect(editor.value).to.equal(replica.text('main.js'))
    expect(view.state.doc.lineAt(view.state.selection.main.from).text).to.equal('lineX 159')
    expect(topLine(view)).to.equal(top)
    expect(shadowText(editor, '[part=indicator]')).to.equal('Muted')
  })

  it('keeps following its source and cursors after being moved in the page', async () => {
    const viewSync = new ViewSync()
    viewSync.load({ 'main.js': 'hello\n' }, [])
    const { client, editor } = await mountWith(viewSync, false)
    const box = document.createElement('section')
    editor.parentElement!.append(box)
    box.append(editor)
    await live(editor)
    viewSync.apply([{ file: 'main.js', index: 5, delete: 0, insert: ' again' }], [])
    expect(editor.value).to.equal('hello again\n')
    await new Promise((r) => setTimeout(r, 50))
    const ada: PresenceInfo = { ...me, userId: 'ada', name: 'Ada', cursor: { file: 'main.js', anchor: 0, head: 5 } }
    client.participants.set('ada', ada)
    client.events.dispatchEvent(new ServerEventMessage({ type: 'presences', participants: [ada] }))
    await waitFor(() => editor.shadowRoot!.querySelector('.sk-caret-label')?.textContent === 'Ada', 4000, 'a remote caret after the move')
  })

  it('draws other people’s cursors from presence batches', async () => {
    const viewSync = new ViewSync()
    viewSync.load({ 'main.js': 'hello world\n' }, [])
    const { client, editor } = await mountWith(viewSync, false)
    const ada: PresenceInfo = { ...me, userId: 'ada', name: 'Ada Lovelace', role: 'instructor', cursor: { file: 'main.js', anchor: 6, head: 11 } }
    client.participants.set('ada', ada)
    client.events.dispatchEvent(new ServerEventMessage({ type: 'presences', participants: [ada] }))
    await waitFor(() => editor.shadowRoot!.querySelector('.sk-caret-label')?.textContent === 'Ada Lovelace', 4000, 'a remote caret')
    expect(editor.shadowRoot!.querySelector('.sk-sel')?.textContent).to.equal('world')
  })

  it('a caret ahead of the text shown (its edit still on the way) neither breaks the editor nor later splices', async () => {
    const viewSync = new ViewSync()
    viewSync.load({ 'main.js': 'hello\n' }, [])
    const { client, editor } = await mountWith(viewSync, false)
    const ada: PresenceInfo = { ...me, userId: 'ada', name: 'Ada', cursor: { file: 'main.js', anchor: 20, head: 20 } }
    client.participants.set('ada', ada)
    client.events.dispatchEvent(new ServerEventMessage({ type: 'presences', participants: [ada] }))
    await waitFor(() => editor.shadowRoot!.querySelector('.sk-caret-label')?.textContent === 'Ada', 4000, 'the remote caret')
    viewSync.apply([{ file: 'main.js', index: 5, delete: 0, insert: ' world' }], ['h2'])
    viewSync.apply([{ file: 'main.js', index: 11, delete: 0, insert: '!' }], ['h3'])
    expect(editor.value).to.equal('hello world!\n')
  })
})
