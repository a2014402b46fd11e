#!/usr/bin/env node
// `npm start` builds only when something the build reads changed since the last complete
// `npm run build` (which `npm install` runs): the first start after install starts at once.
//
//   node scripts/build-if-changed.mjs          build if needed (runs `npm run build`)
//   node scripts/build-if-changed.mjs --done   record that a build just completed (end of `npm run build`)
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = ['core', 'server', 'elements', 'react']

/** Where a completed build is recorded: its modification time is when the build ended. */
export const stampFile = (root) => join(root, 'node_modules', '.cache', 'session-kit', 'build-done')

/** What the build reads: sources (not tests), configurations, the elements' assets and vendored code. */
function inputs(root) {
  const files = ['package.json', 'tsconfig.json', 'tsconfig.base.json', 'rollup.config.mjs', 'scripts/copy-wasm.mjs', 'scripts/vendor-postgres.mjs', 'packages/elements/custom-elements-manifest.config.mjs']
  for (const p of PACKAGES) {
    files.push(`packages/${p}/package.json`, `packages/${p}/tsconfig.json`)
    walk(root, `packages/${p}/src`, files)
  }
  walk(root, 'packages/elements/assets', files)
  walk(root, 'packages/elements/vendor', files)
  walk(root, 'patches', files)
  return files.filter((f) => !/\.test\.tsx?$/.test(f))
}

function walk(root, dir, out) {
  let names
  try {
    names = readdirSync(join(root, dir), { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of names) {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) walk(root, path, out)
    else out.push(path)
  }
}

/** What `npm start` runs from the build: without any of them there is nothing to start. */
const OUTPUTS = ['packages/core/dist/index.js', 'packages/server/dist/cli.js', 'packages/server/vendor/postgres/src/index.js', 'packages/elements/dist/index.js', 'packages/elements/dist/cdn/session-kit.js', 'packages/react/dist/index.js']

/**
 * Why the build must run, or undefined when its output is newer than everything it reads.
 * @param {string} root
 */
export function buildNeeded(root = ROOT) {
  const stamp = stampFile(root)
  if (!existsSync(stamp)) return 'no complete build yet'
  const missing = OUTPUTS.find((f) => !existsSync(join(root, f)))
  if (missing) return `${missing} is missing`
  const built = statSync(stamp).mtimeMs
  for (const f of inputs(root)) {
    let mtime
    try {
      mtime = statSync(join(root, f)).mtimeMs
    } catch {
      continue
    }
    if (mtime > built) return `${f} changed`
  }
  return undefined
}

export function recordBuild(root = ROOT) {
  const stamp = stampFile(root)
  mkdirSync(dirname(stamp), { recursive: true })
  writeFileSync(stamp, new Date().toISOString() + '\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--done')) {
    recordBuild()
  } else {
    const why = buildNeeded()
    if (!why) {
      console.log(`[session-kit] the build is up to date (npm run build builds again)`)
    } else {
      console.log(`[session-kit] building (${why})`)
      const npm = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' })
      process.exit(npm.status ?? 1)
    }
  }
}
