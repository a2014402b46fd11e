import { compiledWasm, wasmLocation, type AutomergeModule } from './automerge.js'
import type { FromReplica, ToReplica } from './replica-messages.js'

/** The page's end of the line to the replica. */
export interface ReplicaPort {
  post(msg: ToReplica, transfer?: Transferable[]): void
  close(): void
}

/** Starts a replica whose messages go to `receive`; tests pass their own. */
export type ReplicaPortFactory = (receive: (msg: FromReplica) => void) => ReplicaPort

let warned = false

/**
 * The document worker. A worker's script must come from the page's origin; served from another
 * (a CDN), it starts from a same-origin `blob:` module that imports it (CSP: `worker-src blob:`).
 * Returns the worker and what to release once it has loaded.
 */
function documentWorker(): { worker: Worker; release(): void } {
  try {
    return { worker: new Worker(new URL('./doc-worker.js', import.meta.url), { type: 'module' }), release: () => {} }
  } catch (e) {
    const url = new URL('./doc-worker.js', import.meta.url)
    if (url.origin === location.origin) throw e
    const blob = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)}`], { type: 'text/javascript' }))
    return { worker: new Worker(blob, { type: 'module' }), release: () => URL.revokeObjectURL(blob) }
  }
}

/**
 * Start the replica in a dedicated module worker (the document worker), so remote changes are
 * applied off the page's main thread. Messages wait until the worker has loaded Automerge; if no
 * worker can start (a Content-Security-Policy without `worker-src 'self'`, or a page that cannot
 * load it) the replica runs in this thread instead, with the same messages, and the console says
 * so once.
 */
export function startReplica(A: AutomergeModule): ReplicaPortFactory {
  return (receive) => {
    let queue: [ToReplica, Transferable[]][] | null = []
    let target: ((msg: ToReplica, transfer: Transferable[]) => void) | null = null
    let worker: Worker | null = null
    let closed = false

    const flush = () => {
      for (const [msg, transfer] of queue ?? []) target!(msg, transfer)
      queue = null
    }
    const inThread = async (reason: string) => {
      worker?.terminate()
      worker = null
      if (!warned) {
        warned = true
        console.warn(`Session Kit: the document worker could not start (${reason}); the document runs on the page's main thread, where remote edits to long files can make typing less smooth.`)
      }
      const { Replica } = await import('./replica.js')
      if (closed) return
      // Two channels keep the worker's semantics: asynchronous delivery, structured clones, transfers.
      const fromReplica = new MessageChannel()
      const toReplica = new MessageChannel()
      const replica = new Replica(A, (msg, transfer) => fromReplica.port2.postMessage(msg, transfer ?? []))
      fromReplica.port1.onmessage = (e: MessageEvent<FromReplica>) => receive(e.data)
      toReplica.port2.onmessage = (e: MessageEvent<ToReplica>) => replica.handle(e.data)
      target = (msg, transfer) => toReplica.port1.postMessage(msg, transfer)
      flush()
    }

    let release = () => {}
    try {
      ;({ worker, release } = documentWorker())
    } catch (e) {
      void inThread((e as Error).message)
    }
    if (worker) {
      const w = worker
      w.onmessage = (e: MessageEvent<FromReplica>) => {
        const msg = e.data
        if (msg.type === 'loaded' || msg.type === 'failed') release()
        if (msg.type === 'loaded') {
          target = (m, transfer) => w.postMessage(m, transfer)
          flush()
        } else if (msg.type === 'failed') void inThread(msg.message)
        else receive(msg)
      }
      w.onerror = (e) => {
        // Before it has loaded: it never will (refused by the page's policy, or not found).
        if (!target) {
          e.preventDefault()
          void inThread(e.message || 'it was refused or not found')
        }
      }
      const module = compiledWasm()
      w.postMessage({ type: 'init', wasmUrl: wasmLocation(), ...(module ? { module } : {}) } satisfies ToReplica)
    }

    return {
      post(msg, transfer = []) {
        if (queue) queue.push([msg, transfer])
        else target!(msg, transfer)
      },
      close() {
        closed = true
        worker?.terminate()
      },
    }
  }
}
