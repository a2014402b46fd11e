import { expect, fixture, html } from '@open-wc/testing'
import { css, html as litHtml } from 'lit'
import { SessionElement } from './session-element.js'
import { contrast } from './test-support/contrast.js'

// The theme's colour pairs, as the browser resolves them in each scheme: every pair of text and
// what it is drawn on meets WCAG 2.1 AA (4.5:1 for text). The pairs are the ones the theming guide
// tells hosts to keep paired when they override a token.

class ThemeProbe extends SessionElement {
  static override styles = [
    SessionElement.baseStyles,
    css`
      span {
        display: block;
      }
      .fg { color: var(--_fg); }
      .muted { color: var(--_muted); }
      .bg { color: var(--_bg); }
      .surface { color: var(--_surface); }
      .accent { color: var(--_accent); }
      .danger { color: var(--_danger); }
      .warning { color: var(--_warning); }
      .ok { color: var(--_ok); }
      .on-accent { color: var(--session-color-on-accent, light-dark(#fff, #0d1117)); }
    `,
  ]
  override render() {
    return litHtml`${['fg', 'muted', 'bg', 'surface', 'accent', 'danger', 'warning', 'ok', 'on-accent'].map((c) => litHtml`<span class=${c}></span>`)}`
  }
}
customElements.define('theme-probe', ThemeProbe)

/** Text tokens and the backgrounds each is drawn on. */
const PAIRS: [text: string, on: string][] = [
  ['fg', 'bg'],
  ['fg', 'surface'],
  ['muted', 'bg'],
  ['muted', 'surface'],
  ['accent', 'bg'],
  ['accent', 'surface'],
  ['on-accent', 'accent'],
  ['danger', 'bg'],
  ['danger', 'surface'],
  ['warning', 'bg'],
  ['warning', 'surface'],
  ['ok', 'bg'],
  ['ok', 'surface'],
]

async function colours(theme: 'light' | 'dark') {
  const el = await fixture<ThemeProbe>(html`<theme-probe theme=${theme}></theme-probe>`)
  const of = (c: string) => getComputedStyle(el.shadowRoot!.querySelector(`.${c}`)!).color
  return of
}

describe('theme contrast (WCAG 2.1 AA)', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`every text colour of the ${theme} theme has 4.5:1 on the backgrounds it is drawn on`, async () => {
      const of = await colours(theme)
      const low = PAIRS.map(([t, on]) => ({ pair: `${t} on ${on}`, ratio: contrast(of(t), of(on)) })).filter((p) => p.ratio < 4.5)
      expect(low.map((p) => `${p.pair}: ${p.ratio.toFixed(2)}:1`)).to.deep.equal([])
    })
  }

  it('a host that overrides the accent without its pair is what the guide warns of: the ratio drops', async () => {
    // The check above is only as good as its pairs: an accent of pale yellow with the default white text fails it.
    const el = await fixture<ThemeProbe>(html`<theme-probe theme="light" style="--session-color-accent: #fde68a"></theme-probe>`)
    const of = (c: string) => getComputedStyle(el.shadowRoot!.querySelector(`.${c}`)!).color
    expect(contrast(of('on-accent'), of('accent'))).to.be.below(4.5)
  })
})
