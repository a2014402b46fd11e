import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core'
import { CHROME_ARGS, distinctPixelBytes, watch } from './browser.js'
import { axeViolations, checkViews, editorsReady } from './axe.js'

// The whole LTI launch in Chromium: a simulated LMS (localhost) frames Session Kit (127.0.0.1,
// another site), with third-party cookies allowed and blocked.
const SHOTS = new URL('../../test-results/screenshots/', import.meta.url)

/**
 * A browser profile (not an incognito context, where Chromium blocks third-party cookies) that
 * allows third-party cookies; `blocked` turns the restriction on for a page, as Safari and Firefox
 * (and Chrome users who chose it) have it.
 */
async function browserProfile(): Promise<{ context: BrowserContext; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'session-kit-lti-profile-'))
  mkdirSync(join(dir, 'Default'), { recursive: true })
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }))
  // One renderer process for the LMS page and its tool frame. With a process per site, the
  // frame's swap to the tool's process as its sign-in chain crosses sites sometimes goes unseen by
  // Playwright on a loaded machine: Chromium shows the room, Playwright still holds the LMS's
  // sign-in page and waits forever. Cookies and storage are partitioned by site either way.
  const args = [...CHROME_ARGS, '--disable-site-isolation-trials', '--disable-features=IsolateOrigins,site-per-process']
  const context = await chromium.launchPersistentContext(dir, { executablePath: process.env.CHROME_PATH || '/usr/bin/chromium', args, viewport: { width: 1200, height: 900 } })
  return { context, dir }
}

async function newPage(context: BrowserContext, cookies: 'allowed' | 'blocked'): Promise<Page> {
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.setCookieControls' as never, { enableThirdPartyCookieRestriction: cookies === 'blocked', disableThirdPartyCookieMetadata: false, disableThirdPartyCookieHeuristics: false } as never)
  return page
}

/** The room's editor is live (joined and synced); else what the page shows instead, in the failure. */
async function live(where: Page | FrameLocator) {
  await where.locator('session-editor .editor.live').waitFor({ timeout: 30_000 }).catch(async (e: Error) => {
    const shown = await where.locator('body').innerText().catch(() => '(nothing)')
    const room = await where
      .locator('session-room')
      .evaluate((el) => {
        const r = el as unknown as { status?: string; error?: unknown; token?: string }
        return JSON.stringify({ status: r.status, error: r.error, token: Boolean(r.token), defined: Boolean(customElements.get('session-room')) })
      })
      .catch((e: Error) => `(no room: ${e.message.split('\n')[0]})`)
    // Which documents the page's frames hold, as Playwright sees them.
    const frames = 'owner' in where ? where.owner().page().frames().map((f) => `${f.name() || '(top)'}: ${f.url()}`).join('\n  ') : ''
    throw new Error(`${e.message}\nthe page shows: ${shown.slice(0, 600)}\nroom: ${room.slice(0, 600)}\nframes:\n  ${frames}`)
  })
}

async function shoot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true })
  const png = await page.screenshot({ fullPage: true })
  writeFileSync(new URL(`${name}.png`, SHOTS), png)
  assert.ok(distinctPixelBytes(png) > 64, `the ${name} screenshot is not blank`)
}

describe('LTI 1.3 launch in a cross-site LMS frame', () => {
  let context: BrowserContext
  let dir: string
  let ex: Awaited<ReturnType<typeof import('../../examples/lti-lms/start.mjs').start>>
  before(async () => {
    const { start } = await import('../../examples/lti-lms/start.mjs')
    ex = await start({ port: 0, serverPort: 0 })
    ;({ context, dir } = await browserProfile())
  })
  after(async () => {
    await context?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    await ex?.close()
  })

  const tool = (page: Page) => page.frameLocator('iframe[name=tool]')

  it('third-party cookies blocked: the sign-in is kept in the platform storage, and the room opens in the frame', { timeout: 90_000 }, async () => {
    const page = await newPage(context, 'blocked')
    const problems = await watch(page)
    await page.goto(ex.launchUrl('ada'))
    await live(tool(page))
    await tool(page).getByRole('heading', { name: 'Week 1: live coding' }).waitFor()
    // The instructor's panel: the moderation element, with the LMS name in the room.
    await tool(page).locator('session-moderation').waitFor()
    await tool(page).locator('session-room', { hasText: 'Ada Lovelace' }).first().waitFor({ timeout: 10_000 }).catch(() => {})
    assert.deepEqual(problems, [])
    await shoot(page, 'lti-instructor-storage')

    // A learner in another tab of the same browser: their own sign-in, their own role.
    const learner = await newPage(context, 'blocked')
    await learner.goto(ex.launchUrl('grace'))
    await live(tool(learner))
    assert.equal(await tool(learner).locator('session-moderation').count(), 0, 'a learner has no moderation panel')
    await shoot(learner, 'lti-learner-storage')
    await learner.close()
    await page.close()
  })

  it('the room in the LMS frame has no serious or critical axe violation as instructor, learner and mentor (1400 and 390 px, light and dark)', { timeout: 240_000 }, async () => {
    for (const [who, role] of [['ada', 'instructor'], ['grace', 'learner'], ['mo', 'mentor (observer)']] as const) {
      const page = await newPage(context, 'blocked')
      await page.goto(ex.launchUrl(who))
      await live(tool(page))
      const frame = () => page.frames().find((f) => f.name() === 'tool')!
      await editorsReady(frame())
      await checkViews(page, `the LTI room, ${role}`, frame)
      await page.close()
    }
  })

  it('third-party cookies blocked and no platform storage: the frame says so and the new window opens the room', { timeout: 90_000 }, async () => {
    const page = await newPage(context, 'blocked')
    await page.goto(ex.launchUrl('grace', { storage: false }))
    const button = tool(page).getByRole('link', { name: 'Open in a new window' })
    await button.waitFor({ timeout: 20_000 })
    await tool(page).getByRole('heading', { name: 'Open Session Kit in a new window' }).waitFor()
    const violations = await axeViolations(page.frames().find((f) => f.name() === 'tool')!)
    assert.deepEqual(violations, [], 'the new-window page is axe-clean')
    await shoot(page, 'lti-new-window')
    const [popup] = await Promise.all([page.waitForEvent('popup'), button.click()])
    await live(popup)
    assert.match(popup.url(), /\/lti\/launch$/, 'the room opened in a window of its own')
    await popup.close()
    await page.close()
  })

  it('third-party cookies allowed: the cookie path opens the room in the frame too', { timeout: 90_000 }, async () => {
    const page = await newPage(context, 'allowed')
    const problems = await watch(page)
    await page.goto(ex.launchUrl('grace', { storage: false }))
    await live(tool(page))
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('deep linking: the instructor adds an assignment from the frame and the LMS receives the signed link', { timeout: 90_000 }, async () => {
    const page = await newPage(context, 'blocked')
    await page.goto(ex.launchUrl('ada', { deepLinking: true }))
    const frame = tool(page)
    await frame.getByRole('heading', { name: /Add Session Kit to CS 101/ }).waitFor({ timeout: 20_000 }).catch(async (e) => {
      throw new Error(`${e.message}\nthe frame shows: ${await frame.locator('body').innerText().catch(() => '(nothing)')}`)
    })
    const violations = await axeViolations(page.frames().find((f) => f.name() === 'tool')!)
    assert.deepEqual(violations, [], 'the picker is axe-clean')
    await shoot(page, 'lti-deep-linking-picker')
    const before = ex.lms.deepLinkResponses.length
    await frame.getByLabel(/An assignment/).check()
    await frame.getByLabel('Title').fill('Sum a list')
    await frame.getByLabel('Starter code').fill('def total(xs):\n    return 0\n')
    await frame.getByRole('button', { name: 'Add to course' }).click()
    await frame.getByText(/Added 1 item/).waitFor({ timeout: 20_000 })
    assert.equal(ex.lms.deepLinkResponses.length, before + 1)
    assert.equal(ex.lms.deepLinkResponses.at(-1)!.contentItems[0].title, 'Sum a list')
    await page.close()
  })
})
