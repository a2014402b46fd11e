import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { startTestServer, type TestServer } from '@session-kit/server/testing'
import { axeViolations } from './axe.js'
import { launch, watch } from './browser.js'

// The demo page (three panes: instructor, learner, observer) with every panel open, checked by
// axe-core at a desktop and a phone width, light and dark: no serious or critical violation
// (contrast of the code's colours and of buttons, keyboard access to scrolling code, …).
const VIEWS = [
  { scheme: 'light', width: 1400 },
  { scheme: 'dark', width: 1400 },
  { scheme: 'light', width: 390 },
  { scheme: 'dark', width: 390 },
] as const

// (Page scripts are strings: the test runner's compiler would wrap named functions in a helper
// that does not exist in the page.)
const openEveryPanel = (page: Page) =>
  page.evaluate(`(() => {
    const walk = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.localName === 'details') el.open = true
        if (el.shadowRoot) walk(el.shadowRoot)
      }
    }
    walk(document)
  })()`)

describe('accessibility of the demo page (axe-core)', () => {
  let server: TestServer
  let browser: Browser
  before(async () => {
    server = await startTestServer('pglite', { demo: true })
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
    await server?.stop()
  })

  for (const view of VIEWS) {
    it(`has no serious or critical violations at ${view.width} px, ${view.scheme}, every panel open`, { timeout: 60_000 }, async () => {
      const context = await browser.newContext({ viewport: { width: view.width, height: 900 }, colorScheme: view.scheme })
      try {
        const page = await context.newPage()
        const problems = await watch(page)
        await page.goto(server.url + '/')
        // Each pane's editors live, with the code highlighted (the languages load on demand).
        for (const role of ['instructor', 'learner', 'observer']) {
          const editors = page.locator(`session-room[data-role="${role}"] session-editor`)
          await editors.first().locator('.editor.live').waitFor({ timeout: 15_000 })
          await editors.first().locator('.cm-line span[class]').first().waitFor({ timeout: 15_000 })
        }
        await openEveryPanel(page)
        // What the open panels load (lists, the analytics chart) has a moment to arrive.
        await page.waitForTimeout(1500)
        const violations = await axeViolations(page)
        assert.deepEqual(violations, [], `axe-core at ${view.width} px, ${view.scheme}:\n${violations.join('\n')}`)
        assert.deepEqual(problems, [])
      } finally {
        await context.close()
      }
    })
  }
})
