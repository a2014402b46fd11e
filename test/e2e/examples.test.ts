import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { distinctPixelBytes, launch, watch } from './browser.js'

// Each example started the way its README says, driven in Chromium, and photographed.
const SHOTS = new URL('../../test-results/screenshots/', import.meta.url)

async function shoot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true })
  const png = await page.screenshot({ fullPage: true })
  writeFileSync(new URL(`${name}.png`, SHOTS), png)
  assert.ok(distinctPixelBytes(png) > 64, `the ${name} screenshot is not blank`)
}

describe('examples', () => {
  let browser: Browser
  before(async () => {
    browser = await launch()
  })
  after(() => browser?.close())

  it('plain-html: one script tag from the Session Kit server on another origin, a room, run the code', { timeout: 120_000 }, async () => {
    const { start } = await import('../../examples/plain-html/start.mjs')
    const ex = await start({ port: 0, serverPort: 0 })
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } })
    try {
      const problems = await watch(page)
      await page.goto(ex.url + '/')
      await page.locator('session-editor .editor.live').waitFor({ timeout: 20_000 })
      await page.locator('session-runner').getByRole('button', { name: /^Run / }).click()
      await page.locator('session-runner [part~=output]', { hasText: '5' }).waitFor({ timeout: 10_000 })
      assert.deepEqual(problems, [])
      await shoot(page, 'plain-html')
    } finally {
      await page.close().catch(() => {})
      await ex.close()
    }
  })

  it('docs-playground: three independent playgrounds without a server, each runs its own code', { timeout: 120_000 }, async () => {
    const { start } = await import('../../examples/docs-playground/start.mjs')
    const ex = await start({ port: 0 })
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 700 } })
      const problems = await watch(page)
      await page.goto(ex.url + '/')
      const runners = page.locator('session-runner')
      await runners.first().getByRole('button', { name: /^Run / }).waitFor({ timeout: 15_000 })
      await runners.nth(1).getByRole('button', { name: /^Run / }).click()
      await runners.nth(1).locator('[part~=output]', { hasText: 'function' }).waitFor({ timeout: 10_000 })
      assert.equal(await runners.nth(0).locator('[part~=output]').textContent().then((t) => (t ?? '').includes('function')), false, 'only the second example ran')
      await runners.nth(2).getByRole('button', { name: /^Run / }).click()
      await runners.nth(2).locator('[part~=output]', { hasText: '10' }).waitFor({ timeout: 10_000 })
      // Edit the first example and run it: the change is used.
      await page.locator('#map-example .cm-content').click()
      await page.keyboard.press('Control+End')
      await page.keyboard.type('\nconsole.log("edited")')
      await runners.nth(0).getByRole('button', { name: /^Run / }).click()
      await runners.nth(0).locator('[part~=output]', { hasText: 'edited' }).waitFor({ timeout: 10_000 })
      assert.equal(await page.evaluate(() => customElements.get('session-room')), undefined, 'no room code on a page without rooms')
      assert.deepEqual(problems, [])
      await shoot(page, 'docs-playground')
    } finally {
      await ex.close()
    }
  })

  it('lms-course-page: the host signs tokens per user; instructor, learner and observer; an invitation through the outbox', { timeout: 120_000 }, async () => {
    const { start } = await import('../../examples/lms-course-page/start.mjs')
    const ex = await start({ port: 0, serverPort: 0 })
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } })
    try {
      const teacher = await ctx.newPage()
      const problems = await watch(teacher)
      await teacher.goto(ex.url + '/course?as=ada')
      await teacher.locator('session-editor .editor.live').waitFor({ timeout: 20_000 })
      const learner = await ctx.newPage()
      await learner.goto(ex.url + '/course?as=grace')
      await learner.locator('session-editor .editor.live').waitFor({ timeout: 20_000 })
      await learner.locator('session-editor .cm-content').click()
      await learner.keyboard.press('Control+Home')
      await learner.keyboard.type('// Grace was here\n')
      await teacher.locator('session-editor .cm-content', { hasText: 'Grace was here' }).waitFor({ timeout: 10_000 })
      const observer = await ctx.newPage()
      await observer.goto(ex.url + '/course?as=linus')
      await observer.locator('session-editor .editor.live').waitFor({ timeout: 20_000 })
      assert.equal(await observer.locator('session-editor [part=indicator]').textContent(), 'View only')
      assert.equal(await observer.locator('session-invitations').count(), 0, 'the host renders instructor tools for instructors only')

      // Invite by email; the mail's link opens the course page, where the room asks to accept.
      const invitations = teacher.locator('session-invitations')
      await invitations.locator('textarea[name=emails]').fill('new.student@example.edu')
      await invitations.getByRole('button', { name: 'Invite' }).click()
      await invitations.locator('[part=invitation]', { hasText: 'new.student@example.edu' }).waitFor({ timeout: 10_000 })
      const outbox = await ctx.newPage()
      await outbox.goto(ex.url + '/outbox')
      const link = await outbox.locator('.outbox a').first().getAttribute('href')
      assert.ok(link?.startsWith(ex.url + '/course?invite='), `the link leads to the course page: ${link}`)
      const guestCtx = await browser.newContext()
      const guest = await guestCtx.newPage()
      await guest.goto(link!)
      await guest.getByRole('textbox', { name: /Your name/ }).fill('New Student')
      await guest.getByRole('button', { name: 'Accept and join' }).click()
      await guest.locator('session-editor .editor.live').waitFor({ timeout: 15_000 })
      assert.match((await guest.locator('session-editor .cm-content').textContent()) ?? '', /Grace was here/)
      // A reload: the address is /course now (no ?invite=, no sign-in); the guest is back in the room.
      assert.ok(!guest.url().includes('invite='), 'the invitation token is removed from the address bar')
      await guest.reload()
      await guest.locator('session-editor .editor.live').waitFor({ timeout: 15_000 })
      assert.equal(await guest.locator('session-editor [part=indicator]').textContent(), 'Editing', 'back as the learner after a reload')
      await guestCtx.close()
      assert.deepEqual(problems, [])
      await shoot(teacher, 'lms-course-page-instructor')
      // Record a moment of the lesson and play it back (for the player's picture).
      const recording = teacher.locator('session-recording')
      await recording.locator('input[name=title]').fill('Warm-up')
      await recording.getByRole('button', { name: /^Start recording/ }).click()
      await recording.getByRole('button', { name: /^Stop$/ }).waitFor({ timeout: 10_000 })
      await learner.locator('session-editor .cm-content').click()
      await learner.keyboard.press('Control+End')
      await learner.keyboard.type('\nconsole.log(greet("Ada"))')
      await teacher.locator('session-editor .cm-content', { hasText: 'greet("Ada")' }).waitFor({ timeout: 10_000 })
      await recording.getByRole('button', { name: /^Stop$/ }).click()
      await recording.getByRole('button', { name: /^Play/ }).first().click({ timeout: 15_000 })
      await recording.locator('session-player .cm-content').waitFor({ timeout: 10_000 })
      // One picture per element, for the docs (test-results/screenshots/elements/).
      const pictures: [Page, string][] = [...['session-room', 'session-editor', 'session-runner', 'session-chat', 'session-invitations', 'session-moderation', 'session-analytics', 'session-snapshots', 'session-recording', 'session-player'].map((t) => [teacher, t] as [Page, string]), [learner, 'session-participants']]
      for (const [where, tag] of pictures) {
        const el = where.locator(tag).first()
        await el.scrollIntoViewIfNeeded()
        mkdirSync(new URL('elements/', SHOTS), { recursive: true })
        const png = await el.screenshot()
        writeFileSync(new URL(`elements/${tag}.png`, SHOTS), png)
        assert.ok(distinctPixelBytes(png) > 16, `<${tag}> rendered something`)
      }
      await shoot(learner, 'lms-course-page-learner')
    } finally {
      // Pages first, so the servers close without waiting on the browser's connections.
      await ctx.close().catch(() => {})
      await ex.close()
    }
  })
})
