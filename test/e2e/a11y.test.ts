import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { startTestServer, type TestServer } from '@session-kit/server/testing'
import { checkViews, editorsReady, openEveryPanel } from './axe.js'
import { launch } from './browser.js'

// The demo page checked whole by axe-core in the states a room goes through: editing locked, a
// learner muted, recording, then offline; every panel open, at a desktop and a phone width, light
// and dark. (The demo as it opens and every example in each of its roles are checked by the
// walk-through, test/e2e/walkthrough.test.ts, on the pages it photographs; the LTI frame by
// test/e2e/lti.test.ts.)

describe('accessibility of the demo page in its states (axe-core, every panel open, 1400 and 390 px, light and dark)', () => {
  let browser: Browser
  before(async () => {
    browser = await launch()
  })
  after(() => browser?.close())

  it('the demo page in its other states: editing locked, a learner muted, recording; then offline', { timeout: 120_000 }, async () => {
    const server: TestServer = await startTestServer('pglite', { demo: true })
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    const pane = (role: string) => page.locator(`session-room[data-role="${role}"]`)
    try {
      await page.goto(server.url + '/')
      for (const role of ['instructor', 'learner', 'observer']) await pane(role).locator('session-editor .editor.live').first().waitFor({ timeout: 30_000 })
      await editorsReady(page)
      await openEveryPanel(page)
      const moderation = pane('instructor').locator('session-moderation')
      await moderation.getByRole('button', { name: /^Mute Grace/ }).click()
      await moderation.getByRole('button', { name: 'Lock learner editing' }).click()
      const recording = pane('instructor').locator('session-recording')
      await recording.locator('input[name=title]').fill('Warm-up')
      await recording.getByRole('button', { name: /^Start recording/ }).click()
      await pane('learner').locator('session-chat [part=notice]', { hasText: 'muted' }).waitFor({ timeout: 10_000 })
      await pane('learner').locator('[part~=recording]').first().waitFor({ timeout: 10_000 })
      await checkViews(page, 'the demo page, locked, muted and recording')
      // The server goes away: every pane says it is offline.
      await server.stop()
      await pane('learner').locator('session-editor [part=banner]', { hasText: 'Offline' }).first().waitFor({ timeout: 15_000 })
      await checkViews(page, 'the demo page, offline')
    } finally {
      await page.close()
      await server.stop().catch(() => {})
    }
  })
})
