import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { createServer, mintToken, type SessionKitServer } from '@session-kit/server'
import { freshDataDir, removeDir, startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '@session-kit/server/testing'
import { editorsReady, openPanelViolations, VIEWS } from './axe.js'
import { distinctPixelBytes, hostPageServer, launch, watch } from './browser.js'

// The first hour, walked as a person would: the demo and each example in each role, light and
// dark, wide and phone-sized, photographed (test-results/screenshots/walkthrough/) and checked for
// what a newcomer notices; then the ways a room fails, each of which must show one truthful state.
// Each of those pages is also checked whole by axe-core with every panel open: any serious or
// critical violation fails (contrast of the code's colours and of buttons, keyboard access to
// scrolling code, names of controls, …).
const SHOTS = new URL('../../test-results/screenshots/walkthrough/', import.meta.url)
type View = (typeof VIEWS)[number]

async function contextFor(browser: Browser, view: View): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: view.width, height: 900 }, colorScheme: view.scheme })
}

/** What a page shows, through every shadow root, as one string (what a person can read). */
// (Page scripts are strings: the test runner's compiler would wrap named functions in a helper
// that does not exist in the page.)
const deepText = (page: Page): Promise<string> =>
  page.evaluate(`(() => {
    const parts = []
    const walk = (root) => {
      for (const node of root.childNodes) {
        if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent || '')
        else if (node instanceof HTMLElement) {
          if (node.localName === 'style' || node.localName === 'script') continue
          const style = getComputedStyle(node)
          if (style.display === 'none' || style.visibility === 'hidden' || node.classList.contains('visually-hidden')) continue
          if (node.shadowRoot) walk(node.shadowRoot)
          walk(node)
        }
      }
    }
    walk(document.body)
    return parts.join(' ').replace(/\\s+/g, ' ')
  })()`)

/** Problems a person would see at this size: the page scrolling sideways, cut-off room bars. */
const layoutProblems = (page: Page): Promise<string[]> =>
  page.evaluate(`(() => {
    const problems = []
    const doc = document.scrollingElement
    if (doc.scrollWidth > window.innerWidth + 1) problems.push('the page scrolls sideways: ' + doc.scrollWidth + ' px wide in a ' + window.innerWidth + ' px window')
    for (const room of document.querySelectorAll('session-room')) {
      const text = room.shadowRoot && room.shadowRoot.querySelector('[part=status-text]')
      if (text && text.scrollWidth > text.clientWidth + 1) problems.push('the room bar text is cut off: "' + text.textContent.trim() + '"')
    }
    return problems
  })()`)

/**
 * axe over the whole page, every panel open (after the screenshot, which shows the page as it
 * first appears): its serious and critical violations, named by where they are.
 */
async function accessibilityProblems(page: Page, where: string): Promise<string[]> {
  await editorsReady(page)
  return (await openPanelViolations(page)).map((v) => `${where}: ${v}`)
}

async function shoot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true })
  const png = await page.screenshot({ fullPage: true })
  writeFileSync(new URL(`${name}.png`, SHOTS), png)
  assert.ok(distinctPixelBytes(png) > 64, `the ${name} screenshot is not blank`)
}

/**
 * Every badge, status and placeholder text each Session Kit element shows, sampled every frame
 * from before the elements load: what a person could have seen, however briefly.
 */
async function recordStates(page: Page) {
  await page.addInitScript(`(() => {
    const seen = new Set()
    window.__seen = seen
    const sample = () => {
      for (const el of document.querySelectorAll('session-editor, session-chat, session-runner, session-participants')) {
        const root = el.shadowRoot
        if (!root) continue
        const room = el.closest('session-room')
        for (const part of root.querySelectorAll('[part~=indicator], .placeholder, .notice, .empty, .why, [part~=status]')) {
          seen.add((room ? room.getAttribute('data-role') : '') + '|' + el.localName + '|' + part.textContent.trim())
        }
      }
      requestAnimationFrame(sample)
    }
    requestAnimationFrame(sample)
  })()`)
  return (): Promise<string[]> => page.evaluate(`[...window.__seen]`)
}

describe('walk-through: the demo in three roles', () => {
  let server: TestServer
  let browser: Browser
  before(async () => {
    server = await startTestServer('pglite', { demo: true })
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
    await server?.stop().catch(() => {})
  })

  for (const view of VIEWS) {
    it(`the demo, ${view.scheme}, ${view.width} px: every pane live, nothing cut off, never "Playground" inside a room, no serious axe violation`, { timeout: 60_000 }, async () => {
      const ctx = await contextFor(browser, view)
      try {
        const page = await ctx.newPage()
        const problems = await watch(page)
        const seen = await recordStates(page)
        await page.goto(server.url + '/')
        for (const role of ['instructor', 'learner', 'observer']) {
          await page.locator(`session-room[data-role="${role}"] session-editor[file="main.js"] .editor.live`).waitFor({ timeout: 20_000 })
        }
        await page.locator('session-chat').first().locator('.empty, [part=message]').first().waitFor({ timeout: 10_000 })
        await page.waitForTimeout(300)
        const states = await seen()
        assert.deepEqual(states.filter((s) => /Playground|works inside a/.test(s)), [], 'inside a room, no element ever takes itself for a playground')
        // Panels load their lists after the room is live: on a loaded machine that takes a moment more.
        let text = await deepText(page)
        for (let i = 0; i < 25 && /Loading the chat|Loading participants|Loading the code/.test(text); i++) {
          await page.waitForTimeout(200)
          text = await deepText(page)
        }
        assert.doesNotMatch(text, /Loading the chat|Loading participants|Loading the code/, 'nothing is still loading a few seconds after the room is live')
        assert.deepEqual(await layoutProblems(page), [])
        assert.deepEqual(problems, [])
        await shoot(page, `demo-${view.scheme}-${view.width}`)
        assert.deepEqual(await accessibilityProblems(page, `the demo page, ${view.scheme}, ${view.width} px`), [])
      } finally {
        await ctx.close()
      }
    })
  }

  // Last: it stops the server. The demo's elements come from the Session Kit server itself, so
  // the runner's sandbox page goes down with it.
  it('with the server down, Run says the code did not run, not that the time limit ran out', { timeout: 60_000 }, async () => {
    const ctx = await contextFor(browser, VIEWS[0])
    try {
      const page = await ctx.newPage()
      await page.goto(server.url + '/')
      const learner = page.locator('session-room[data-role="learner"]')
      await learner.locator('session-editor[file="main.js"] .editor.live').waitFor({ timeout: 20_000 })
      await server.stop()
      await learner.locator('session-runner[file="main.js"] [part=run-button]').click()
      const status = learner.locator('session-runner[file="main.js"] [part=status]')
      await status.filter({ hasText: /did not run|time limit/ }).waitFor({ timeout: 20_000 })
      const said = (await status.textContent()) ?? ''
      assert.match(said, /did not run/)
      assert.doesNotMatch(said, /time limit|endless loop/)
      await shoot(page, 'run-with-server-down')
    } finally {
      await ctx.close()
    }
  })
})

describe('walk-through: the examples, in each role', () => {
  let browser: Browser
  before(async () => {
    browser = await launch()
  })
  after(() => browser?.close())

  /** Each example's pages: the role, the path, what shows it is ready, and what to do before axe looks. */
  const examples: { name: string; module: string; paths: [role: string, path: string, ready?: string][]; ready: string; before?: (page: Page) => Promise<void> }[] = [
    { name: 'plain-html', module: '../../examples/plain-html/start.mjs', paths: [['learner', '/']], ready: 'session-editor .editor.live' },
    {
      name: 'docs-playground',
      module: '../../examples/docs-playground/start.mjs',
      paths: [['playground', '/']],
      ready: 'session-runner [part=run-button]',
      // A run's output is on the page too.
      before: async (page) => {
        await page.locator('session-runner').nth(2).getByRole('button', { name: /^Run / }).click()
        await page.locator('session-runner').nth(2).locator('[part~=output]', { hasText: '10' }).waitFor({ timeout: 10_000 })
      },
    },
    { name: 'react-app', module: '../../examples/react-app/start.mjs', paths: [['playground', '/']], ready: 'session-runner [part=run-button]' },
    {
      name: 'lms-course-page',
      module: '../../examples/lms-course-page/start.mjs',
      paths: [
        ['instructor', '/course?as=ada'],
        ['learner', '/course?as=grace'],
        ['observer', '/course?as=linus'],
        ['learner-assignment', '/assignment?as=grace', 'session-assignment session-editor .editor.live'],
        ['instructor-class-overview', '/classroom?as=ada', 'session-classroom [part~=grid], session-classroom .empty, session-classroom table'],
      ],
      ready: 'session-editor .editor.live',
    },
  ]

  for (const ex of examples) {
    it(`${ex.name}: each role, light and dark, 1400 and 390 px, no serious axe violation`, { timeout: 240_000 }, async () => {
      const { start } = (await import(ex.module)) as { start(o: { port: number; serverPort?: number }): Promise<{ url: string; close(): Promise<void> }> }
      const site = await start({ port: 0, serverPort: 0 })
      const inaccessible: string[] = []
      try {
        for (const [role, path, ready = ex.ready] of ex.paths) {
          for (const view of VIEWS) {
            const ctx = await contextFor(browser, view)
            try {
              const page = await ctx.newPage()
              const problems = await watch(page)
              await page.goto(site.url + path)
              await page.locator(ready).first().waitFor({ timeout: 20_000 })
              await page.waitForTimeout(300)
              assert.deepEqual(await layoutProblems(page), [], `${ex.name} as ${role}, ${view.scheme}, ${view.width} px`)
              await ex.before?.(page)
              assert.deepEqual(problems, [])
              await shoot(page, `${ex.name}-${role}-${view.scheme}-${view.width}`)
              inaccessible.push(...(await accessibilityProblems(page, `${ex.name} as ${role}, ${view.scheme}, ${view.width} px`)))
            } finally {
              await ctx.close()
            }
          }
        }
        assert.deepEqual(inaccessible, [], inaccessible.join('\n'))
      } finally {
        await site.close()
      }
    })
  }
})

describe('walk-through: when a room fails, every element says the same true thing', () => {
  let server: SessionKitServer
  let host: Awaited<ReturnType<typeof hostPageServer>>
  let browser: Browser
  let dataDir: string
  const sid = 'first-hour'
  const tokens: Record<string, string> = {}

  before(async () => {
    dataDir = await freshDataDir()
    server = await createServer({ port: 0, host: '127.0.0.1', dataDir, env: { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY }, log: () => {} })
    for (const id of [sid, 'another-class']) {
      await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ id, title: 'First hour', ownerId: 'ins' }) })
    }
    tokens.good = await mintToken({ sid, role: 'learner', sub: 'sam', name: 'Sam' }, TEST_SECRET)
    tokens.lin = await mintToken({ sid, role: 'learner', sub: 'lin', name: 'Lin' }, TEST_SECRET)
    tokens.instructor = await mintToken({ sid, role: 'instructor', sub: 'ins', name: 'Ada' }, TEST_SECRET)
    tokens.otherSession = await mintToken({ sid: 'another-class', role: 'learner', sub: 'sam', name: 'Sam' }, TEST_SECRET)
    tokens.expired = await mintToken({ sid, role: 'learner', sub: 'sam', name: 'Sam' }, TEST_SECRET, { ttl: '1s' })
    tokens.untrusted = await mintToken({ sid, role: 'learner', sub: 'sam', name: 'Sam' }, 'a-secret-this-server-does-not-know-at-all-0123')
    tokens.malformed = 'not.a.token'
    const room = (token: string) =>
      `<session-room server="${server.url}" session="${sid}" ${token ? `token="${token}"` : ''}><session-participants></session-participants><session-editor></session-editor><session-runner></session-runner><session-chat></session-chat></session-room>`
    const page = (body: string) => () => `<!doctype html><html lang="en"><head><title>Course</title><script type="module" src="/cdn/session-kit.js"></script></head><body><main>${body}</main></body></html>`
    host = await hostPageServer({
      '/good': page(room(tokens.good!)),
      '/lin': page(room(tokens.lin!)),
      '/other-session': page(room(tokens.otherSession!)),
      '/expired': page(room(tokens.expired!)),
      '/untrusted': page(room(tokens.untrusted!)),
      '/malformed': page(room(tokens.malformed!)),
      '/no-token': page(room('')),
    })
    browser = await launch()
    await new Promise((r) => setTimeout(r, 1100)) // the short-lived token has expired
  })
  after(async () => {
    await browser?.close()
    await host?.close()
    await server?.close().catch(() => {})
    removeDir(dataDir)
  })

  /** The failed room's state, element by element. */
  async function expectOneFailedState(page: Page, message: RegExp, what: string) {
    const alert = page.locator('session-room [part=error]')
    await alert.waitFor({ timeout: 15_000 })
    assert.match((await alert.textContent()) ?? '', message, `${what}: the room says why`)
    await page.waitForTimeout(500)
    const text = await deepText(page)
    const said = (await alert.textContent())!.trim()
    assert.equal(text.split(said).length - 1, 1, `${what}: the reason is said once, not in two places (page: ${text})`)
    assert.doesNotMatch(text, /Playground|Connecting…|Loading|works inside a|\bLive\b/, `${what}: nothing contradicts it (page: ${text})`)
    assert.equal(await page.locator('session-editor [part=indicator]').textContent(), 'Not connected', `${what}: the editor's badge`)
    assert.match((await page.locator('session-runner .why').textContent()) ?? '', /^Not connected/, `${what}: the runner`)
    assert.match((await page.locator('session-chat').evaluate((c) => c.shadowRoot!.textContent ?? '')) ?? '', /Not connected/, `${what}: the chat`)
    assert.match((await page.locator('session-participants').evaluate((c) => c.shadowRoot!.textContent ?? '')) ?? '', /Not connected/, `${what}: the participants`)
  }

  const failures: [string, RegExp][] = [
    ['/other-session', /for session "another-class", .*"first-hour"/],
    ['/expired', /expired/i],
    ['/untrusted', /.+/],
    ['/malformed', /.+/],
    ['/no-token', /no token/i],
  ]
  for (const [path, message] of failures) {
    it(`a room opened with ${path.slice(1).replace('-', ' ')} shows one failed state, and says which`, { timeout: 60_000 }, async () => {
      const ctx = await contextFor(browser, VIEWS[0])
      try {
        const page = await ctx.newPage()
        const warnings: string[] = []
        page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()))
        await page.goto(host.url + path)
        await expectOneFailedState(page, message, path)
        // The developer embedding the room reads why in the console too.
        assert.ok(warnings.some((w) => w.includes('<session-room session="first-hour">: not connected') && message.test(w)), `a console warning says why: ${JSON.stringify(warnings)}`)
        if (path === '/other-session') {
          await shoot(page, 'failed-room-light-1400')
          await page.setViewportSize({ width: 390, height: 900 })
          await page.emulateMedia({ colorScheme: 'dark' })
          assert.deepEqual(await layoutProblems(page), [])
          await shoot(page, 'failed-room-dark-390')
        }
      } finally {
        await ctx.close()
      }
    })
  }

  it('a learner removed by the instructor who reloads sees why, once, in every element', { timeout: 60_000 }, async () => {
    const ctx = await contextFor(browser, VIEWS[0])
    try {
      const page = await ctx.newPage()
      await page.goto(host.url + '/good')
      await page.locator('session-editor .editor.live').waitFor({ timeout: 20_000 })
      const res = await fetch(`${server.url}/v1/sessions/${sid}/participants/sam/kick`, { method: 'POST', headers: { authorization: `Bearer ${tokens.instructor}`, 'content-type': 'application/json' }, body: '{}' })
      assert.ok(res.ok, `kick: ${res.status}`)
      await expectOneFailedState(page, /removed/i, 'after the kick')
      await page.reload()
      await expectOneFailedState(page, /removed/i, 'after the kick and a reload')
      await shoot(page, 'removed-after-reload')
    } finally {
      await ctx.close()
    }
  })

})
