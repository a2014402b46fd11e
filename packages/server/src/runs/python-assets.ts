/**
 * What every Python sandbox starts from, prepared once per process: Pyodide's wasm compiled to a
 * module (each sandbox instantiates it without compiling again) and a memory snapshot of a started
 * interpreter (each sandbox restores it instead of booting Python, about 0.3 s instead of 5 s).
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
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
  let snapshot: Uint8Array | undefined
  try {
    snapshot = await makeSnapshot({ indexURL, wasm, makeSnapshot: true, memoryMb: 0 })
  } catch (error) {
    console.warn(`Python sandboxes start without a snapshot (slower): ${error instanceof Error ? error.message : String(error)}`)
  }
  return { indexURL, wasm, snapshot }
}

function makeSnapshot(data: PythonWorkerData): Promise<Uint8Array> {
  const worker = startWorker(pythonWorkerUrl(), 512, { workerData: data, env: {} })
  return new Promise<Uint8Array>((resolve, reject) => {
    worker.on('message', (m: SandboxMessage) => {
      if (m.type === 'snapshot') {
        const shared = new Uint8Array(new SharedArrayBuffer(m.snapshot.byteLength))
        shared.set(m.snapshot)
        resolve(shared)
      } else if (m.type === 'failed') reject(new Error(m.message))
    })
    worker.on('error', reject)
    worker.on('exit', (code) => reject(new Error(`the snapshot thread ended (exit code ${code})`)))
  }).finally(() => void worker.terminate())
}
