import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { createServer, mintToken, type SessionKitServer } from '@session-kit/server'
import { freshDataDir, removeDir, TEST_API_KEY, TEST_SECRET } from '@session-kit/server/testing'
import type { Browser } from 'playwright-core'
import { PAGE_BUDGETS } from '../../scripts/size.mjs'
import { hostPageServer, launch, watch } from './browser.js'

// The CDN's session-kit.js loads each element only when its tag is on the page.
describe('the CDN bundle (one script tag)', () => {
  let server: SessionKitServer
  let host: Awaited<ReturnType<typeof hostPageServer>>
  let browser: Browser
  let dataDir: string
  const sid = 'cdn-room'
  let token: string

  before(async () => {
    dataDir = await freshDataDir()
    server = await createServer({ port: 0, host: '127.0.0.1', dataDir, env: { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY }, log: () => {} })
    await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: sid, title: 'CDN', ownerId: 'ins' }) })
    token = await mintToken({ sid, role: 'instructor', sub: 'ins', name: 'Ada' }, TEST_SECRET)
    const page = (body: string) => () =>
      `<!doctype html><html lang="en"><head><title>Course page</title><script type="module" src="/cdn/session-kit.js"></script></head><body><main>${body}</main></body></html>`
    host = await hostPageServer({
      '/invitations': page(`<session-room server="${server.url}" session="${sid}" token="${token}"><session-invitations></session-invitations></session-room>`),
      '/later': page(`<div id="slot"></div>`),
      '/editor': page(`<session-room server="${server.url}" session="${sid}" token="${token}"><session-editor file="main.js"></session-editor></session-room>`),
    })
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
    await host?.close()
    await server?.close()
    removeDir(dataDir)
  })

  it('a page with only <session-invitations> loads neither the editor nor Automerge, and stays within its budget of gzipped JS (npm run size)', async () => {
    const page = await browser.newPage()
    const problems = await watch(page)
    const loaded: { url: string; gzip: number }[] = []
    page.on('response', async (res) => {
      const url = res.url()
      if (!url.includes('/cdn/')) return
      const body = await res.body().catch(() => Buffer.alloc(0))
      loaded.push({ url, gzip: gzipSync(body, { level: 9 }).length })
    })
    await page.goto(host.url + '/invitations')
    await page.locator('session-invitations').getByRole('button', { name: 'Invite' }).waitFor({ timeout: 15_000 })
    await page.waitForLoadState('networkidle')
    const js = loaded.filter((l) => l.url.endsWith('.js'))
    assert.ok(js.some((l) => /session-invitations-/.test(l.url)), 'the invitations chunk was loaded')
    assert.deepEqual(loaded.filter((l) => /\.wasm$|editor-view-|languages-|session-editor-/.test(l.url)).map((l) => l.url), [], 'no editor, CodeMirror or Automerge')
    const total = js.reduce((s, l) => s + l.gzip, 0)
    const budget = PAGE_BUDGETS.find((p) => p.page.startsWith('only <session-invitations>'))!.budget
    assert.ok(total < budget, `downloaded ${(total / 1024).toFixed(1)} kB of gzipped JS, over ${(budget / 1024).toFixed(1)} kB`)
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('an element added later, by script, is loaded and upgraded when it arrives', async () => {
    const page = await browser.newPage()
    const problems = await watch(page)
    await page.goto(host.url + '/later')
    assert.equal(await page.evaluate(() => customElements.get('session-gate') === undefined), true, 'nothing registered for tags not on the page')
    await page.evaluate(() => {
      const gate = document.createElement('session-gate')
      gate.setAttribute('roles', 'instructor')
      gate.textContent = 'for instructors'
      document.querySelector('#slot')!.append(gate)
    })
    await page.waitForFunction(() => customElements.get('session-gate') !== undefined && document.querySelector('session-gate')!.shadowRoot !== null, null, { timeout: 10_000 })
    assert.equal(await page.evaluate(() => customElements.get('session-room') === undefined), true, 'still only what the page uses')
    assert.deepEqual(problems, [])
    await page.close()
  })

  it('an editor under the strict policy keeps its document in a worker started from the bundle', async () => {
    const page = await browser.newPage()
    const problems = await watch(page)
    const warnings: string[] = []
    page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()))
    const workers: string[] = []
    page.on('worker', (w) => workers.push(w.url()))
    await page.goto(host.url + '/editor')
    const editor = page.locator('session-editor')
    await editor.locator('.editor.live').waitFor({ timeout: 15_000 })
    await editor.locator('.cm-content').click()
    await page.keyboard.type('let x = 1')
    await page.waitForFunction(() => (document.querySelector('session-editor') as unknown as { value: string }).value.includes('let x = 1'))
    const doc = async () => ((await (await fetch(`${server.url}/v1/sessions/${sid}/document`, { headers: { authorization: `Bearer ${token}` } })).json()) as { files: Record<string, string> }).files['main.js']
    for (let i = 0; i < 50 && !(await doc())?.includes('let x = 1'); i++) await new Promise((r) => setTimeout(r, 100))
    assert.ok((await doc())?.includes('let x = 1'), 'the typing reached the server')
    assert.ok(workers.some((u) => /\/cdn\/chunks\/doc-worker-[\w-]+\.js$/.test(u)), `the document worker ran (workers: ${workers.join(', ') || 'none'})`)
    assert.deepEqual(warnings.filter((w) => /main thread/.test(w)), [], 'no fallback to the main thread')
    assert.deepEqual(problems, [])
    await page.close()
  })
})
