/**
 * Automerge, loaded only by elements that need the live document. The 3.6 MB wasm is fetched
 * by URL (cached by the browser), never inlined: by default the copy shipped beside these modules,
 * or wherever `configure({ wasmUrl })` (see `../configure.ts`) points.
 */
export type AutomergeModule = typeof import('@automerge/automerge/slim')

let wasmUrl: string | URL | undefined
let loading: Promise<AutomergeModule> | undefined
let compiled: WebAssembly.Module | undefined

/** Fetch the wasm from here instead of beside these modules (the public `configure()` sets it). */
export function setWasmUrl(url: string | URL) {
  wasmUrl = url
}

export function defaultWasmUrl(): URL {
  return new URL('../../assets/automerge.wasm', import.meta.url)
}

/** The wasm's absolute URL, as the document worker must be told it (a relative one would resolve against the worker's script). */
export function wasmLocation(): string {
  return new URL(wasmUrl ?? defaultWasmUrl(), document.baseURI).href
}

/**
 * The wasm as `loadAutomerge` compiled it, once it has: the document worker instantiates this
 * module instead of fetching and compiling the 3.6 MB again.
 */
export function compiledWasm(): WebAssembly.Module | undefined {
  return compiled
}

/** Fetch and compile the wasm, streaming where the server says it is `application/wasm`. */
async function compileWasm(url: string | URL): Promise<WebAssembly.Module> {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`${res.status} fetching ${res.url}`)
  if (res.headers.get('content-type')?.split(';')[0]?.trim() === 'application/wasm') return WebAssembly.compileStreaming(res)
  return WebAssembly.compile(await res.arrayBuffer())
}

export function loadAutomerge(): Promise<AutomergeModule> {
  loading ??= (async () => {
    const A = await import('@automerge/automerge/slim')
    if (!A.isWasmInitialized()) {
      const module = await compileWasm(wasmUrl ?? defaultWasmUrl())
      // The runtime also takes a compiled module; the published type is narrower.
      await A.initializeWasm(module as unknown as Uint8Array)
      compiled = module
    }
    return A
  })().catch((e) => {
    loading = undefined
    throw e
  })
  return loading
}
