import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import type { SessionEditor } from './session-editor.js'
import { api, createSession, freshSid, live, liveEditorPair, mountRoom, shadowText, token, typeAt, viewOf, waitFor } from '../test-support/room.js'

describe('<session-editor>', () => {
  it('two editors converge under concurrent typing', async () => {
    const { a, b, va, vb } = await liveEditorPair('converge', 'start\n')
    for (let i = 0; i < 25; i++) {
      typeAt(va, 0, 'A')
      typeAt(vb, vb.state.doc.length, 'b')
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 5))
    }
    await waitFor(() => a.value === b.value && a.value.length === 56, 10000, 'convergence')
    expect(a.value.startsWith('A'.repeat(25))).to.equal(true)
    expect(b.value.endsWith('b'.repeat(25))).to.equal(true)
    await waitFor(() => shadowText(a, '[part=save-state]') === 'All changes saved', 5000, 'saved')
  })

  it('an observer sees the code read-only, with the reason and what they can do', async () => {
    const sid = freshSid('observe')
    await createSession(sid, { 'main.js': 'const x = 1\n' })
    const { editor } = await mountRoom(sid, 'observer', 'obs')
    const view = await live(editor)
    expect(view.state.readOnly).to.equal(true)
    expect(shadowText(editor, '[part=indicator]')).to.equal('View only')
    expect(view.contentDOM.getAttribute('aria-label')).to.contain('read-only')
    const button = editor.shadowRoot!.querySelector('[part=help-button]') as HTMLButtonElement
    button.click()
    await editor.updateComplete
    const help = shadowText(editor, '[part=help]')
    expect(help).to.contain('You are observing')
    expect(button.getAttribute('aria-expanded')).to.equal('true')
    await expect(editor).to.be.accessible()
  })

  it('a learner is switched to read-only when editing is locked and back when unlocked, without reloading', async () => {
    const sid = freshSid('lock')
    await createSession(sid, { 'main.js': '' })
    const ins = await token(sid, 'instructor', 'ins', 'Ada')
    const { editor, room } = await mountRoom(sid, 'learner', 'lea')
    let view = await live(editor)
    expect(view.state.readOnly).to.equal(false)
    await api('POST', `/v1/sessions/${sid}/lock`, ins)
    await waitFor(() => shadowText(editor, '[part=indicator]') === 'Editing locked by instructor', 8000, 'locked indicator')
    view = await live(editor)
    expect(view.state.readOnly).to.equal(true)
    await api('POST', `/v1/sessions/${sid}/unlock`, ins)
    await waitFor(() => shadowText(editor, '[part=indicator]') === 'Editing', 8000, 'unlocked indicator')
    // A viewer while locked: editable once its replica has synced again.
    await waitFor(() => viewOf(editor)?.state.readOnly === false && shadowText(editor, '[part=save-state]') === 'All changes saved', 10000, 'editable again')
    view = await live(editor)
    typeAt(view, 0, 'back')
    // "Saving…" is drawn first: only then does "All changes saved" mean these edits.
    await editor.updateComplete
    await waitFor(() => shadowText(editor, '[part=save-state]') === 'All changes saved' && editor.value === 'back', 5000, 'saved after unlock')
    const doc = await (await api('GET', `/v1/sessions/${sid}/document`, ins)).json()
    expect(doc.files['main.js']).to.equal('back')
    expect(room.status).to.equal('live')
    await expect(editor).to.be.accessible()
  })

  it('undo reverses only your own edits', async () => {
    const { a, b, va, vb } = await liveEditorPair('undo', '')
    typeAt(va, 0, 'mine ')
    await waitFor(() => b.value === 'mine ', 5000, 'a’s text at b')
    typeAt(vb, vb.state.doc.length, 'theirs')
    await waitFor(() => a.value === 'mine theirs', 5000, 'b’s text at a')
    const { undo } = await import('@codemirror/commands')
    undo(va)
    expect(a.value).to.equal('theirs')
    await waitFor(() => b.value === 'theirs', 5000, 'the undo reached b')
  })

  it('over the edit allowance, says so, keeps the edits on the device and waits as the server asked', async () => {
    const sid = freshSid('allowance')
    await createSession(sid, { 'main.js': '' })
    const { editor, room } = await mountRoom(sid, 'learner', 'paster')
    const view = await live(editor)
    // The server's default allowance is 20,000 characters a minute per person: one such paste is
    // saved, a second at once is held back.
    const paste = (text: string) => view.dispatch({ changes: { from: 0, insert: text }, userEvent: 'input.paste' })
    paste('a'.repeat(20_000))
    await waitFor(() => shadowText(editor, '[part=save-state]') === 'All changes saved', 15000, 'the first paste saved')
    const statuses: string[] = []
    room.addEventListener('session-status', (e) => statuses.push((e as Event & { status: string }).status))
    paste('b'.repeat(20_000))
    await waitFor(() => shadowText(editor, '[part=banner]').includes('within a minute'), 10000, 'the allowance message')
    expect(shadowText(editor, '[part=banner]')).to.match(/your latest edits are kept and will be sent in \d+ s/)
    expect(editor.value.length).to.equal(40_000)
    expect(room.status).to.equal('offline')
    expect(shadowText(editor, '[part=save-state]')).to.equal('Waiting to send')
    expect(room.shadowRoot!.querySelector('[part=status-text]')!.textContent).to.contain('Waiting to send your edits')
    // No reconnect storm: it waits for the time the server gave (close to a minute), not 0.5 s.
    await new Promise((r) => setTimeout(r, 3000))
    expect(statuses.filter((s) => s === 'connecting')).to.deep.equal([])
    expect(editor.value.length).to.equal(40_000)
    await expect(editor).to.be.accessible()
  })

  it('shows remote cursors with names', async () => {
    const sid = freshSid('cursor')
    await createSession(sid, { 'main.js': 'hello world\n' })
    const a = await mountRoom(sid, 'instructor', 'ins', { name: 'Ada Lovelace' })
    const b = await mountRoom(sid, 'learner', 'lea', { name: 'Grace Hopper' })
    const va = await live(a.editor)
    await live(b.editor)
    va.focus()
    va.dispatch({ selection: { anchor: 5 } })
    await waitFor(() => (b.editor.shadowRoot!.querySelector('.sk-caret-label')?.textContent ?? '') === 'Ada Lovelace', 6000, 'a remote caret')
  })

  it('reports an unknown file clearly', async () => {
    const sid = freshSid('nofile')
    await createSession(sid, { 'main.js': '' })
    const { editor } = await mountRoom(sid, 'learner', 'lea', { file: 'missing.py' })
    await waitFor(() => shadowText(editor, '[part=banner]').includes('There is no file named'), 8000, 'missing-file message')
    expect(shadowText(editor, '[part=banner]')).to.contain('main.js')
  })

  it('is a local playground outside a room, starting from its text content', async () => {
    const editor = await fixture<SessionEditor>(html`<session-editor language="python">
      print("hi")
    </session-editor>`)
    await waitFor(() => viewOf(editor) !== null, 5000, 'playground editor')
    const view = viewOf(editor)!
    expect(editor.value).to.equal('print("hi")')
    expect(view.state.readOnly).to.equal(false)
    typeAt(view, view.state.doc.length, '\nprint(2)')
    expect(editor.value).to.equal('print("hi")\nprint(2)')
    expect(shadowText(editor, '[part=indicator]')).to.equal('Playground')
    await expect(editor).to.be.accessible()
  })
})
