/**
 * Automerge, loaded only by elements that need the live document. The 3.6 MB wasm is fetched
 * by URL (cached by the browser), never inlined: by default the copy shipped beside these modules,
 * or wherever `configure({ wasmUrl })` points.
 */
export type AutomergeModule = typeof import('@automerge/automerge/slim')

let wasmUrl: string | URL | undefined
let loading: Promise<AutomergeModule> | undefined

/** Where to fetch `automerge.wasm` from, e.g. a CDN. Call before any editor connects. */
export function configure(opts: { wasmUrl?: string | URL }) {
  if (opts.wasmUrl) wasmUrl = opts.wasmUrl
}

export function defaultWasmUrl(): URL {
  return new URL('../../assets/automerge.wasm', import.meta.url)
}

/** The wasm's absolute URL, as the document worker must be told it (a relative one would resolve against the worker's script). */
export function wasmLocation(): string {
  return new URL(wasmUrl ?? defaultWasmUrl(), document.baseURI).href
}

export function loadAutomerge(): Promise<AutomergeModule> {
  loading ??= (async () => {
    const A = await import('@automerge/automerge/slim')
    // The runtime takes a Response promise (streaming compile); the published type is narrower.
    if (!A.isWasmInitialized()) await A.initializeWasm(fetch(wasmUrl ?? defaultWasmUrl()) as unknown as Promise<Uint8Array>)
    return A
  })().catch((e) => {
    loading = undefined
    throw e
  })
  return loading
}
