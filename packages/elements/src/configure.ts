import { setWasmUrl } from './internal/automerge.js'

/** Where to fetch `automerge.wasm` from, e.g. a CDN. Call before any editor connects. */
export function configure(opts: { wasmUrl?: string | URL }) {
  if (opts.wasmUrl) setWasmUrl(opts.wasmUrl)
}
