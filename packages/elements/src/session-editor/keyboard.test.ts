import { expect, fixture } from '@open-wc/testing'
import { sendKeys, sendMouse } from '@web/test-runner-commands'
import { html } from 'lit'
import type { Role } from '@session-kit/core'
import type { SessionEditor } from './session-editor.js'
import { createSession, freshSid, live, testServer, token, waitFor } from '../test-support/room.js'

/** A page with a button before and after a room with one editor, as a keyboard user meets it. */
async function page(role: Role, text: string) {
  const sid = freshSid('keys')
  await createSession(sid, { 'main.js': text })
  const { url } = await testServer()
  const tok = await token(sid, role, `${role}-keys`, 'Kim')
  const root = await fixture<HTMLElement>(
    html`<div><button id="before">Before</button><session-room server=${url} session=${sid} token=${tok}><session-editor file="main.js"></session-editor></session-room><button id="after">After</button></div>`,
  )
  const editor = root.querySelector('session-editor') as SessionEditor
  const view = await live(editor)
  const content = editor.shadowRoot!.querySelector<HTMLElement>('.cm-content')!
  if (role !== 'observer') await waitFor(() => content.getAttribute('contenteditable') === 'true', 8000, 'an editable editor')
  return { root, editor, content, before: root.querySelector<HTMLElement>('#before')!, after: root.querySelector<HTMLElement>('#after')!, view }
}

const inCode = (editor: SessionEditor) => document.activeElement === editor && editor.shadowRoot!.activeElement?.classList.contains('cm-content') === true
const hint = (editor: SessionEditor) => editor.shadowRoot!.querySelector<HTMLElement>('.sk-keys-hint')!

async function shiftTab() {
  await sendKeys({ down: 'Shift' })
  await sendKeys({ press: 'Tab' })
  await sendKeys({ up: 'Shift' })
}

/** Tab from `from` until the code has focus (the toolbar's buttons come first). */
async function tabIntoCode(editor: SessionEditor, from: HTMLElement) {
  from.focus()
  for (let i = 0; i < 6 && !inCode(editor); i++) await sendKeys({ press: 'Tab' })
  expect(inCode(editor), 'Tab reaches the code').to.equal(true)
}

describe('<session-editor> with the keyboard', () => {
  it('Tab passes through the code without changing it; Enter starts editing, then Tab indents; Escape, then Tab, moves on', async () => {
    const { editor, content, before, after } = await page('learner', 'let a = 1\n')
    await tabIntoCode(editor, before)
    expect(editor.value, 'arriving changes nothing').to.equal('let a = 1\n')
    // The hint shows at the moment of focus, and is what a screen reader says with the code.
    expect(hint(editor).hidden, 'the hint is shown').to.equal(false)
    expect(hint(editor).textContent).to.contain('Press Enter to edit')
    expect(content.getAttribute('aria-describedby')).to.equal(hint(editor).id)
    expect(getComputedStyle(hint(editor)).display).not.to.equal('none')

    await sendKeys({ press: 'Tab' })
    expect(document.activeElement, 'the next Tab moves on').to.equal(after)
    expect(editor.value, 'and indents nothing').to.equal('let a = 1\n')
    expect(hint(editor).hidden, 'the hint goes with the focus').to.equal(true)

    await shiftTab()
    expect(inCode(editor), 'Shift+Tab comes back').to.equal(true)
    await shiftTab()
    expect(inCode(editor), 'and Shift+Tab leaves again').to.equal(false)
    expect(editor.value).to.equal('let a = 1\n')

    await tabIntoCode(editor, before)
    await sendKeys({ press: 'Enter' })
    expect(editor.value, 'Enter starts editing, without a new line').to.equal('let a = 1\n')
    expect(hint(editor).textContent).to.contain('Tab indents')
    await sendKeys({ press: 'Tab' })
    expect(inCode(editor), 'while editing, Tab stays in the code').to.equal(true)
    expect(editor.value, 'and indents').to.equal('  let a = 1\n')
    await sendKeys({ press: 'Escape' })
    await sendKeys({ press: 'Tab' })
    expect(document.activeElement, 'after Escape, Tab moves on').to.equal(after)
    expect(editor.value).to.equal('  let a = 1\n')
    await expect(editor).to.be.accessible()
  })

  it('a click into the code starts editing at once: Tab indents', async () => {
    const { editor, content } = await page('learner', 'let b = 2\n')
    const line = content.querySelector('.cm-line')!.getBoundingClientRect()
    await sendMouse({ type: 'click', position: [Math.round(line.left + 4), Math.round(line.top + line.height / 2)] })
    await waitFor(() => inCode(editor), 2000, 'focus in the code')
    expect(hint(editor).hidden, 'no hint for a click').to.equal(true)
    await sendKeys({ press: 'Tab' })
    expect(editor.value).to.equal('  let b = 2\n')
    expect(inCode(editor)).to.equal(true)
  })

  it('an observer tabs through the read-only code: no edit hint, Enter does nothing', async () => {
    const { editor, content, before, after } = await page('observer', 'let c = 3\n')
    await tabIntoCode(editor, before)
    expect(hint(editor).hidden).to.equal(true)
    expect(content.hasAttribute('aria-describedby')).to.equal(false)
    await sendKeys({ press: 'Enter' })
    await sendKeys({ press: 'Tab' })
    expect(document.activeElement).to.equal(after)
    expect(editor.value).to.equal('let c = 3\n')
  })
})
