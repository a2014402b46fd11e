import { expect, fixture } from '@open-wc/testing'
import { sendKeys, sendMouse } from '@web/test-runner-commands'
import { html } from 'lit'
import type { SessionEditor } from './session-editor.js'
import { createSession, freshSid, live, testServer, token } from '../test-support/room.js'

describe('<session-editor> read-only, with a long line', () => {
  it('stays as wide as its place in the page; a click or Tab into the code scrolls nothing sideways', async function () {
    this.timeout(30000)
    const sid = freshSid('wide')
    const long = '// ' + 'a rather long comment '.repeat(30)
    await createSession(sid, { 'main.js': `${long}\nfunction f() {\n  return 1\n}\n` })
    const { url } = await testServer()
    const tok = await token(sid, 'observer', 'obs', 'Linus')
    // A course page's two columns, as a host writes them (grid tracks of 2fr and 1fr).
    const root = await fixture<HTMLElement>(
      html`<div style="display:grid;grid-template-columns:2fr 1fr;gap:16px;width:700px">
        <div><button id="before">Before</button><session-room server=${url} session=${sid} token=${tok}><session-editor file="main.js"></session-editor></session-room></div>
        <aside>Chat</aside>
      </div>`,
    )
    const editor = root.querySelector('session-editor') as SessionEditor
    await live(editor)
    const scroller = editor.shadowRoot!.querySelector<HTMLElement>('.cm-scroller')!
    const gutters = editor.shadowRoot!.querySelector<HTMLElement>('.cm-gutters')!
    const lines = () => [...editor.shadowRoot!.querySelectorAll<HTMLElement>('.cm-line')]
    window.scrollTo(0, 0)

    const expectInPlace = (after: string) => {
      expect(editor.getBoundingClientRect().width, `${after}: the editor keeps to its column`).to.be.at.most(500)
      expect(document.scrollingElement!.scrollWidth, `${after}: the page does not scroll sideways`).to.be.at.most(window.innerWidth)
      expect(window.scrollX, `${after}: the page did not scroll sideways`).to.equal(0)
      expect(scroller.scrollLeft, `${after}: the code did not scroll sideways`).to.equal(0)
      const text = document.createRange()
      text.setStart(lines()[1]!.firstChild!.firstChild ?? lines()[1]!.firstChild!, 0)
      expect(text.getBoundingClientRect().left, `${after}: each line's first character shows beside the line numbers`).to.be.at.least(gutters.getBoundingClientRect().right - 0.5)
    }
    expect(scroller.scrollWidth, 'the long line scrolls inside the editor').to.be.greaterThan(scroller.clientWidth)
    expectInPlace('at first')

    const second = lines()[1]!.getBoundingClientRect()
    await sendMouse({ type: 'click', position: [Math.round(second.left + 40), Math.round(second.top + second.height / 2)] })
    await new Promise((r) => setTimeout(r, 200))
    expect(editor.shadowRoot!.activeElement?.classList.contains('cm-content'), 'the click focused the code').to.equal(true)
    expectInPlace('after a click')

    root.querySelector<HTMLElement>('#before')!.focus()
    for (let i = 0; i < 4 && editor.shadowRoot!.activeElement?.classList.contains('cm-content') !== true; i++) await sendKeys({ press: 'Tab' })
    await new Promise((r) => setTimeout(r, 200))
    expectInPlace('after Tab')
  })
})
