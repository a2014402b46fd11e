import { expect, fixture, html } from '@open-wc/testing'
import { PARTICIPANT_COLORS } from '@session-kit/core'
import { CodeEditor } from './editor-view.js'
import { contrast } from '../test-support/contrast.js'

// The name on someone's caret is drawn over their colour: for every colour a participant can have,
// in a light and a dark page, the name has at least 4.5:1 (WCAG 2.1 AA) against its tag.

/** An editor in a page of `scheme` with one caret of every participant colour, each with its name. */
async function carets(scheme: 'light' | 'dark') {
  const host = await fixture<HTMLElement>(html`<div style="color-scheme: ${scheme}"></div>`)
  const root = host.attachShadow({ mode: 'open' })
  const parent = document.createElement('div')
  root.append(parent)
  const text = PARTICIPANT_COLORS.map((_, i) => `line ${i}`).join('\n')
  const editor = new CodeEditor({ parent, root, text, language: 'javascript', readOnly: false, label: 'Code', onLocalChange() {}, onSelection() {}, onRun() {} })
  editor.setRemoteCursors(PARTICIPANT_COLORS.map((color, i) => ({ userId: `u${i}`, name: `Person ${i}`, color, anchor: 8 * i, head: 8 * i + 4 })))
  return { editor, labels: [...root.querySelectorAll<HTMLElement>('.sk-caret-label')] }
}

describe('remote caret names: contrast with their tag', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`every participant colour has 4.5:1 with the name on it (${scheme})`, async () => {
      const { editor, labels } = await carets(scheme)
      try {
        expect(labels.length).to.equal(PARTICIPANT_COLORS.length)
        const low = labels
          .map((l) => {
            const s = getComputedStyle(l)
            return { who: l.textContent, ratio: contrast(s.color, s.backgroundColor), text: s.color, on: s.backgroundColor }
          })
          .filter((c) => !(c.ratio >= 4.5))
          .map((c) => `${c.who}: ${c.text} on ${c.on} is ${c.ratio.toFixed(2)}:1`)
        expect(low).to.deep.equal([])
      } finally {
        editor.destroy()
      }
    })
  }
})
