/**
 * The document worker: a dedicated module worker that owns the room's Automerge replica (see
 * `Replica`), so the page's main thread never applies remote changes itself. The page sends
 * `init` first (the wasm it compiled, and its URL), and nothing else until the worker answers
 * `loaded`.
 */
import type { AutomergeModule } from './automerge.js'
import { Replica } from './replica.js'
import type { FromReplica, ToReplica } from './replica-messages.js'

interface WorkerScope {
  postMessage(msg: FromReplica, transfer?: Transferable[]): void
  onmessage: ((e: MessageEvent<ToReplica>) => void) | null
}

const scope = self as unknown as WorkerScope
const post = (msg: FromReplica, transfer: Transferable[] = []) => scope.postMessage(msg, transfer)
let replica: Replica | null = null

/**
 * Automerge's slim entry with the wasm the page compiled (instantiated, not compiled again), or
 * else fetched from the URL the page resolved. Not `loadAutomerge` itself: sharing its module with
 * the page's room code would split it into a chunk of its own that every page with a room downloads.
 */
async function load(wasmUrl: string, module: WebAssembly.Module | undefined): Promise<AutomergeModule> {
  const A = await import('@automerge/automerge/slim')
  // The runtime also takes a compiled module or a Response promise; the published type is narrower.
  await A.initializeWasm((module ?? fetch(wasmUrl)) as unknown as Uint8Array)
  return A
}

scope.onmessage = (e) => {
  const msg = e.data
  if (msg.type !== 'init') return replica?.handle(msg)
  load(msg.wasmUrl, msg.module).then(
    (A) => {
      replica = new Replica(A, post)
      post({ type: 'loaded' })
    },
    (err: Error) => post({ type: 'failed', message: `Automerge could not load: ${err.message}` }),
  )
}
