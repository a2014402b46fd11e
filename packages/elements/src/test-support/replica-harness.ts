import type * as AM from '@automerge/automerge/slim'
import type { AutomergeModule } from '../internal/automerge.js'
import { DocSync } from '../internal/doc-sync.js'
import { applySplices } from '../internal/rebase.js'
import { Replica } from '../internal/replica.js'
import type { FromReplica, ToReplica } from '../internal/replica-messages.js'
import type { TextSplice } from '../text-source.js'
import { UnsentStore } from '../internal/unsent-store.js'

/** A small seeded random number generator (mulberry32), so a failing interleaving can be replayed. */
export function seeded(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! }
}

type Doc = {
  files: Record<string, string>
}

/**
 * A `DocSync` whose replica runs in this thread and whose every step the test takes by hand: the
 * messages each way wait in queues, the replica applies received frames only when told, and a
 * plain Automerge document plays the server (every remote typist's edits are its changes). An
 * "editor" string follows the `splices` events, as CodeMirror would.
 */
export class ReplicaHarness {
  readonly toReplica: [ToReplica, Transferable[]][] = []
  readonly toPage: FromReplica[] = []
  readonly replica: Replica
  readonly doc: DocSync
  /** What an editor following the `splices` and `text` events shows, per file. */
  readonly shown = new Map<string, string>()
  server: AM.Doc<Doc>
  serverSync: AM.SyncState
  /** Sync messages the page sent, waiting for the server. */
  readonly outbox: Uint8Array[] = []
  #framesDue = false

  constructor(
    readonly A: AutomergeModule,
    files: Record<string, string>,
    store = new UnsentStore(`harness|${Math.random()}`),
  ) {
    this.server = A.from<Doc>({ files })
    this.serverSync = A.initSyncState()
    this.replica = new Replica(A, (msg) => this.toPage.push(structuredClone(msg)), () => (this.#framesDue = true))
    this.doc = new DocSync(A, store, {
      replica: (receive) => {
        this.#receive = receive
        return { post: (msg, transfer = []) => this.toReplica.push([structuredClone(msg, { transfer }), []]), close: () => {} }
      },
    })
    this.doc.addEventListener('ready', () => {
      this.shown.clear()
      for (const f of this.doc.files()) this.shown.set(f, this.doc.text(f)!)
    })
    this.doc.addEventListener('splices', (e) => {
      for (const s of (e as CustomEvent<TextSplice[]>).detail) this.shown.set(s.file, applySplices(this.shown.get(s.file)!, [s]))
    })
    this.doc.addEventListener('text', () => {
      this.shown.clear()
      for (const f of this.doc.files()) this.shown.set(f, this.doc.text(f)!)
    })
    this.doc.attach((bytes) => this.outbox.push(bytes.slice()))
  }

  #receive: (msg: FromReplica) => void = () => {}

  /** A new connection: the server starts its side of the sync afresh, the page attaches again. */
  reconnect() {
    this.outbox.length = 0
    this.serverSync = this.A.initSyncState()
    this.doc.attach((bytes) => this.outbox.push(bytes.slice()))
  }

  /** One message from the page to the replica; false when none waits. */
  deliverToReplica(): boolean {
    const next = this.toReplica.shift()
    if (!next) return false
    this.replica.handle(next[0])
    return true
  }

  /** One message from the replica to the page. */
  deliverToPage(): boolean {
    const next = this.toPage.shift()
    if (!next) return false
    this.#receive(next)
    return true
  }

  /** The replica's scheduled apply of received frames. */
  applyFrames(): boolean {
    if (!this.#framesDue) return false
    this.#framesDue = false
    this.replica.applyFrames()
    return true
  }

  /** The server takes what the page sent. */
  serverReceive(): boolean {
    const bytes = this.outbox.shift()
    if (!bytes) return false
    ;[this.server, this.serverSync] = this.A.receiveSyncMessage(this.server, this.serverSync, bytes)
    return true
  }

  /** The server sends what the page lacks (as a frame on the socket). */
  serverSend(): boolean {
    const [state, msg] = this.A.generateSyncMessage(this.server, this.serverSync)
    this.serverSync = state
    if (!msg) return false
    this.doc.receive(msg)
    return true
  }

  /** A remote typist's edit, made on the server's copy. */
  remoteEdit(file: string, index: number, del: number, insert: string) {
    this.server = this.A.change(this.server, (d) => this.A.splice(d, ['files', file], index, del, insert))
  }

  /** The person types: the editor changes at once and tells the document, as CodeMirror does. */
  localEdit(file: string, from: number, to: number, insert: string) {
    const text = this.shown.get(file)!
    this.shown.set(file, text.slice(0, from) + insert + text.slice(to))
    this.doc.splice(file, [{ from, to, insert }])
  }

  /** Deliver everything, everywhere, until nothing moves. */
  settle() {
    for (let i = 0; i < 10_000; i++) {
      const moved = this.deliverToReplica() || this.applyFrames() || this.deliverToPage() || this.serverReceive() || this.serverSend()
      if (!moved) return
    }
    throw new Error('the harness did not settle')
  }

  serverText(file: string): string {
    return String(this.server.files[file])
  }
}
