import { expect } from '@open-wc/testing'
import { sendMouse } from '@web/test-runner-commands'
import type { EditorView } from '@codemirror/view'
import type { SessionEditor } from './session-editor.js'
import { createSession, freshSid, live, mountRoom, typeAt, waitFor } from '../test-support/room.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The name tag on someone's caret, as `editor` draws it. */
const label = (editor: SessionEditor, name: string) => [...editor.shadowRoot!.querySelectorAll<HTMLElement>('.sk-caret-label')].find((l) => l.textContent === name)
const opacity = (editor: SessionEditor, name: string) => Number(getComputedStyle(label(editor, name)!).opacity)

/** The highest opacity of a name tag over `ms`. */
async function mostShown(editor: SessionEditor, name: string, ms: number) {
  let most = 0
  const t0 = performance.now()
  while (performance.now() - t0 < ms) {
    const l = label(editor, name)
    if (l) most = Math.max(most, Number(getComputedStyle(l).opacity))
    await sleep(30)
  }
  return most
}

function moveCaret(view: EditorView, at: number) {
  view.focus()
  view.dispatch({ selection: { anchor: at } })
}

describe('<session-editor> remote carets', () => {
  it('name tags show on hover and for a moment when that person moves — not on joining, not when someone else’s edit shifts them', async function () {
    this.timeout(40000)
    const sid = freshSid('carets')
    await createSession(sid, { 'main.js': 'line one\nline two\nline three\n' })
    const ada = await mountRoom(sid, 'instructor', 'ins', { name: 'Ada' })
    const bob = await mountRoom(sid, 'learner', 'bob', { name: 'Bob' })
    const adaView = await live(ada.editor)
    const bobView = await live(bob.editor)
    moveCaret(adaView, 4)
    moveCaret(bobView, 14)

    // Lea joins late: both carets appear, neither with its name over the code.
    const lea = await mountRoom(sid, 'learner', 'lea', { name: 'Lea' })
    const leaView = await live(lea.editor)
    await waitFor(() => !!label(lea.editor, 'Ada') && !!label(lea.editor, 'Bob'), 8000, 'both carets at Lea’s')
    expect(await mostShown(lea.editor, 'Ada', 600), 'Ada’s tag on joining').to.equal(0)
    expect(opacity(lea.editor, 'Bob'), 'Bob’s tag on joining').to.equal(0)

    // Ada moves: her tag shows, for about a second and a half; Bob's does not.
    moveCaret(adaView, 12)
    await waitFor(() => opacity(lea.editor, 'Ada') > 0.9, 4000, 'Ada’s tag as she moves')
    expect(opacity(lea.editor, 'Bob'), 'Bob did not move').to.equal(0)
    await waitFor(() => opacity(lea.editor, 'Ada') === 0, 2500, 'Ada’s tag to go')

    // Lea types before both carets: they shift, and no tag shows for that.
    leaView.focus()
    typeAt(leaView, 0, '// ')
    await waitFor(() => ada.editor.value.startsWith('// '), 8000, 'Lea’s edit at Ada’s')
    expect(await mostShown(lea.editor, 'Ada', 800), 'Ada’s tag when Lea’s edit moved her caret').to.equal(0)
    expect(opacity(lea.editor, 'Bob')).to.equal(0)

    // Hovering a caret shows whose it is.
    lea.editor.scrollIntoView({ block: 'center' })
    const caret = label(lea.editor, 'Bob')!.parentElement!.getBoundingClientRect()
    await sendMouse({ type: 'move', position: [Math.round(caret.left + 1), Math.round(caret.top + caret.height / 2)] })
    await waitFor(() => opacity(lea.editor, 'Bob') === 1, 2000, 'Bob’s tag on hover')
    await sendMouse({ type: 'move', position: [0, 0] })
    await waitFor(() => opacity(lea.editor, 'Bob') === 0, 2000, 'Bob’s tag once the pointer left')
  })
})
