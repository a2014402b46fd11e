import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { startTestServer, type TestServer } from '@session-kit/server/testing'
import { editorValue, launch, watch } from './browser.js'

// The README's demo: one room open three times, as instructor, learner and observer.
describe('the demo page (npm start)', () => {
  let server: TestServer
  let browser: Browser
  let page: Page
  let problems: string[]
  before(async () => {
    server = await startTestServer('pglite', { demo: true })
    browser = await launch()
    page = await browser.newPage({ viewport: { width: 1500, height: 900 } })
    problems = await watch(page)
    await page.goto(server.url + '/')
  })
  after(async () => {
    await browser?.close()
    await server?.stop()
  })

  const pane = (role: string) => `session-room[data-role="${role}"] session-editor[file="main.js"]`
  const value = (role: string) => editorValue(page.locator(pane(role)))
  const indicator = (role: string) => page.locator(pane(role)).locator('[part=indicator]').textContent()
  async function until(fn: () => Promise<boolean>, what: string, ms = 10_000) {
    const t0 = Date.now()
    while (Date.now() - t0 < ms) {
      if (await fn()) return
      await page.waitForTimeout(50)
    }
    assert.fail(`timed out waiting for ${what}`)
  }

  it('shows the room live in three panes, each with its role', async () => {
    for (const role of ['instructor', 'learner', 'observer']) {
      await until(async () => (await page.locator(pane(role)).locator('.editor.live').count()) === 1, `${role} live`)
    }
    assert.equal(await indicator('instructor'), 'Editing')
    assert.equal(await indicator('learner'), 'Editing')
    assert.equal(await indicator('observer'), 'View only')
    assert.match(await value('observer'), /Welcome to Session Kit/)
  })

  it('typing in one pane shows in the others at once', async () => {
    await page.locator(pane('instructor')).locator('.cm-content').click()
    await page.keyboard.press('Control+End')
    await page.keyboard.type('\n// from the instructor')
    await until(async () => (await value('learner')).includes('// from the instructor') && (await value('observer')).includes('// from the instructor'), 'instructor text in the other panes')
    await page.locator(pane('learner')).locator('.cm-content').click()
    await page.keyboard.press('Control+End')
    await page.keyboard.type('\n// and the learner')
    await until(async () => (await value('instructor')).includes('// and the learner'), 'learner text in the instructor pane')
  })

  it('the observer cannot type', async () => {
    const before = await value('observer')
    await page.locator(pane('observer')).locator('.cm-content').click()
    await page.keyboard.type('sneaky')
    await page.waitForTimeout(300)
    assert.equal(await value('observer'), before)
    assert.ok(!(await value('instructor')).includes('sneaky'), 'nothing reached the others')
  })

  it('the instructor locks and unlocks learner editing, and the learner pane follows', async () => {
    const lock = page.locator('session-room[data-role="instructor"] session-moderation').getByRole('button', { name: /learner editing/ })
    await until(async () => (await lock.count()) === 1 && !(await lock.isDisabled()), 'lock button enabled')
    await lock.click()
    await until(async () => (await indicator('learner')) === 'Editing locked by instructor', 'learner locked')
    await until(async () => (await lock.textContent())?.trim() === 'Unlock learner editing', 'the button says unlock')
    const before = await value('learner')
    await page.locator(pane('learner')).locator('.cm-content').click()
    await page.keyboard.type('blocked')
    await page.waitForTimeout(300)
    assert.equal(await value('learner'), before)
    await lock.click()
    await until(async () => (await indicator('learner')) === 'Editing', 'learner unlocked')
    await until(async () => (await page.locator(pane('learner')).locator('.editor.live').count()) === 1, 'learner live again')
    await page.locator(pane('learner')).locator('.cm-content').click()
    await page.keyboard.press('Control+End')
    await page.keyboard.type('\n// unlocked')
    await until(async () => (await value('instructor')).includes('// unlocked'), 'learner edit after unlock')
  })

  it('runs code in the sandbox and chats, and the room sees both', async () => {
    const learner = page.locator('session-room[data-role="learner"]')
    const observer = page.locator('session-room[data-role="observer"]')
    await learner.locator('session-runner[file="main.js"]').getByRole('button', { name: 'Run main.js' }).click()
    await until(async () => ((await learner.locator('session-runner[file="main.js"] [part~=output]').textContent()) ?? '').includes('Hello, class!'), 'the code ran')
    await until(async () => ((await observer.locator('session-runner[file="main.js"] [part=activity]').textContent()) ?? '').includes('Grace (learner) ran main.js'), 'the observer saw the run')
    await learner.locator('session-chat textarea').fill('Done! <b>not bold</b>')
    await page.keyboard.press('Enter')
    await until(async () => ((await observer.locator('session-chat [part=messages]').textContent()) ?? '').includes('Done! <b>not bold</b>'), 'the chat message arrived as text')
  })

  it('the demo’s Python file runs in the page, asks for input, and its tests pass in the page and on the server', async () => {
    const learner = page.locator('session-room[data-role="learner"]')
    await learner.locator('details.python > summary').click()
    const runner = learner.locator('session-runner[file="greet.py"]')
    await runner.getByRole('button', { name: 'Run greet.py' }).click()
    // The first run downloads Python from this server's /cdn/ and starts it.
    const field = runner.getByRole('textbox', { name: /What is your name\?/ })
    await field.waitFor({ timeout: 90_000 })
    await field.fill('Grace')
    await field.press('Enter')
    await until(async () => ((await runner.locator('[part~=output]').textContent()) ?? '').includes('Hello, Grace!'), 'the Python program answered', 30_000)
    await runner.getByRole('button', { name: 'Run tests' }).click()
    await until(async () => ((await runner.locator('[part~=status]').textContent()) ?? '').includes('2 of 2 tests passed'), 'the Python tests passed in the page', 30_000)
    assert.equal(await runner.locator('[part~=test-passed]').count(), 2)
    await runner.getByRole('button', { name: 'Check on the server' }).click()
    await until(async () => /Verified on the server at version \w{8}: 2 of 2 tests passed/.test((await runner.locator('[part=verified]').textContent()) ?? ''), 'the server vouched for the tests', 90_000)
    // The JavaScript file's tests, in the page.
    const js = learner.locator('session-runner[file="main.js"]')
    await js.getByRole('button', { name: 'Run tests' }).click()
    await until(async () => ((await js.locator('[part~=status]').textContent()) ?? '').includes('1 of 1 test passed'), 'the JavaScript tests passed', 30_000)
    assert.deepEqual(problems, [])
  })

  it('an instructor invites by email; the invitee opens the link from the outbox, accepts and joins', async () => {
    const instructor = page.locator('session-room[data-role="instructor"]')
    await instructor.locator('details', { hasText: 'Invitations' }).locator('summary').click()
    const invitations = instructor.locator('session-invitations')
    await invitations.locator('textarea[name=emails]').fill('newcomer@example.edu')
    await invitations.getByRole('button', { name: 'Invite' }).click()
    await until(async () => ((await invitations.locator('[part=invitation]').textContent()) ?? '').includes('newcomer@example.edu'), 'the invitation is listed')
    const outbox = await (await fetch(server.url + '/')).text()
    const link = /href="([^"]*invite=[^"]+)"/.exec(outbox)?.[1]?.replace(/&amp;/g, '&')
    assert.ok(link, 'the demo page shows the mail in its outbox')
    const guest = await browser.newContext()
    const guestPage = await guest.newPage()
    const guestProblems = await watch(guestPage)
    await guestPage.goto(link)
    const room = guestPage.locator('session-room')
    await room.getByRole('textbox', { name: /Your name/ }).fill('Newcomer')
    await room.getByRole('button', { name: 'Accept and join' }).click()
    await guestPage.locator('session-editor .editor.live').waitFor({ timeout: 15_000 })
    assert.equal(await guestPage.locator('session-editor [part=indicator]').textContent(), 'Editing', 'joined as a learner')
    assert.ok(!guestPage.url().includes('invite='), 'the invitation token is removed from the address bar')
    await until(async () => ((await invitations.locator('[part~=status]').first().textContent()) ?? '') === 'accepted', 'the instructor sees it accepted')
    // A reload (the address no longer has the invitation): the guest is back in the room.
    await guestPage.reload()
    await guestPage.locator('session-editor .editor.live').waitFor({ timeout: 15_000 })
    assert.equal(await guestPage.locator('session-editor [part=indicator]').textContent(), 'Editing', 'back as the learner after a reload')
    assert.match((await guestPage.locator('session-room [part=status-text]').textContent()) ?? '', /Live/)
    assert.deepEqual(guestProblems, [])
    await guest.close()
  })

  it('the instructor opens the analytics: the learner’s edits and run are counted; the learner sees only their own', async () => {
    const instructor = page.locator('session-room[data-role="instructor"]')
    const analytics = instructor.locator('session-analytics')
    await instructor.locator('details', { hasText: 'Analytics' }).locator('summary').click()
    await analytics.scrollIntoViewIfNeeded()
    await until(async () => ((await analytics.locator('[part=table]').textContent()) ?? '').includes('Grace'), 'the participants table', 15_000)
    const runs = await analytics.locator('.card', { hasText: 'Runs' }).locator('dd').textContent()
    assert.match(runs ?? '', /^[1-9]/, 'the learner’s run is counted')
    assert.equal(await analytics.locator('svg polyline').count(), 2, 'the trend is drawn')
    const learner = page.locator('session-room[data-role="learner"]')
    await learner.locator('details', { hasText: 'My activity' }).locator('summary').click()
    await learner.locator('session-analytics').scrollIntoViewIfNeeded()
    const own = learner.locator('session-analytics [part=cards]')
    await until(async () => ((await own.textContent()) ?? '').includes('Code changes'), 'the learner’s own activity', 15_000)
    assert.ok(!((await own.textContent()) ?? '').includes('Engagement'), 'no score for the learner')
  })

  it('runs under the page’s strict Content-Security-Policy without errors', () => {
    assert.deepEqual(problems, [])
  })
})
