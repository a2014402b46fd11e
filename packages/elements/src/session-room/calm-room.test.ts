import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-chat.js'
import type { SessionChat } from '../session-chat/session-chat.js'
import type { SessionEditor } from '../session-editor/session-editor.js'
import type { SessionRoom } from './session-room.js'
import { createSession, freshSid, live, mountRoom, shadowText, testServer, token, typeAt, waitFor } from '../test-support/room.js'

/** Count the renders of an element from now on. */
function renders(el: HTMLElement): () => number {
  const target = el as unknown as { render(): unknown }
  const render = target.render
  let n = 0
  target.render = function (this: unknown) {
    n++
    return render.call(this)
  }
  return () => n
}

describe('<session-room> republishes only what changed', () => {
  it('a remote peer typing and moving its cursor, and one’s own acknowledged keystrokes, re-render no other element', async () => {
    const sid = freshSid('calm')
    await createSession(sid, { 'main.js': 'hello\n' })
    const { url } = await testServer()
    const room = await fixture<SessionRoom>(
      html`<session-room server=${url} session=${sid} token=${await token(sid, 'learner', 'lea', 'Lea')}><session-editor file="main.js"></session-editor><session-chat></session-chat></session-room>`,
    )
    const editor = room.querySelector('session-editor') as SessionEditor
    const chat = room.querySelector('session-chat') as SessionChat
    const mine = await live(editor)
    const ada = await mountRoom(sid, 'instructor', 'ins', { name: 'Ada' })
    const theirs = await live(ada.editor)
    await waitFor(() => room.participants.length === 2 && !chat.shadowRoot!.textContent!.includes('Loading'), 6000, 'both here, chat loaded')
    await new Promise((r) => setTimeout(r, 300))

    const chatRenders = renders(chat)
    const roomRenders = renders(room)
    const editorRenders = renders(editor)
    // Ada types 30 characters, moving her caret as she goes.
    theirs.focus()
    for (let i = 0; i < 30; i++) {
      typeAt(theirs, theirs.state.doc.length, 'x')
      theirs.dispatch({ selection: { anchor: theirs.state.doc.length } })
      await new Promise((r) => setTimeout(r, 30))
    }
    await waitFor(() => editor.value === 'hello\n' + 'x'.repeat(30), 8000, 'her text here')
    await waitFor(() => editor.shadowRoot!.querySelector('.sk-caret-label')?.textContent === 'Ada', 4000, 'her caret here')
    expect(chatRenders(), 'chat renders while a peer typed').to.equal(0)
    expect(roomRenders(), 'room renders while a peer typed').to.equal(0)
    expect(editorRenders(), 'editor renders while a peer typed').to.equal(0)

    // Lea types: her editor says "Saving…" then "All changes saved"; the chat never hears of it.
    typeAt(mine, 0, 'mine ')
    await editor.updateComplete
    await waitFor(() => shadowText(editor, '[part=save-state]') === 'All changes saved', 8000, 'saved')
    expect(chatRenders(), 'chat renders while one typed').to.equal(0)
    expect(roomRenders(), 'room renders while one typed').to.equal(0)
    expect(editorRenders(), 'editor renders while one typed').to.be.greaterThan(0)
  })
})
