#!/usr/bin/env node
// npm run size: the gzip size of every chunk of the CDN build, and of what a page downloads for a
// given set of elements (the entry, the elements' chunks and everything they import statically —
// lazy chunks such as the editor's CodeMirror or Automerge's wasm load only when used). Fails when
// a budget is exceeded. Run after `npm run build`.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const root = fileURLToPath(new URL('..', import.meta.url))
const cdn = join(root, 'packages/elements/dist/cdn')
const KB = 1024

/** What a page downloads before anything is used, per set of elements on it (gzip, bytes). */
const PAGE_BUDGETS = [
  { page: 'only <session-invitations> (in its room)', tags: ['session-room', 'session-invitations'], budget: 25 * KB },
  { page: 'a room with an editor', tags: ['session-room', 'session-editor'], budget: 60 * KB },
  { page: 'a local playground (editor and runner, no server)', tags: ['session-editor', 'session-runner'], budget: 60 * KB },
  { page: 'every element', tags: null, budget: 120 * KB },
]
/** Any single chunk, and the Automerge wasm (fetched by URL where an editor joins a room). */
const CHUNK_BUDGET = 160 * KB
const WASM_BUDGET = 1200 * KB

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

let all
try {
  all = files(cdn)
} catch {
  console.error('No CDN build in packages/elements/dist/cdn: run `npm run build` first.')
  process.exit(2)
}
const js = all.filter((f) => f.endsWith('.js'))
const gz = (f) => gzipSync(readFileSync(f), { level: 9 }).length
const size = new Map(js.map((f) => [f, gz(f)]))

/** Static and dynamic imports of a built chunk (relative specifiers only). */
function imports(file) {
  const code = readFileSync(file, 'utf8')
  const dir = join(file, '..')
  const resolve = (s) => join(dir, s)
  const statics = [...code.matchAll(/(?:^|[;\s}])(?:import|export)\s*(?:[\w${},*\s]+from\s*)?["'](\.{1,2}\/[^"']+)["']/g)].map((m) => resolve(m[1]))
  const dynamics = [...code.matchAll(/import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g)].map((m) => resolve(m[1]))
  return { statics, dynamics }
}

function closure(start) {
  const seen = new Set()
  const stack = [...start]
  while (stack.length) {
    const f = stack.pop()
    if (seen.has(f)) continue
    seen.add(f)
    stack.push(...imports(f).statics)
  }
  return seen
}

const entry = join(cdn, 'session-kit.js')
// Which chunk registers each tag: the one built from `define/<tag>.js` (from its source map).
const tagChunks = new Map()
for (const f of js) {
  let sources = []
  try {
    sources = JSON.parse(readFileSync(f + '.map', 'utf8')).sources
  } catch {}
  for (const s of sources) {
    const m = /define\/(session-[a-z-]+)\.js$/.exec(s)
    if (m) tagChunks.set(m[1], f)
  }
}

let failed = 0
const kb = (n) => (n / KB).toFixed(1).padStart(7) + ' kB'

console.log('Chunks (gzip -9):')
for (const [f, n] of [...size].sort((a, b) => b[1] - a[1])) {
  const over = n > CHUNK_BUDGET
  if (over) failed++
  console.log(`  ${kb(n)}  ${relative(cdn, f)}${over ? `  OVER the ${CHUNK_BUDGET / KB} kB chunk budget` : ''}`)
}
for (const f of all.filter((x) => x.endsWith('.wasm'))) {
  const n = gz(f)
  const over = n > WASM_BUDGET
  if (over) failed++
  console.log(`  ${kb(n)}  ${relative(cdn, f)} (fetched by URL where an editor joins a room)${over ? `  OVER the ${WASM_BUDGET / KB} kB budget` : ''}`)
}

console.log('\nWhat a page downloads up front (entry + its elements + their static imports):')
for (const { page, tags, budget } of PAGE_BUDGETS) {
  const wanted = tags ?? [...tagChunks.keys()]
  const missing = wanted.filter((t) => !tagChunks.has(t))
  if (missing.length) {
    console.log(`  ${page}: no chunk for ${missing.join(', ')}`)
    failed++
    continue
  }
  const set = closure([entry, ...wanted.map((t) => tagChunks.get(t))])
  const total = [...set].reduce((s, f) => s + size.get(f), 0)
  const ok = total <= budget
  if (!ok) failed++
  console.log(`  ${kb(total)} of ${(budget / KB).toFixed(0)} kB  ${ok ? 'ok  ' : 'OVER'}  ${page} (${set.size} files)`)
}

if (failed) {
  console.error(`\n${failed} budget(s) exceeded.`)
  process.exit(1)
}
console.log('\nAll budgets met.')
