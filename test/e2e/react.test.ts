import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { distinctPixelBytes, launch, watch } from './browser.js'
import { start } from '../../examples/react-app/start.mjs'

describe('examples/react-app: @session-kit/react in a bundled React app', () => {
  it('sets props on the elements, and their events reach onSession… props', async () => {
    const app = await start({ port: 0 })
    const browser = await launch()
    try {
      const page = await browser.newPage()
      const problems = await watch(page)
      await page.goto(app.url + '/')
      await page.locator('session-editor .cm-content', { hasText: '6 * 7' }).waitFor({ timeout: 15_000 })
      assert.equal(await page.locator('session-runner').evaluate((r) => (r as unknown as { timeout: number }).timeout), 3, 'a number prop set as a property')
      await page.locator('session-runner').getByRole('button', { name: /^Run / }).click()
      await page.locator('session-runner [part~=output]', { hasText: '42' }).waitFor({ timeout: 10_000 })
      await page.locator('#runs', { hasText: 'Runs seen by React: ok' }).waitFor({ timeout: 5_000 })
      assert.equal(await page.locator('session-gate').isVisible(), false, 'the gate stays closed outside a room')
      assert.deepEqual(problems, [])
      const png = await page.screenshot({ fullPage: true })
      mkdirSync(new URL('../../test-results/screenshots/', import.meta.url), { recursive: true })
      writeFileSync(new URL('../../test-results/screenshots/react-app.png', import.meta.url), png)
      assert.ok(distinctPixelBytes(png) > 64, 'the screenshot is not blank')
      // The example's time limit (seconds) stops an endless loop in seconds, not half an hour.
      await page.locator('session-editor .cm-content').click()
      await page.keyboard.press('Control+A')
      await page.keyboard.type('while (true) {}')
      const started = Date.now()
      await page.locator('session-runner').getByRole('button', { name: /^Run / }).click()
      await page.locator('session-runner [part=status]', { hasText: 'time limit' }).waitFor({ timeout: 10_000 })
      assert.ok(Date.now() - started < 8_000, `stopped after ${Date.now() - started} ms`)
      await page.locator('#runs', { hasText: 'Runs seen by React: ok, failed' }).waitFor({ timeout: 5_000 })
      assert.deepEqual(problems, [])
    } finally {
      await browser.close()
      await app.close()
    }
  })
})
