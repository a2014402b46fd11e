import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { hostPageServer, launch } from './e2e/browser.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['core', 'server', 'elements']
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 })

type Exports = Record<string, string | Record<string, string>>

/** Every file an exports map names (conditions flattened). */
function exportTargets(exports: Exports): string[] {
  return Object.values(exports).flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v))).map((p) => p.replace(/^\.\//, ''))
}

describe('the npm packages', () => {
  const temp = mkdtempSync(join(tmpdir(), 'session-kit-pack-'))
  after(() => rmSync(temp, { recursive: true, force: true }))

  it('contain what their exports map names and nothing from the tests', () => {
    for (const name of [...PACKAGES, 'react']) {
      const dir = join(root, 'packages', name)
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: Exports }
      const [packed] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], dir)) as { files: { path: string }[] }[]
      const files = new Set(packed!.files.map((f) => f.path))
      for (const target of exportTargets(pkg.exports)) assert.ok(files.has(target), `${name}: the exports map names ${target}, which is not in the package`)
      const strays = [...files].filter((f) => /\.test\.|test-support|(^|\/)src\//.test(f))
      assert.deepEqual(strays, [], `${name}: no tests or sources in the package`)
    }
  })

  it('install from their tarballs into a fresh project, which starts a server and renders an element', async () => {
    const tarballs = PACKAGES.map((name) => join(temp, JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', temp], join(root, 'packages', name)))[0].filename))
    writeFileSync(join(temp, 'package.json'), JSON.stringify({ name: 'fresh-host', private: true, type: 'module' }))
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs], temp)

    // The server, as a host's Node app embeds it.
    writeFileSync(
      join(temp, 'start.mjs'),
      `import { createServer } from '@session-kit/server'
const s = await createServer({ port: 0, host: '127.0.0.1', dataDir: process.argv[2], env: { SESSION_KIT_SECRET: 'x'.repeat(32), SESSION_KIT_API_KEY: 'k' }, log: () => {} })
const health = await (await fetch(s.url + '/healthz')).json()
await s.close()
console.log(JSON.stringify(health))`,
    )
    const health = JSON.parse(execFileSync(process.execPath, ['start.mjs', join(temp, 'data')], { cwd: temp, encoding: 'utf8', timeout: 120_000 }).trim().split('\n').pop()!)
    assert.deepEqual(health, { ok: true, db: 'pglite' })

    // The elements, from the installed package's CDN build: a local playground renders and runs.
    const cdn = join(temp, 'node_modules/@session-kit/elements/dist/cdn')
    const host = await hostPageServer({ '/': () => `<!doctype html><html lang="en"><head><title>Fresh</title><script type="module" src="/cdn/session-kit.js"></script></head><body><session-editor id="e" language="javascript">console.log('from the tarball')</session-editor></body></html>` }, cdn)
    const browser = await launch()
    try {
      const page = await browser.newPage()
      await page.goto(host.url + '/')
      await page.locator('session-editor .cm-content').waitFor({ timeout: 15_000 })
      assert.match((await page.locator('session-editor .cm-content').textContent()) ?? '', /from the tarball/)
    } finally {
      await browser.close()
      await host.close()
    }
  })
})
