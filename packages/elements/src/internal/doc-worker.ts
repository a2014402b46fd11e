/**
 * The document worker: a dedicated module worker that owns the room's Automerge replica (see
 * `Replica`), so the page's main thread never applies remote changes itself. The page sends
 * `init` with the wasm's URL first, and nothing else until the worker answers `loaded`.
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
 * Automerge as `loadAutomerge` loads it on a page (the slim entry, the wasm fetched by URL), from
 * the URL the page resolved. Not that function itself: sharing its module with the page's room
 * code would split it into a chunk of its own that every page with a room downloads.
 */
async function load(wasmUrl: string): Promise<AutomergeModule> {
  const A = await import('@automerge/automerge/slim')
  // The runtime takes a Response promise (streaming compile); the published type is narrower.
  await A.initializeWasm(fetch(wasmUrl) as unknown as Promise<Uint8Array>)
  return A
}

scope.onmessage = (e) => {
  const msg = e.data
  if (msg.type !== 'init') return replica?.handle(msg)
  load(msg.wasmUrl).then(
    (A) => {
      replica = new Replica(A, post)
      post({ type: 'loaded' })
    },
    (err: Error) => post({ type: 'failed', message: `Automerge could not load: ${err.message}` }),
  )
}
