import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { hostPageServer, launch } from './e2e/browser.js'
import { addedLines, missingLines, patchFile } from '../scripts/vendor-postgres.mjs'
import { mintToken } from '../packages/server/src/auth/tokens.js'
import { freshPostgres } from '../packages/server/src/testing/db.js'
import { Gate } from '../packages/server/src/testing/gate.js'
import { ReconnectingClient } from '../packages/server/src/testing/reconnecting-client.js'
// The browser's own reconnect policy: what a person's tab does when the server goes away.
import { backoffDelay } from '../packages/elements/src/internal/backoff.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['core', 'server', 'elements']
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 })

type Exports = Record<string, string | Record<string, string>>

/** Every file an exports (or imports) map names (conditions flattened). */
function exportTargets(exports: Exports): string[] {
  return Object.values(exports).flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v))).map((p) => p.replace(/^\.\//, ''))
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
}

async function poll(pred: () => boolean | Promise<boolean>, ms: number, every = 50): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await pred()) return true
    await new Promise((r) => setTimeout(r, every))
  }
  return pred()
}

describe('the npm packages', () => {
  const temp = mkdtempSync(join(tmpdir(), 'session-kit-pack-'))
  after(() => rmSync(temp, { recursive: true, force: true }))

  let installed = false
  /** Pack the packages and install the tarballs into a fresh project in `temp` (once). */
  function install() {
    if (installed) return
    const tarballs = PACKAGES.map((name) => join(temp, JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', temp], join(root, 'packages', name)))[0].filename))
    writeFileSync(join(temp, 'package.json'), JSON.stringify({ name: 'fresh-host', private: true, type: 'module' }))
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs], temp)
    installed = true
  }

  it('contain what their exports map names and nothing from the tests', () => {
    for (const name of [...PACKAGES, 'react']) {
      const dir = join(root, 'packages', name)
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: Exports; imports?: Exports }
      const [packed] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], dir)) as { files: { path: string }[] }[]
      const files = new Set(packed!.files.map((f) => f.path))
      for (const target of [...exportTargets(pkg.exports), ...exportTargets(pkg.imports ?? {})]) assert.ok(files.has(target), `${name}: the exports or imports map names ${target}, which is not in the package`)
      // vendor/: a copy of another project's package as it runs (the server's postgres.js), src/ and all.
      const strays = [...files].filter((f) => /\.test\.|test-support|(^|\/)src\//.test(f) && !f.startsWith('vendor/'))
      assert.deepEqual(strays, [], `${name}: no tests or sources in the package`)
    }
  })

  it('install from their tarballs into a fresh project, which starts a server and renders an element', async () => {
    install()

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

  // postgres.js 3.4.9 ends the process when PostgreSQL goes away at the wrong moment; this
  // repository patches it (patches/), and npm would not apply that patch for a host.
  it('install a server whose PostgreSQL client is postgres.js as patched here, not the release from npm', () => {
    install()
    const server = join(temp, 'node_modules/@session-kit/server')
    const pkg = JSON.parse(readFileSync(join(server, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; imports: Record<string, { default: string }> }
    assert.equal(pkg.dependencies?.postgres, undefined, 'the server does not depend on the postgres package')
    assert.ok(!existsSync(join(temp, 'node_modules/postgres')), 'nothing installed postgres.js from npm')
    // Every import of the driver in the code that runs goes through the package's "#postgres"…
    const js = files(join(server, 'dist')).filter((f) => f.endsWith('.js'))
    const bare = js.filter((f) => /^\s*(import|export)\b[^;]*?\bfrom\s*['"]postgres['"]|\bimport\(\s*['"]postgres['"]\s*\)/m.test(readFileSync(f, 'utf8')))
    assert.deepEqual(bare, [], 'modules that import the postgres package')
    assert.match(readFileSync(join(server, 'dist/store/db.js'), 'utf8'), /from '#postgres'/)
    // …which is the copy shipped with it, carrying every line the patch adds.
    const entry = join(server, pkg.imports['#postgres']!.default)
    const marks = [...addedLines(readFileSync(patchFile(root), 'utf8'))].filter(([file]) => file.startsWith('src/'))
    assert.ok(marks.length > 0)
    for (const [file, lines] of marks) assert.deepEqual(missingLines(readFileSync(join(dirname(entry), '..', file), 'utf8'), lines), [], `the installed server's ${file} lacks lines of the patch`)
    assert.ok(existsSync(join(server, 'vendor/postgres/LICENSE')), "postgres.js's licence is shipped beside it")
  })

  it('install a server that lives through its link to PostgreSQL dropping, again and again, while people type', async (t) => {
    const base = process.env.DATABASE_URL
    if (!base) return t.skip('needs PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)')
    // The gate forwards to this machine.
    if (!['127.0.0.1', 'localhost'].includes(new URL(base).hostname)) return t.skip(`needs PostgreSQL on this machine; DATABASE_URL points at ${new URL(base).hostname}`)
    install()
    const SECRET = 'x'.repeat(32)
    const KEY = 'k'
    // The server as a host's Node app runs it, on PostgreSQL reached through a link the test cuts.
    writeFileSync(
      join(temp, 'serve.mjs'),
      `import { createServer } from '@session-kit/server'
const s = await createServer({ port: 0, host: '127.0.0.1', dataDir: process.argv[2], databaseUrl: process.argv[3], env: { SESSION_KIT_SECRET: ${JSON.stringify(SECRET)}, SESSION_KIT_API_KEY: ${JSON.stringify(KEY)}, SESSION_KIT_NEW_CONNECTIONS_PER_IP: '0' } })
console.log('URL ' + s.url)`,
    )
    const pg = await freshPostgres()
    const url = new URL(pg.url)
    const gate = new Gate(Number(url.port || 5432))
    await gate.ready
    url.hostname = '127.0.0.1'
    url.port = new URL(gate.url).port
    const child = spawn(process.execPath, ['serve.mjs', join(temp, 'data-pg'), url.toString()], { cwd: temp, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8000))
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const alive = () => child.exitCode === null && child.signalCode === null
    const clients: ReconnectingClient[] = []
    let typing = false
    let loops: Promise<void>[] = []
    try {
      assert.ok(await poll(() => /URL (\S+)/.test(output) || !alive(), 60_000), 'the server did not start')
      assert.ok(alive(), `the server exited at start:\n${output}`)
      const server = /URL (\S+)/.exec(output)![1]!
      const health = async () => {
        try {
          return (await fetch(`${server}/healthz`, { signal: AbortSignal.timeout(5_000) })).status
        } catch {
          return 0
        }
      }
      /** Create a session; just after PostgreSQL is back a pooled connection from before may fail once: a 503 to try again. */
      const createSession = async (id: string) => {
        let status = 0
        for (let i = 0; i < 20 && status !== 201; i++) {
          if (i) await new Promise((r) => setTimeout(r, 250))
          const res = await fetch(`${server}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ id, title: id, language: 'javascript', ownerId: 'teacher' }) })
          status = res.status
          if (status !== 503) assert.equal(status, 201, await res.text())
        }
        assert.equal(status, 201)
      }
      const sid = 'through-the-outage'
      await createSession(sid)

      // Ten people typing fast: transactions are under way whenever the link drops. This test is
      // about the process, so someone the room refuses for good is replaced by a newcomer (and
      // counted), to keep the traffic up.
      const token = (user: string) => mintToken({ sid, role: 'learner', sub: user, name: user }, SECRET, { ttl: '1h' })
      const refusals: string[] = []
      for (let i = 0; i < 10; i++) clients.push(new ReconnectingClient(server, sid, await token(`typist-${i}`), { backoff: backoffDelay }))
      assert.ok(await poll(() => clients.every((c) => c.live && c.synced), 30_000), 'the clients did not all join')
      const typists = [...clients]
      typing = true
      loops = typists.map(async (_, i) => {
        for (let n = 0; typing; n++) {
          if (typists[i]!.failed) {
            refusals.push(typists[i]!.failed!.reason)
            typists[i]!.stop()
            clients.push((typists[i] = new ReconnectingClient(server, sid, await token(`typist-${i}-${n}`), { backoff: backoffDelay })))
          }
          typists[i]!.type('main.js', String.fromCharCode(97 + ((i + n) % 26)))
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 20))
        }
      })
      const acked = () => clients.reduce((n, c) => n + c.acked.size, 0)

      // Each cut lands at a random moment of that traffic; a few of them reach the driver's bad timings.
      for (let cut = 1; cut <= 8; cut++) {
        const from = acked()
        assert.ok(await poll(() => acked() >= from + 20, 30_000), `cut ${cut}: edits were not acknowledged before the link dropped (${acked() - from})`)
        gate.shut()
        let status = 0
        assert.ok(await poll(async () => !alive() || (status = await health()) === 503, 30_000), `cut ${cut}: /healthz answered ${status || 'nothing'} while the database was unreachable`)
        assert.ok(alive(), `cut ${cut}: the server exited when its link to PostgreSQL dropped:\n${output}`)
        await new Promise((r) => setTimeout(r, 250))
        gate.open()
        assert.ok(await poll(async () => !alive() || (await health()) === 200, 30_000), `cut ${cut}: the server did not become healthy again`)
        assert.ok(alive(), `cut ${cut}: the server exited when PostgreSQL came back:\n${output}`)
      }

      // It works as before: edits are saved, someone new joins and is saved, an API write succeeds.
      const from = acked()
      assert.ok(await poll(() => acked() >= from + 20, 30_000), `edits were not acknowledged after the outages (${acked() - from})`)
      const late = new ReconnectingClient(server, sid, await token('latecomer'), { backoff: backoffDelay })
      clients.push(late)
      assert.ok(await poll(() => late.live && late.synced, 30_000), `a newcomer could not join: ${JSON.stringify(late.closes.slice(-2))}`)
      const edit = late.type('main.js', '!')
      assert.ok(await poll(() => late.acked.has(edit), 30_000), "a newcomer's edit was not acknowledged")
      await createSession('after-the-outage')
      assert.ok(alive(), `the server exited:\n${output}`)
      if (refusals.length) t.diagnostic(`${refusals.length} typists were refused for good and replaced: ${[...new Set(refusals)].join('; ')}`)
    } finally {
      typing = false
      await Promise.all(loops)
      for (const c of clients) c.stop()
      child.kill('SIGKILL')
      await exited
      await gate.close()
      await pg.drop()
    }
  })
})
