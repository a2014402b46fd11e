import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { hostPageServer, launch, watch } from './browser.js'

// The runner from the CDN bundle on a host page, in Chromium as people run it: the sandboxed frame
// in a process of its own (the browser test runner's puppeteer turns that off, so the preview's
// endless loops are tested here). Code that never stops, or prints without end, must not freeze
// the host page nor outlive its time limit.

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

const CASES = {
  'html-loop': { language: 'html', timeout: 2, code: '<p>Busy</p><script>while (true) {}</script>' },
  'html-endless-log': { language: 'html', timeout: 2, code: '<script>while (true) console.log(1)</script>' },
  'html-flood': { language: 'html', timeout: 3, code: "<script>for (let i = 0; i < 20000; i++) console.log('line ' + i)</script>" },
  'js-flood': { language: 'javascript', timeout: 3, code: "for (let i = 0; i < 20000; i++) console.log('line ' + i)" },
  'js-endless-log': { language: 'javascript', timeout: 3, code: 'while (true) console.log(1)' },
  'html-stop': { language: 'html', timeout: 60, code: '<p>Busy</p><script>while (true) {}</script>' },
  'js-silent': { language: 'javascript', timeout: 2, code: 'while (true) {}' },
} as const

const page = (c: { language: string; timeout: number; code: string }) => () =>
  `<!doctype html><html lang="en"><head><title>Course page</title><script type="module" src="/cdn/session-kit.js"></script></head><body><main>
  <session-editor id="ed" language="${c.language}">${escapeHtml(c.code)}</session-editor>
  <session-runner for="ed" timeout="${c.timeout}"></session-runner></main></body></html>`

/**
 * Press Run and wait for the status to say the run ended: how long it took and the longest the
 * host page went without running a timer meanwhile.
 */
async function runAndWatch(p: Page) {
  await p.locator('session-runner').getByRole('button', { name: /^Run / }).waitFor({ timeout: 15_000 })
  await p.waitForTimeout(300)
  // (A string: tsx would name the functions with a helper the page does not have.)
  await p.evaluate(`{
    const stall = (window.stall = { max: 0, running: true })
    let last = performance.now()
    const tick = () => {
      const now = performance.now()
      stall.max = Math.max(stall.max, now - last)
      last = now
      if (stall.running) setTimeout(tick, 10)
    }
    setTimeout(tick, 10)
  }`)
  const t0 = Date.now()
  await p.locator('session-runner').getByRole('button', { name: /^Run / }).click()
  await p.locator('session-runner [part=status]', { hasText: /^(Ran |Stopped)/ }).waitFor({ timeout: 30_000 })
  const tookMs = Date.now() - t0
  const stallMs = (await p.evaluate('window.stall.running = false; Math.round(window.stall.max)')) as number
  return { tookMs, stallMs, status: (await p.locator('session-runner [part=status]').textContent()) ?? '' }
}

describe('the runner under floods and endless loops (CDN bundle, Chromium)', () => {
  let host: Awaited<ReturnType<typeof hostPageServer>>
  let browser: Browser
  // The host page must keep running its timers: no gap over 200 ms, plus what the machine's load
  // alone causes (a loop that prints nothing, measured first), so a busy machine does not fail it.
  let allowed = 200

  before(async () => {
    host = await hostPageServer(Object.fromEntries(Object.entries(CASES).map(([name, c]) => [`/${name}`, page(c)])))
    browser = await launch()
    const { p } = await open('js-silent')
    const floor = (await runAndWatch(p)).stallMs
    await p.close()
    allowed += floor
    console.log(`  the machine's load alone (a silent endless loop): longest host stall ${floor} ms`)
  })
  after(async () => {
    await browser?.close()
    await host?.close()
  })

  async function open(name: keyof typeof CASES) {
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems = await watch(p)
    await p.goto(`${host.url}/${name}`)
    return { p, problems }
  }

  it('an endless loop in the HTML preview ends at the time limit and the page stays responsive', async () => {
    const { p, problems } = await open('html-loop')
    const r = await runAndWatch(p)
    console.log(`  HTML while (true) {}, 2 s limit: ended after ${r.tookMs} ms, longest host stall ${r.stallMs} ms`)
    assert.match(r.status, /the time limit/)
    assert.ok(r.tookMs < 3000, `ended after ${r.tookMs} ms`)
    assert.ok(r.stallMs < allowed, `the host stalled ${r.stallMs} ms`)
    assert.deepEqual(problems, [])
    await p.close()
  })

  it('an endless console.log loop in the HTML preview ends at the time limit and the page stays responsive', async () => {
    const { p } = await open('html-endless-log')
    const r = await runAndWatch(p)
    console.log(`  HTML while (true) console.log(1), 2 s limit: ended after ${r.tookMs} ms, longest host stall ${r.stallMs} ms`)
    assert.match(r.status, /the time limit/)
    assert.ok(r.tookMs < 3000, `ended after ${r.tookMs} ms`)
    assert.ok(r.stallMs < allowed, `the host stalled ${r.stallMs} ms`)
    await p.close()
  })

  it('20,000 lines printed by the HTML preview arrive in batches: done at once, 1,000 shown, the rest counted', async () => {
    const { p } = await open('html-flood')
    const r = await runAndWatch(p)
    console.log(`  HTML 20,000 lines, 3 s limit: done after ${r.tookMs} ms, longest host stall ${r.stallMs} ms`)
    assert.match(r.status, /^Ran \S+ in \d+ ms — no errors/)
    assert.ok(r.tookMs < 3000, `done after ${r.tookMs} ms`)
    assert.ok(r.stallMs < allowed, `the host stalled ${r.stallMs} ms`)
    assert.equal(await p.locator('session-runner [part~=line]').count(), 1000)
    assert.match((await p.locator('session-runner [part=more]').textContent()) ?? '', /19,000 more lines/)
    await p.close()
  })

  it('JavaScript: 20,000 lines under a 3 s limit, and an endless console.log loop', async () => {
    const flood = await open('js-flood')
    const r = await runAndWatch(flood.p)
    console.log(`  JavaScript 20,000 lines, 3 s limit: done after ${r.tookMs} ms, longest host stall ${r.stallMs} ms`)
    assert.match(r.status, /^Ran main\.js in \d+ ms — no errors/)
    assert.ok(r.tookMs < 3000, `done after ${r.tookMs} ms`)
    assert.ok(r.stallMs < allowed, `the host stalled ${r.stallMs} ms`)
    await flood.p.close()
    const endless = await open('js-endless-log')
    const e = await runAndWatch(endless.p)
    console.log(`  JavaScript while (true) console.log(1), 3 s limit: ended after ${e.tookMs} ms, longest host stall ${e.stallMs} ms`)
    assert.match(e.status, /the time limit/)
    assert.ok(e.tookMs < 4000, `ended after ${e.tookMs} ms`)
    assert.ok(e.stallMs < allowed, `the host stalled ${e.stallMs} ms`)
    await endless.p.close()
  })

  it('Stop, from the keyboard, ends a preview that never finishes loading', async () => {
    const { p } = await open('html-stop')
    await p.locator('session-runner').getByRole('button', { name: /^Run / }).click()
    const stop = p.locator('session-runner').getByRole('button', { name: 'Stop' })
    await stop.waitFor({ timeout: 10_000 })
    await p.waitForTimeout(500)
    await stop.focus()
    const t0 = Date.now()
    await p.keyboard.press('Enter')
    await p.locator('session-runner [part=status]', { hasText: 'Stopped.' }).waitFor({ timeout: 5_000 })
    assert.ok(Date.now() - t0 < 1000, `stopped after ${Date.now() - t0} ms`)
    await p.close()
  })
})
