#!/usr/bin/env node
// npm run size: the gzip size of every chunk of the CDN build, and of what a page downloads for a
// given set of elements (the entry, the elements' chunks and everything they import statically —
// lazy chunks such as the editor's CodeMirror or Automerge's wasm load only when used). Fails when
// a budget is exceeded. Run after `npm run build`. `measureBundle()` is the same measure for the
// size benchmark (bench/size.mjs). SIZE_FILES=1 lists each page's files.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'

const root = fileURLToPath(new URL('..', import.meta.url))
export const CDN_DIR = join(root, 'packages/elements/dist/cdn')
const KB = 1024

/** What a page downloads before anything is used, per set of elements on it (gzip, bytes). */
export const PAGE_BUDGETS = [
  // 25 kB until keyboard and screen reader users got back the focus of a pressed button after every
  // panel action, a repeated announcement read again, and pressed toggles kept visible in forced
  // colours (0.2 kB).
  { page: 'only <session-invitations> (in its room)', tags: ['session-room', 'session-invitations'], budget: 25.5 * KB },
  { page: 'a room with an editor', tags: ['session-room', 'session-editor'], budget: 60 * KB },
  // The test harnesses (code-tests) load with the first run of tests, never up front.
  { page: 'a local playground (editor and runner, no server)', tags: ['session-editor', 'session-runner'], budget: 36 * KB },
  // The room, editor and runner of an assignment load once the learner's room is open.
  { page: "a learner's assignment (before their room opens)", tags: ['session-assignment'], budget: 24 * KB },
  // Tiles load the room's connection code once one is on screen; never the editor or Automerge.
  { page: "an instructor's classroom overview", tags: ['session-classroom'], budget: 26 * KB },
  { page: 'every element', tags: null, budget: 120 * KB },
]
/** Any single chunk, and the Automerge wasm (fetched by URL where an editor joins a room). */
export const CHUNK_BUDGET = 160 * KB
export const WASM_BUDGET = 1200 * KB
/** Python's runtime: Pyodide's files and ours, all fetched the first time Python runs on a page. */
export const PYTHON_BUDGET = 6800 * KB
const isPython = (f) => /^(pyodide|python)[-._]/.test(f.slice(f.lastIndexOf('/') + 1))

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? files(p) : [p]
  })
}

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

/**
 * Gzip (-9) sizes of the CDN build against the budgets: every chunk, the wasm, and what each kind
 * of page downloads up front. `built: false` when there is no build to measure.
 */
export function measureBundle(cdn = CDN_DIR) {
  let all
  try {
    all = files(cdn)
  } catch {
    return { built: false, cdn }
  }
  const js = all.filter((f) => f.endsWith('.js'))
  const gz = (f) => gzipSync(readFileSync(f), { level: 9 }).length
  const size = new Map(js.map((f) => [f, gz(f)]))
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
  const chunks = [...size]
    .sort((a, b) => b[1] - a[1])
    .map(([f, gzip]) => ({ file: relative(cdn, f), gzip, budget: CHUNK_BUDGET, ok: gzip <= CHUNK_BUDGET }))
  const wasm = all
    .filter((f) => f.endsWith('.wasm') && !isPython(f))
    .map((f) => {
      const gzip = gz(f)
      return { file: relative(cdn, f), gzip, budget: WASM_BUDGET, ok: gzip <= WASM_BUDGET }
    })
  const pages = PAGE_BUDGETS.map(({ page, tags, budget }) => {
    const wanted = tags ?? [...tagChunks.keys()]
    const missing = wanted.filter((t) => !tagChunks.has(t))
    if (missing.length) return { page, tags: wanted, budget, ok: false, missing }
    const set = closure([entry, ...wanted.map((t) => tagChunks.get(t))])
    const gzip = [...set].reduce((s, f) => s + size.get(f), 0)
    if (process.env.SIZE_FILES) console.log(page, [...set].map((f) => relative(cdn, f) + " " + (size.get(f) / KB).toFixed(1)))
    return { page, tags: wanted, gzip, budget, ok: gzip <= budget, files: set.size }
  })
  const pythonFiles = all.filter(isPython)
  const pythonGzip = pythonFiles.reduce((sum, f) => sum + gz(f), 0)
  const python = { files: pythonFiles.length, gzip: pythonGzip, budget: PYTHON_BUDGET, ok: pythonGzip <= PYTHON_BUDGET }
  const failed = [...chunks, ...wasm, python, ...pages].filter((x) => !x.ok).length
  return { built: true, cdn, chunks, wasm, python, pages, failed }
}

const kb = (n) => (n / KB).toFixed(1).padStart(7) + ' kB'

function main() {
  const r = measureBundle()
  if (!r.built) {
    console.error('No CDN build in packages/elements/dist/cdn: run `npm run build` first.')
    process.exit(2)
  }
  console.log('Chunks (gzip -9):')
  for (const c of r.chunks) console.log(`  ${kb(c.gzip)}  ${c.file}${c.ok ? '' : `  OVER the ${CHUNK_BUDGET / KB} kB chunk budget`}`)
  for (const w of r.wasm) console.log(`  ${kb(w.gzip)}  ${w.file} (fetched by URL where an editor joins a room)${w.ok ? '' : `  OVER the ${WASM_BUDGET / KB} kB budget`}`)
  console.log(`  ${kb(r.python.gzip)}  Python's runtime, ${r.python.files} files (fetched the first time Python runs)${r.python.ok ? '' : `  OVER the ${PYTHON_BUDGET / KB} kB budget`}`)
  console.log('\nWhat a page downloads up front (entry + its elements + their static imports):')
  for (const p of r.pages) {
    if (p.missing) console.log(`  ${p.page}: no chunk for ${p.missing.join(', ')}`)
    else console.log(`  ${kb(p.gzip)} of ${(p.budget / KB).toFixed(0)} kB  ${p.ok ? 'ok  ' : 'OVER'}  ${p.page} (${p.files} files)`)
  }
  if (r.failed) {
    console.error(`\n${r.failed} budget(s) exceeded.`)
    process.exit(1)
  }
  console.log('\nAll budgets met.')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main()
