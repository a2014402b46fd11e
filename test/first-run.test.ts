import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { buildNeeded, recordBuild } from '../scripts/build-if-changed.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string }; scripts: Record<string, string> }

describe('the first run: npm install && npm start', () => {
  it('every package npm installs supports the oldest Node the README allows (no EBADENGINE warnings)', () => {
    const semver = createRequire(import.meta.url)('semver') as { minVersion(range: string): { version: string }; satisfies(v: string, range: string): boolean }
    const oldest = semver.minVersion(pkg.engines.node).version
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> }
    const refused = Object.entries(lock.packages)
      .filter(([, p]) => p.engines && !Array.isArray(p.engines) && p.engines.node && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version} wants Node ${(p.engines as { node: string }).node}`)
    assert.deepEqual(refused, [], `Node ${oldest} (package.json engines) is refused by`)
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    assert.match(readme, new RegExp(`Node ${oldest.replace(/\.0$/, '').replaceAll('.', '\\.')}`), 'the README names the same Node version')
  })

  it('every dependency with an install script is reviewed in allowScripts (npm install prints no list to review)', (t) => {
    let listed: string
    try {
      listed = execFileSync('npm', ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    } catch {
      return t.skip('this npm has no install-scripts command')
    }
    assert.match(listed, /No packages with unreviewed install scripts/, listed)
  })

  it('npm start and npm test build only when something the build reads changed since the last build', () => {
    assert.doesNotMatch(pkg.scripts.start!, /npm run build/, 'start does not build unconditionally')
    assert.match(pkg.scripts.start!, /^node scripts\/build-if-changed\.mjs && /)
    assert.match(pkg.scripts.build!, /node scripts\/build-if-changed\.mjs --done$/, 'a complete build (install runs it) is recorded')
    // npm install has just built everything (CI, a fresh clone): npm test does not build it again.
    assert.match(pkg.scripts.test!, /^node scripts\/build-if-changed\.mjs && /)

    const tree = mkdtempSync(join(tmpdir(), 'session-kit-build-'))
    after(() => rmSync(tree, { recursive: true, force: true }))
    const write = (path: string, when?: number) => {
      mkdirSync(dirname(join(tree, path)), { recursive: true })
      writeFileSync(join(tree, path), '')
      if (when) utimesSync(join(tree, path), when / 1000, when / 1000)
    }
    const past = Date.now() - 60_000
    for (const f of ['packages/core/src/index.ts', 'packages/server/src/cli.ts', 'packages/elements/src/session-room/session-room.ts', 'rollup.config.mjs']) write(f, past)
    for (const f of ['packages/core/dist/index.js', 'packages/server/dist/cli.js', 'packages/server/vendor/postgres/src/index.js', 'packages/elements/dist/index.js', 'packages/elements/dist/cdn/session-kit.js', 'packages/react/dist/index.js']) write(f)
    assert.equal(buildNeeded(tree), 'no complete build yet')
    recordBuild(tree)
    assert.equal(buildNeeded(tree), undefined, 'nothing changed since the build')
    write('packages/server/src/cli.test.ts', Date.now() + 5_000)
    assert.equal(buildNeeded(tree), undefined, 'a test is not part of the build')
    write('packages/elements/src/session-room/session-room.ts', Date.now() + 5_000)
    assert.equal(buildNeeded(tree), 'packages/elements/src/session-room/session-room.ts changed')
    recordBuild(tree)
    utimesSync(join(tree, 'node_modules/.cache/session-kit/build-done'), (Date.now() + 10_000) / 1000, (Date.now() + 10_000) / 1000)
    assert.equal(buildNeeded(tree), undefined)
    rmSync(join(tree, 'packages/server/dist/cli.js'))
    assert.equal(buildNeeded(tree), 'packages/server/dist/cli.js is missing')
  })
})
