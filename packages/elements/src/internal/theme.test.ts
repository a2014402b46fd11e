import { expect, fixture } from '@open-wc/testing'
import { emulateMedia } from '@web/test-runner-commands'
import { html } from 'lit'
import '../define/session-participants.js'

// Elements are light or dark as their page is: a light course page on a device in dark mode keeps
// light elements (dark ones there showed light text on the page's own light background).
describe('theme: elements follow their page', () => {
  const textColor = (el: HTMLElement) => getComputedStyle(el).color
  const LIGHT_TEXT = 'rgb(31, 35, 40)'
  const DARK_TEXT = 'rgb(230, 237, 243)'

  afterEach(async () => {
    document.documentElement.style.colorScheme = ''
    await emulateMedia({ colorScheme: 'light' })
  })

  it('a page that declares no color-scheme has light elements, even in dark mode', async () => {
    await emulateMedia({ colorScheme: 'dark' })
    const el = await fixture<HTMLElement>(html`<session-participants></session-participants>`)
    expect(textColor(el)).to.equal(LIGHT_TEXT)
  })

  it('a page that allows dark follows the device; theme forces one either way', async () => {
    document.documentElement.style.colorScheme = 'light dark'
    await emulateMedia({ colorScheme: 'dark' })
    const el = await fixture<HTMLElement>(html`<div><session-participants></session-participants><session-participants theme="light"></session-participants></div>`)
    const [follows, forced] = [...el.querySelectorAll('session-participants')] as HTMLElement[]
    expect(textColor(follows!)).to.equal(DARK_TEXT)
    expect(textColor(forced!)).to.equal(LIGHT_TEXT)
    await emulateMedia({ colorScheme: 'light' })
    expect(textColor(follows!)).to.equal(LIGHT_TEXT)
    document.documentElement.style.colorScheme = ''
    const dark = await fixture<HTMLElement>(html`<session-participants theme="dark"></session-participants>`)
    expect(textColor(dark)).to.equal(DARK_TEXT)
  })
})
