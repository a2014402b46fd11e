#!/usr/bin/env node
// Runs every test: the node:test suites (core, server on PGlite and — when DATABASE_URL is set —
// PostgreSQL, end-to-end in Chromium) and the browser suite (web-test-runner in Chromium).
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
  let bad = 0
  for (const c of configs) if ((await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', c])).code) bad++
  results.push({ suite: 'typecheck', passed: configs.length - bad, failed: bad, skipped: 0 })
  console.log('\n== size budgets of the CDN build (npm run size)\n')
  const size = await run(process.execPath, [join(root, 'scripts/size.mjs')])
  results.push({ suite: 'size', passed: size.code ? 0 : 1, failed: size.code ? 1 : 0, skipped: 0 })
  console.log('\n== docs build (npm run docs: typedoc with warnings as errors, element reference)\n')
  const docs = await run('npm', ['run', 'docs', '--silent'])
  results.push({ suite: 'docs', passed: docs.code ? 0 : 1, failed: docs.code ? 1 : 0, skipped: 0 })
}

console.log(`\n== node:test — ${nodeFiles.length} files${process.env.DATABASE_URL ? ' (PGlite and PostgreSQL)' : ' (PGlite; set DATABASE_URL to also run against PostgreSQL)'}\n`)
const node = await run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=300000', ...nodeFiles])
const count = (label) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(node.output)?.[1] ?? 0)
results.push({ suite: 'node', passed: count('pass'), failed: count('fail') + (node.code && !count('fail') ? 1 : 0), skipped: count('skipped') })

if (!only.length || only.includes('browser')) {
  console.log('\n== browser (web-test-runner, Chromium)\n')
  const wtr = await run(process.execPath, [join(root, 'node_modules/@web/test-runner/dist/bin.js'), '--config', 'web-test-runner.config.mjs'])
  const m = [...wtr.output.matchAll(/(\d+) passed, (\d+) failed/g)].pop()
  results.push({ suite: 'browser', passed: Number(m?.[1] ?? 0), failed: Number(m?.[2] ?? 0) + (wtr.code && !Number(m?.[2] ?? 0) ? 1 : 0), skipped: 0 })
}

console.log('\n== summary')
for (const r of results) console.log(`${r.suite}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`)
const passed = results.reduce((n, r) => n + r.passed, 0)
const failed = results.reduce((n, r) => n + r.failed, 0)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
