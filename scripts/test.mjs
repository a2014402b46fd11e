#!/usr/bin/env node
// Runs every test: the node:test suites (core; server on PGlite, or on PostgreSQL when DATABASE_URL
// is set, with the store's own tests on both; end-to-end in Chromium) and the browser suite
// (web-test-runner in Chromium).
// Prints a final "N passed, N failed" line and exits non-zero on any failure.
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const only = process.argv.slice(2)

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) find(p, out)
    else if (name.endsWith('.test.ts')) out.push(relative(root, p))
  }
  return out
}

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    let output = ''
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (d) => {
        output += d
        process.stdout.write(d)
      })
    }
    child.on('close', (code) => resolve({ code, output }))
  })
}

const nodeFiles = [...find(join(root, 'packages/core/src')), ...find(join(root, 'packages/server/src')), ...find(join(root, 'test'))].filter(
  (f) => !only.length || only.some((o) => f.includes(o)),
)
const results = []

if (!only.length) {
  console.log('== typecheck (sources and tests)\n')
  const configs = ['packages/core/tsconfig.test.json', 'packages/server/tsconfig.test.json', 'packages/elements/tsconfig.test.json', 'test/tsconfig.json']
  let t0 = Date.now()
  let bad = 0
  for (const c of configs) if ((await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', c])).code) bad++
  results.push({ suite: 'typecheck', passed: configs.length - bad, failed: bad, skipped: 0, seconds: (Date.now() - t0) / 1000 })
  console.log('\n== size budgets of the CDN build (npm run size)\n')
  t0 = Date.now()
  const size = await run(process.execPath, [join(root, 'scripts/size.mjs')])
  results.push({ suite: 'size', passed: size.code ? 0 : 1, failed: size.code ? 1 : 0, skipped: 0, seconds: (Date.now() - t0) / 1000 })
  console.log('\n== docs build (npm run docs: typedoc with warnings as errors, element reference)\n')
  t0 = Date.now()
  const docs = await run('npm', ['run', 'docs', '--silent'])
  results.push({ suite: 'docs', passed: docs.code ? 0 : 1, failed: docs.code ? 1 : 0, skipped: 0, seconds: (Date.now() - t0) / 1000 })
}

/*
 * Two test files run at once (this machine's two cores), except those that measure time or load
 * the machine on purpose — a deadline, a flood, an event loop's lag, ten thousand connections, a
 * browser timing a runaway program: they run afterwards, one at a time, with nothing beside them.
 */
const ALONE = [/sync\/memory\./, /sync\/flood\./, /runs\/engine\./, /routes\/runs\./, /e2e\/runner\./]
const alone = nodeFiles.filter((f) => ALONE.some((r) => r.test(f)))
const shared = nodeFiles.filter((f) => !alone.includes(f))
console.log(`\n== node:test — ${nodeFiles.length} files${process.env.DATABASE_URL ? ' (server on PostgreSQL; the store\'s own tests on PGlite too)' : ' (PGlite; set DATABASE_URL to run the server on PostgreSQL)'}\n`)
const nodeArgs = ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=300000']
for (const [files, concurrency] of [[shared, 2], [alone, 1]]) {
  if (!files.length) continue
  const t0 = Date.now()
  const node = await run(process.execPath, [...nodeArgs, `--test-concurrency=${concurrency}`, ...files])
  const count = (label) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(node.output)?.[1] ?? 0)
  const suite = concurrency > 1 ? 'node' : 'node (one at a time)'
  results.push({ suite, passed: count('pass'), failed: count('fail') + (node.code && !count('fail') ? 1 : 0), skipped: count('skipped'), seconds: (Date.now() - t0) / 1000 })
}

if (!only.length || only.includes('browser')) {
  console.log('\n== browser (web-test-runner, Chromium)\n')
  const t0 = Date.now()
  const wtr = await run(process.execPath, [join(root, 'node_modules/@web/test-runner/dist/bin.js'), '--config', 'web-test-runner.config.mjs'])
  const m = [...wtr.output.matchAll(/(\d+) passed, (\d+) failed/g)].pop()
  results.push({ suite: 'browser', passed: Number(m?.[1] ?? 0), failed: Number(m?.[2] ?? 0) + (wtr.code && !Number(m?.[2] ?? 0) ? 1 : 0), skipped: 0, seconds: (Date.now() - t0) / 1000 })
}

console.log('\n== summary')
for (const r of results) console.log(`${r.suite}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''} (${Math.round(r.seconds)} s)`)
const passed = results.reduce((n, r) => n + r.passed, 0)
const failed = results.reduce((n, r) => n + r.failed, 0)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
