import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { rollup, type Plugin } from 'rollup'
import commonjsPlugin from '@rollup/plugin-commonjs'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import { launch, watch } from './browser.js'

// (its CommonJS typings do not describe the default export under NodeNext)
const commonjs = commonjsPlugin as unknown as (opts?: object) => Plugin
const here = fileURLToPath(new URL('.', import.meta.url))
const elementsAssets = fileURLToPath(new URL('../../packages/elements/assets/', import.meta.url))

describe('@session-kit/react in a bundled React app', () => {
  const out = mkdtempSync(join(tmpdir(), 'session-kit-react-'))
  after(() => rmSync(out, { recursive: true, force: true }))

  it('sets props on the elements, and their events reach onSession… props', async () => {
    const bundle = await rollup({
      input: join(here, 'react-app/main.mjs'),
      plugins: [
        { name: 'node-env', transform: (code) => (code.includes('process.env.NODE_ENV') ? code.replaceAll('process.env.NODE_ENV', '"production"') : null) },
        nodeResolve({ browser: true, exportConditions: ['browser', 'import', 'default'] }),
        commonjs(),
      ],
      onwarn: () => {},
    })
    await bundle.write({ dir: out, format: 'es' })
    await bundle.close()
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      try {
        if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html lang="en"><head><title>React app</title><script type="module" src="/app/main.js"></script></head><body><div id="app"></div></body></html>')
        if (path.startsWith('/static/')) return res.writeHead(200, { 'content-type': 'text/html' }).end(readFileSync(join(elementsAssets, path.slice(8))))
        if (path.startsWith('/app/')) return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(out, path.slice(5))))
      } catch {}
      res.writeHead(404).end()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const browser = await launch()
    try {
      const page = await browser.newPage()
      const problems = await watch(page)
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      await page.locator('session-editor .cm-content', { hasText: '6 * 7' }).waitFor({ timeout: 15_000 })
      assert.equal(await page.locator('session-runner').evaluate((r) => (r as unknown as { timeout: number }).timeout), 2000, 'a number prop set as a property')
      await page.locator('session-runner').getByRole('button', { name: /^Run / }).click()
      await page.locator('session-runner [part~=output]', { hasText: '42' }).waitFor({ timeout: 10_000 })
      await page.locator('#runs', { hasText: 'Runs seen by React: ok' }).waitFor({ timeout: 5_000 })
      assert.equal(await page.locator('session-gate').isVisible(), false, 'the gate stays closed outside a room')
      assert.deepEqual(problems, [])
    } finally {
      await browser.close()
      await new Promise((r) => server.close(r))
    }
  })
})
