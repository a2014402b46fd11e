/**
 * What every Python sandbox starts from, prepared once per process: Pyodide's wasm compiled to a
 * module (each sandbox instantiates it without compiling again) and a memory snapshot of a started
 * interpreter (each sandbox restores it instead of booting Python, about 0.3 s instead of 5 s).
 */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readSnapshot, snapshotCacheDir, snapshotFile, writeSnapshot } from './snapshot-cache.js'
import type { SandboxMessage } from './messages.js'
import { startWorker } from '../sync/decoder.js'
import { WebAssemblyApi, type WasmModule } from './wasm.js'
import type { PythonWorkerData } from './python-worker.js'

export interface PythonAssets {
  indexURL: string
  wasm: WasmModule
  /** In shared memory, so handing it to a worker copies nothing; absent when it could not be made. */
  snapshot?: Uint8Array
}

let assets: Promise<PythonAssets> | undefined

export function pythonAssets(): Promise<PythonAssets> {
  assets ??= prepare().catch((error: unknown) => {
    assets = undefined
    throw error
  })
  return assets
}

export const pythonWorkerUrl = () => new URL(import.meta.url.endsWith('.ts') ? './python-worker.ts' : './python-worker.js', import.meta.url)

async function prepare(): Promise<PythonAssets> {
  const indexURL = dirname(createRequire(import.meta.url).resolve('pyodide/package.json')) + '/'
  const wasm = await WebAssemblyApi.compile(await readFile(indexURL + 'pyodide.asm.wasm'))
  const dir = snapshotCacheDir()
  const version = (JSON.parse(readFileSync(indexURL + 'package.json', 'utf8')) as { version: string }).version
  const file = dir && snapshotFile(dir, [version, readFileSync(fileURLToPath(pythonWorkerUrl()), 'utf8'), process.versions.node, process.versions.v8])
  const kept = dir && file ? readSnapshot(dir, file) : null
  if (kept) return { indexURL, wasm, snapshot: shared(kept) }
  let snapshot: Uint8Array | undefined
  try {
    snapshot = await makeSnapshot({ indexURL, wasm, makeSnapshot: true, memoryMb: 0 })
    if (dir && file) writeSnapshot(dir, file, snapshot)
  } catch (error) {
    console.warn(`Python sandboxes start without a snapshot (slower): ${error instanceof Error ? error.message : String(error)}`)
  }
  return { indexURL, wasm, snapshot }
}

/** In shared memory, so handing it to a worker copies nothing. */
function shared(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.byteLength))
  copy.set(bytes)
  return copy
}

function makeSnapshot(data: PythonWorkerData): Promise<Uint8Array> {
  const worker = startWorker(pythonWorkerUrl(), 512, { workerData: data, env: {} })
  return new Promise<Uint8Array>((resolve, reject) => {
    worker.on('message', (m: SandboxMessage) => {
      if (m.type === 'snapshot') resolve(shared(m.snapshot))
      else if (m.type === 'failed') reject(new Error(m.message))
    })
    worker.on('error', reject)
    worker.on('exit', (code) => reject(new Error(`the snapshot thread ended (exit code ${code})`)))
  }).finally(() => void worker.terminate())
}
