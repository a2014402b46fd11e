/**
 * The document worker: a dedicated module worker that owns the room's Automerge replica (see
 * `Replica`), so the page's main thread never applies remote changes itself. The page sends
 * `init` with the wasm's URL first, and nothing else until the worker answers `loaded`.
 */
import { configure, loadAutomerge } from './automerge.js'
import { Replica } from './replica.js'
import type { FromReplica, ToReplica } from './replica-messages.js'

interface WorkerScope {
  postMessage(msg: FromReplica, transfer?: Transferable[]): void
  onmessage: ((e: MessageEvent<ToReplica>) => void) | null
}

const scope = self as unknown as WorkerScope
const post = (msg: FromReplica, transfer: Transferable[] = []) => scope.postMessage(msg, transfer)
let replica: Replica | null = null

scope.onmessage = (e) => {
  const msg = e.data
  if (msg.type !== 'init') return replica?.handle(msg)
  configure({ wasmUrl: msg.wasmUrl })
  loadAutomerge().then(
    (A) => {
      replica = new Replica(A, post)
      post({ type: 'loaded' })
    },
    (err: Error) => post({ type: 'failed', message: `Automerge could not load: ${err.message}` }),
  )
}
