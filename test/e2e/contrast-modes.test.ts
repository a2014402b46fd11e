import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Locator, Page } from 'playwright-core'
import { startTestServer, type TestServer } from '@session-kit/server/testing'
import { axeViolations, editorsReady, openEveryPanel } from './axe.js'
import { launch, watch } from './browser.js'

// The demo page (instructor, learner and observer side by side) in the modes a person sets in their
// system: more contrast, reduced motion and forced colours (Windows' contrast themes). Nothing that
// carries meaning may disappear, nothing may move that can stand still, and axe stays clean.

/** One computed style property of the element a locator finds. */
const style = (el: Locator, prop: string) => el.evaluate((e, p) => getComputedStyle(e).getPropertyValue(p), prop)

/** What a system colour keyword resolves to on this page now. */
const systemColor = (page: Page, keyword: string) =>
  page.evaluate(`(() => {
    const probe = document.createElement('span')
    probe.style.color = ${JSON.stringify(keyword)}
    document.body.append(probe)
    const c = getComputedStyle(probe).color
    probe.remove()
    return c
  })()`) as Promise<string>

describe('more contrast, reduced motion and forced colours on the demo page', () => {
  let browser: Browser
  let server: TestServer
  let page: Page
  let problems: string[]
  const room = (role: string) => page.locator(`session-room[data-role="${role}"]`)

  before(async () => {
    browser = await launch()
    server = await startTestServer('pglite', { demo: true })
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    problems = await watch(page)
    await page.goto(server.url + '/')
    for (const role of ['instructor', 'learner', 'observer']) await room(role).locator('session-editor .editor.live').first().waitFor({ timeout: 20_000 })
    await editorsReady(page)
    // The learner selects the first line: the instructor's editor shows their caret and selection.
    await room('learner').locator('session-editor').first().locator('.cm-content').click()
    await page.keyboard.press('Control+Home')
    await page.keyboard.press('Shift+End')
    await room('instructor').locator('session-editor').first().locator('.sk-sel').first().waitFor({ timeout: 10_000 })
  })
  after(async () => {
    await page?.close()
    await server?.stop()
    await browser?.close()
  })

  it('more contrast: muted text is as strong as the text, and axe finds nothing serious (light and dark)', { timeout: 60_000 }, async () => {
    await page.emulateMedia({ contrast: 'more', forcedColors: 'none', reducedMotion: 'no-preference' })
    const editor = room('instructor').locator('session-editor').first()
    assert.equal(await style(editor.locator('.cm-gutters'), 'color'), await style(editor.locator('.cm-content'), 'color'), 'line numbers in the text colour')
    const failures: string[] = []
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ contrast: 'more', colorScheme })
      await openEveryPanel(page)
      await page.waitForTimeout(800)
      const violations = await axeViolations(page)
      if (violations.length) failures.push(`${colorScheme}:\n  ${violations.join('\n  ')}`)
    }
    assert.deepEqual(failures, [])
    await page.emulateMedia({ contrast: 'no-preference', colorScheme: 'light' })
  })

  it('reduced motion: a caret’s name does not fade in or out', { timeout: 30_000 }, async () => {
    await page.emulateMedia({ reducedMotion: 'reduce' })
    const label = room('instructor').locator('session-editor').first().locator('.sk-caret-label').first()
    assert.equal(await style(label, 'transition-duration'), '0s')
    // Moved, the name shows for a moment and goes at once (a step, not a fade).
    await room('learner').locator('session-editor').first().locator('.cm-content').click()
    await page.keyboard.press('End')
    const moved = room('instructor').locator('session-editor').first().locator('.sk-caret-label.sk-caret-moved').first()
    await moved.waitFor({ timeout: 5_000 })
    const seen = new Set<number>()
    const t0 = Date.now()
    while (Date.now() - t0 < 1800) {
      seen.add(Number(await style(moved, 'opacity').catch(() => '0')))
      await page.waitForTimeout(20)
    }
    assert.ok(seen.has(1), 'the name shows after a move')
    assert.deepEqual([...seen].filter((o) => o !== 0 && o !== 1), [], 'no opacity between shown and gone')
    await page.emulateMedia({ reducedMotion: 'no-preference' })
  })

  it('forced colours: remote carets and selections, pressed toggles, the chosen range and who is online stay visible', { timeout: 60_000 }, async () => {
    // The learner selects again (the last test moved their caret to the end of the line).
    await room('learner').locator('session-editor').first().locator('.cm-content').click()
    await page.keyboard.press('Control+Home')
    await page.keyboard.press('Shift+End')
    const editor = room('instructor').locator('session-editor').first()
    await editor.locator('.sk-sel').first().waitFor({ timeout: 10_000 })
    await page.emulateMedia({ forcedColors: 'active' })
    const [canvas, canvasText] = [await systemColor(page, 'Canvas'), await systemColor(page, 'CanvasText')]
    assert.notEqual(canvas, canvasText)

    // Someone else's selection (a tint otherwise, dropped) is outlined; their name has a box.
    const sel = editor.locator('.sk-sel').first()
    assert.notEqual(await style(sel, 'outline-style'), 'none', 'a remote selection is outlined')
    assert.equal(await style(sel, 'outline-color'), canvasText)
    const label = editor.locator('.sk-caret-label').first()
    assert.notEqual(await style(label, 'border-top-style'), 'none', 'a caret’s name has a border')
    assert.ok(parseFloat(await style(label, 'border-top-width')) >= 1)

    // The instructor's Follow me, pressed, looks pressed: not the fill of a button that is not.
    const follow = room('instructor').locator('[part~=follow-button]')
    await follow.click()
    await room('instructor').locator('[part~=follow-button][aria-pressed=true]').waitFor({ timeout: 5_000 })
    const other = room('instructor').locator('session-editor').first().getByRole('button').first()
    assert.equal(await style(follow, 'background-color'), await systemColor(page, 'Highlight'), 'a pressed toggle in the selected colour')
    assert.notEqual(await style(follow, 'background-color'), await style(other, 'background-color'), 'unlike a button not pressed')
    await follow.click()

    // The analytics' chosen range is filled unlike the others.
    await openEveryPanel(page)
    const analytics = room('instructor').locator('session-analytics')
    const checked = analytics.locator('fieldset label:has(input:checked)')
    await checked.waitFor({ timeout: 10_000 })
    const unchecked = analytics.locator('fieldset label:not(:has(input:checked))').first()
    const highlight = await systemColor(page, 'Highlight')
    assert.equal(await style(checked, 'background-color'), highlight, 'the chosen range in the selected colour')
    assert.notEqual(await style(unchecked, 'background-color'), highlight)

    // Who is online: their dot filled with the text colour, not the background.
    const dot = room('instructor').locator('session-moderation .online .presence-dot').first()
    await dot.waitFor({ timeout: 10_000 })
    assert.equal(await style(dot, 'background-color'), canvasText)

    await page.emulateMedia({ forcedColors: 'none' })
    assert.deepEqual(problems, [])
  })

  it('forced colours: the classroom tiles still tell who is online', { timeout: 60_000 }, async () => {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    try {
      await tab.goto(server.url + '/demo-assignment')
      const online = tab.locator('session-classroom .tile .dot.on').first()
      await online.waitFor({ timeout: 30_000 })
      await tab.emulateMedia({ forcedColors: 'active' })
      const [canvas, canvasText] = [await systemColor(tab, 'Canvas'), await systemColor(tab, 'CanvasText')]
      assert.equal(await style(online, 'background-color'), canvasText, 'an online learner’s dot is filled')
      const offline = tab.locator('session-classroom .tile .dot:not(.on)')
      if (await offline.count()) assert.equal(await style(offline.first(), 'background-color'), canvas)
      assert.notEqual(await style(online, 'border-top-style'), 'none', 'every dot has an edge')
    } finally {
      await tab.close()
    }
  })
})
