import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createServer, mintToken } from '@session-kit/server'
import { freshDataDir, removeDir, TEST_API_KEY, TEST_SECRET } from '@session-kit/server/testing'
import { editorValue, hostPageServer, launch } from './browser.js'

describe('edits made offline', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  after(async () => {
    for (const c of cleanups.reverse()) await c()
  })

  it('survive a page reload and reach the server when it is back', async () => {
    const dataDir = await freshDataDir()
    cleanups.push(() => removeDir(dataDir))
    const env = { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY }
    const start = (port = 0) => createServer({ port, host: '127.0.0.1', dataDir, env, log: () => {} })
    let server = await start()
    const port = server.port
    cleanups.push(() => server.close())
    const sid = 'offline-room'
    await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: sid, title: 'Offline', ownerId: 'ins', files: { 'main.js': 'let a = 1\n' } }) })
    const token = await mintToken({ sid, role: 'learner', sub: 'lea', name: 'Lea' }, TEST_SECRET)
    const host = await hostPageServer({
      '/': () => `<!doctype html><html lang="en"><head><title>Course page</title><script type="module" src="/cdn/session-kit.js"></script></head>
        <body><main><session-room server="${server.url}" session="${sid}" token="${token}"><session-editor file="main.js"></session-editor></session-room></main></body></html>`,
    })
    cleanups.push(() => host.close())
    const browser = await launch()
    cleanups.push(() => browser.close())
    const page = await browser.newPage()
    await page.goto(host.url + '/')
    const editor = page.locator('session-editor')
    await editor.locator('.editor.live').waitFor({ timeout: 15_000 })

    await server.close()
    await page.locator('session-editor [part=banner]').filter({ hasText: 'Offline' }).waitFor({ timeout: 10_000 })
    await editor.locator('.cm-content').click()
    await page.keyboard.press('Control+End')
    await page.keyboard.type('let typedOffline = true\n')
    assert.match(await editorValue(editor), /typedOffline/)
    // A person reloads a moment after typing, not within the same millisecond.
    await page.waitForTimeout(150)
    await page.reload()
    await page.waitForTimeout(500)
    server = await start(port)
    await page.waitForFunction(async ([url, id, tok]) => {
      const r = await fetch(`${url}/v1/sessions/${id}/document`, { headers: { authorization: `Bearer ${tok}` } })
      return r.ok && (await r.json()).files['main.js'].includes('typedOffline')
    }, [server.url, sid, token] as const, { timeout: 20_000, polling: 250 })
    await editor.locator('.editor.live').waitFor({ timeout: 10_000 })
    assert.equal(await editorValue(editor), 'let a = 1\nlet typedOffline = true\n')
  })
})
