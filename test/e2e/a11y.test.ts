import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { startTestServer, type TestServer } from '@session-kit/server/testing'
import { checkViews, editorsReady, openEveryPanel } from './axe.js'
import { launch, watch } from './browser.js'

// Whole pages checked by axe-core: the demo page (instructor, learner and observer side by side)
// and every example, in each role it has, with every panel open, at a desktop and a phone width,
// light and dark. Any serious or critical violation fails (contrast of the code's colours and of
// buttons, keyboard access to scrolling code, names of controls, …).

describe('accessibility of whole pages (axe-core, every panel open, 1400 and 390 px, light and dark)', () => {
  let browser: Browser
  before(async () => {
    browser = await launch()
  })
  after(() => browser?.close())

  it('the demo page: instructor, learner and observer side by side', { timeout: 90_000 }, async () => {
    const server: TestServer = await startTestServer('pglite', { demo: true })
    const page = await browser.newPage()
    try {
      const problems = await watch(page)
      await page.goto(server.url + '/')
      for (const role of ['instructor', 'learner', 'observer']) await page.locator(`session-room[data-role="${role}"] session-editor .editor.live`).first().waitFor({ timeout: 30_000 })
      await editorsReady(page)
      await checkViews(page, 'the demo page')
      assert.deepEqual(problems, [])
    } finally {
      await page.close()
      await server.stop()
    }
  })

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

  it('plain-html: a learner in a room on a host page', { timeout: 90_000 }, async () => {
    const { start } = await import('../../examples/plain-html/start.mjs')
    const ex = await start({ port: 0, serverPort: 0 })
    const page = await browser.newPage()
    try {
      await page.goto(ex.url + '/')
      await page.locator('session-editor .editor.live').waitFor({ timeout: 20_000 })
      await editorsReady(page)
      await checkViews(page, 'plain-html')
    } finally {
      await page.close().catch(() => {})
      await ex.close()
    }
  })

  it('docs-playground: three playgrounds without a server, one run', { timeout: 90_000 }, async () => {
    const { start } = await import('../../examples/docs-playground/start.mjs')
    const ex = await start({ port: 0 })
    const page = await browser.newPage()
    try {
      await page.goto(ex.url + '/')
      await page.locator('session-runner').first().getByRole('button', { name: /^Run / }).waitFor({ timeout: 15_000 })
      await editorsReady(page)
      // A run's output is on the page too.
      await page.locator('session-runner').nth(2).getByRole('button', { name: /^Run / }).click()
      await page.locator('session-runner').nth(2).locator('[part~=output]', { hasText: '10' }).waitFor({ timeout: 10_000 })
      await checkViews(page, 'docs-playground')
    } finally {
      await page.close()
      await ex.close()
    }
  })

  it('react-app: the elements through the React wrappers', { timeout: 90_000 }, async () => {
    const { start } = await import('../../examples/react-app/start.mjs')
    const ex = await start({ port: 0 })
    const page = await browser.newPage()
    try {
      await page.goto(ex.url + '/')
      await page.locator('session-editor .cm-content', { hasText: '6 * 7' }).waitFor({ timeout: 15_000 })
      await editorsReady(page)
      await checkViews(page, 'react-app')
    } finally {
      await page.close()
      await ex.close()
    }
  })

  it('lms-course-page: the course page as instructor, learner and observer; the assignment and the class overview', { timeout: 180_000 }, async () => {
    const { start } = await import('../../examples/lms-course-page/start.mjs')
    const ex = await start({ port: 0, serverPort: 0 })
    const context = await browser.newContext()
    try {
      for (const [path, name, ready] of [
        ['/course?as=ada', 'the course page, instructor', 'session-editor .editor.live'],
        ['/course?as=grace', 'the course page, learner', 'session-editor .editor.live'],
        ['/course?as=linus', 'the course page, observer', 'session-editor .editor.live'],
        ['/assignment?as=grace', 'the assignment, learner', 'session-assignment session-editor .editor.live'],
        ['/classroom?as=ada', 'the class overview, instructor', 'session-classroom [part~=grid], session-classroom .empty, session-classroom table'],
      ] as const) {
        const page = await context.newPage()
        const problems = await watch(page)
        await page.goto(ex.url + path)
        await page.locator(ready).first().waitFor({ timeout: 20_000 })
        await editorsReady(page)
        await checkViews(page, name)
        assert.deepEqual(problems, [])
        await page.close()
      }
    } finally {
      await context.close().catch(() => {})
      await ex.close()
    }
  })
})
