// Size benchmark: the gzip size of the CDN build against its budgets — every chunk, the Automerge
// wasm, and what a page downloads up front per set of elements — measured by the same function as
// `npm run size` (scripts/size.mjs). Needs a built CDN (`npm run build`).
//
//   npm run bench -- size
import { measureBundle } from '../scripts/size.mjs'
import { table, writeResult } from './lib.mjs'

const kb = (n) => (n / 1024).toFixed(1)

export async function run() {
  const r = measureBundle()
  if (!r.built) {
    console.log(`size: skipped — no CDN build in ${r.cdn}; run \`npm run build\` first.`)
    writeResult('size', { skipped: 'no CDN build: run `npm run build` first' })
    return
  }
  const budgets = [
    ...r.pages.map((p) => ({ what: `page: ${p.page}`, gzipBytes: p.gzip ?? null, budgetBytes: p.budget, pass: p.ok, ...(p.missing ? { missing: p.missing } : { files: p.files }) })),
    ...r.wasm.map((w) => ({ what: `wasm: ${w.file}`, gzipBytes: w.gzip, budgetBytes: w.budget, pass: w.ok })),
    ...r.chunks.map((c) => ({ what: `chunk: ${c.file}`, gzipBytes: c.gzip, budgetBytes: c.budget, pass: c.ok })),
  ]
  // Pages and the wasm in full; of the chunks the five largest and any over budget.
  const shown = budgets.filter((b, i) => !b.what.startsWith('chunk:') || !b.pass || i < r.pages.length + r.wasm.length + 5)
  table(shown.map((b) => ({ 'gzip -9': b.what, kB: b.gzipBytes === null ? `no chunk for ${b.missing.join(', ')}` : kb(b.gzipBytes), 'budget kB': kb(b.budgetBytes), result: b.pass ? 'pass' : 'FAIL' })))
  const chunkTotal = r.chunks.reduce((s, c) => s + c.gzip, 0)
  console.log(`\n${r.chunks.length} chunks (${kb(chunkTotal)} kB gzip in all), every one within its ${kb(r.chunks[0]?.budget ?? 0)} kB budget: ${r.chunks.every((c) => c.ok)}`)
  console.log(r.failed ? `${r.failed} budget(s) exceeded.` : 'All budgets met.')
  const file = writeResult('size', { budgets, failed: r.failed })
  console.log(`written to ${file}`)
}
