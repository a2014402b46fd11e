import { expect } from '@open-wc/testing'
import { sendKeys } from '@web/test-runner-commands'
import type { Role } from '@session-kit/core'
import type { SessionEditor } from './session-editor.js'
import { createSession, freshSid, live, mountRoom, typeAt, waitFor } from '../test-support/room.js'
import { listenToLiveRegions } from '../test-support/live-regions.js'

const inCode = (editor: SessionEditor) => document.activeElement?.closest('session-room')?.contains(editor) === true && editor.shadowRoot!.activeElement?.classList.contains('cm-content') === true

/** The line the reader is on, as a screen reader finds it: the line holding the page's (DOM) caret. */
function caretLine(editor: SessionEditor): string | null {
  const sel = (editor.shadowRoot as ShadowRoot & { getSelection?(): Selection | null }).getSelection?.() ?? document.getSelection()
  const node = sel?.focusNode
  if (!node) return null
  const el = node instanceof Element ? node : node.parentElement
  return el?.closest('.cm-line')?.textContent ?? null
}

async function reader(role: Role) {
  const sid = freshSid(`reading-${role}`)
  await createSession(sid, { 'main.js': 'const one = 1\nconst two = 2\nconst three = 3\nconst four = 4\n' })
  const ins = await mountRoom(sid, 'instructor', 'ins', { name: 'Ada' })
  const me = await mountRoom(sid, role, `${role}-r`, { name: 'Rey' })
  const insView = await live(ins.editor)
  const view = await live(me.editor)
  return { ins, insView, me, view }
}

describe('<session-editor> reading the code line by line', () => {
  for (const role of ['observer', 'learner'] as const) {
    it(`${role}: arrow keys move through the lines; an edit above keeps focus and the line being read`, async function () {
      this.timeout(30000)
      const { insView, me, view } = await reader(role)
      me.editor.focus()
      await waitFor(() => inCode(me.editor), 2000, 'focus in the code')
      await sendKeys({ press: 'ArrowDown' })
      await sendKeys({ press: 'ArrowDown' })
      expect(view.state.doc.lineAt(view.state.selection.main.head).text, 'two lines down').to.equal('const three = 3')
      await waitFor(() => caretLine(me.editor) === 'const three = 3', 2000, 'the page caret on the third line')

      // The instructor adds two lines at the top, as keystrokes: nothing is said of them.
      const heard = listenToLiveRegions(me.room)
      typeAt(insView, 0, '// added\n// above\n')
      await waitFor(() => me.editor.value.startsWith('// added\n// above\n'), 8000, 'the edit above to arrive')
      await new Promise((r) => setTimeout(r, 300))
      expect(heard.take(), 'no announcement').to.deep.equal([])
      expect(inCode(me.editor), 'focus stays in the code').to.equal(true)
      expect(view.state.doc.lineAt(view.state.selection.main.head).text, 'still on the same line').to.equal('const three = 3')
      expect(caretLine(me.editor), 'the page caret too').to.equal('const three = 3')
      await sendKeys({ press: 'ArrowDown' })
      expect(view.state.doc.lineAt(view.state.selection.main.head).text, 'and reading goes on from there').to.equal('const four = 4')
      await waitFor(() => caretLine(me.editor) === 'const four = 4', 2000, 'the page caret on the next line')
    })
  }
})
