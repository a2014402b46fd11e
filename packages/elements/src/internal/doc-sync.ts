import type { ChangeSet } from '@codemirror/state'
import type { Cursor, LocalEdit } from '@session-kit/core'
import type { AutomergeModule } from './automerge.js'
import { applySplices, batchFromJSON, changeSet, rebase, splicesOf } from './rebase.js'
import type { FromReplica, ToReplica } from './replica-messages.js'
import { startReplica, type ReplicaPort, type ReplicaPortFactory } from './replica-port.js'
import type { TextSource, TextSplice, UnsentEdit } from '../text-source.js'
import { UnsentStore } from './unsent-store.js'

export type { UnsentEdit }
// Loaded with the replica's code: a page that never edits fetches neither.
export { UnsentStore }

/** A local edit the replica has not applied yet: kept to map remote batches through. */
interface Unconfirmed {
  seq: number
  file: string
  /** Against the text as the replica will have it before this edit; null once dropped. */
  changes: ChangeSet | null
}

type Reply<T extends FromReplica['type']> = Extract<FromReplica, { type: T }>

/**
 * A writer's view of the room's document: a full Automerge replica, kept in the document worker
 * (see `Replica`) so that applying remote changes — whose cost grows with the file — never runs on
 * the page's main thread. The page keeps only each file's plain text, so `text()` answers at once
 * and local edits show before the replica has seen them; the two threads reconcile concurrent
 * edits by counting each other's (see replica-messages.ts and `rebase`).
 *
 * Local edits are kept in IndexedDB until the server acknowledges them, so they survive a reload;
 * on a reconnect the replica is kept and the handshake uploads whatever the server lacks. After a
 * refused write the replica is discarded and rebuilt from the server.
 *
 * Events are those of a `TextSource`: `ready`, `reset`, `splices`, `text`, `unsent`, `saved`.
 */
export class DocSync extends EventTarget implements TextSource {
  readonly kind = 'full' as const
  #port: ReplicaPort
  /** Each file's text as the editors show it, in the document's order. */
  #texts = new Map<string, string>()
  #synced = false
  /** Replicas discarded so far; the replica tags what it says with it. */
  #epoch = 0
  /** Local edits made, and remote batches applied, since the replica's `ready`. */
  #seq = 0
  #version = 0
  #unconfirmed: Unconfirmed[] = []
  /** Local edits whose change the replica has not reported yet (they count as pending). */
  #unreported = 0
  #conn = 0
  #send: ((bytes: Uint8Array) => void) | null = null
  #restored = false
  #captured: Map<string, string> | null = null
  #requests = new Map<number, (msg: FromReplica) => void>()
  #nextId = 1
  #seenTimer?: ReturnType<typeof setTimeout>

  constructor(
    readonly A: AutomergeModule,
    readonly unsent: UnsentStore,
    opts: { replica?: ReplicaPortFactory } = {},
  ) {
    super()
    this.#port = (opts.replica ?? startReplica(A))((msg) => this.#message(msg))
  }

  get synced() {
    return this.#synced
  }

  get pending() {
    return this.unsent.entries.length + this.#unreported
  }

  /** A new connection: a fresh sync state with the same replica (offline edits go up). */
  attach(send: (bytes: Uint8Array) => void) {
    this.#send = send
    this.#post({ type: 'attach', conn: ++this.#conn })
  }

  detach() {
    this.#send = null
    this.#post({ type: 'detach' })
  }

  /** Stop the replica for good (its worker ends). */
  close() {
    this.detach()
    clearTimeout(this.#seenTimer)
    this.#port.close()
  }

  /**
   * The server refused our writes or took away EDIT_CODE: remember how our files looked, drop
   * the replica, and rejoin from the server's state.
   */
  discardReplica() {
    if (this.unsent.entries.length || this.#unreported) this.#captured = new Map(this.#texts)
    clearTimeout(this.#seenTimer)
    this.#seenTimer = undefined
    this.#post({ type: 'discard', epoch: ++this.#epoch })
    this.#texts = new Map()
    this.#synced = false
    this.#unconfirmed = []
    this.dispatchEvent(new Event('reset'))
  }

  /** A sync frame from the server: handed to the replica (the bytes are transferred, not copied). */
  receive(bytes: Uint8Array) {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    this.#post({ type: 'receive', frames: [bytes] }, whole ? [bytes.buffer as ArrayBuffer] : [])
  }

  /** Apply a local edit to one file (positions against its text before the edit) and send it. */
  splice(file: string, edits: LocalEdit[]) {
    const text = this.#texts.get(file)
    if (!this.#synced || text === undefined) return
    const changes = changeSet(edits, text.length)
    if (changes.empty) return
    this.#texts.set(file, applySplices(text, splicesOf(file, changes)))
    const seq = ++this.#seq
    this.#unconfirmed.push({ seq, file, changes })
    this.#unreported++
    this.#post({ type: 'edit', seq, base: this.#version, file, changes: changes.toJSON() })
    this.dispatchEvent(new Event('saved'))
  }

  acknowledge(hashes: string[]) {
    this.unsent.acknowledge(hashes)
    this.dispatchEvent(new Event('saved'))
  }

  text(file: string): string | undefined {
    return this.#texts.get(file)
  }

  files(): string[] {
    return [...this.#texts.keys()]
  }

  async cursor(file: string, pos: number): Promise<Cursor['anchor']> {
    if (!this.#synced) return pos
    const reply = await this.#request('cursor', (id) => ({ type: 'cursor', id, base: this.#version, file, positions: [pos] }))
    return reply.cursors[0] ?? pos
  }

  async cursorPositions(file: string, cursors: Cursor['anchor'][]): Promise<(number | null)[]> {
    const named = cursors.filter((c): c is string => typeof c === 'string')
    let found: (number | null)[] = []
    if (named.length && this.#synced) {
      const reply = await this.#request('located', (id) => ({ type: 'locate', id, file, cursors: named }))
      // As of `applied` local edits: map through those made since, as the page's text has them.
      const later = reply.epoch === this.#epoch ? this.#unconfirmed.filter((u) => u.seq > reply.applied && u.file === file) : null
      found = reply.positions.map((p) => {
        if (p === null || !later) return null
        for (const u of later) if (u.changes) p = u.changes.mapPos(Math.min(p, u.changes.length))
        return p
      })
    }
    let i = 0
    // Offsets (from light viewers) are positions already.
    return cursors.map((c) => (typeof c === 'number' ? c : (found[i++] ?? null)))
  }

  #post(msg: ToReplica, transfer: Transferable[] = []) {
    this.#port.post(msg, transfer)
  }

  /** Ask the replica (`ask` gets the request's id) and wait for its answer of type `T`. */
  #request<T extends 'cursor' | 'located' | 'checked' | 'restored'>(_type: T, ask: (id: number) => ToReplica): Promise<Reply<T>> {
    const id = this.#nextId++
    return new Promise((resolve) => {
      this.#requests.set(id, (reply) => resolve(reply as Reply<T>))
      this.#post(ask(id))
    })
  }

  #message(msg: FromReplica) {
    switch (msg.type) {
      case 'send':
        if (msg.conn === this.#conn) this.#send?.(msg.bytes)
        break
      case 'ready':
        if (msg.epoch === this.#epoch) this.#ready(msg.files)
        break
      case 'remote':
        if (msg.epoch === this.#epoch && this.#synced) this.#remote(msg)
        break
      case 'applied':
        this.#applied(msg)
        break
      case 'cursor':
      case 'located':
      case 'checked':
      case 'restored':
        this.#requests.get(msg.id)?.(msg)
        this.#requests.delete(msg.id)
        break
    }
  }

  #ready(files: [string, string][]) {
    this.#texts = new Map(files)
    this.#seq = 0
    this.#version = 0
    this.#unconfirmed = []
    this.#synced = true
    this.dispatchEvent(new Event('ready'))
    if (this.#captured) void this.#reconcile(this.#captured)
    else if (!this.#restored) void this.#restore()
  }

  /** A remote batch: mapped through the local edits the replica had not applied, then shown. */
  #remote(msg: Reply<'remote'>) {
    this.#version = msg.version
    this.#unconfirmed = this.#unconfirmed.filter((u) => u.seq > msg.applied)
    let batch = batchFromJSON(msg.edits)
    for (const u of this.#unconfirmed) [u.changes, batch] = rebase(u.changes, u.file, batch)
    const splices: TextSplice[] = []
    let reshaped = false
    for (const [file, edit] of batch) {
      if ('changes' in edit) {
        const text = this.#texts.get(file)
        if (text === undefined) continue
        const list = splicesOf(file, edit.changes)
        this.#texts.set(file, applySplices(text, list))
        splices.push(...list)
      } else {
        if ('text' in edit) this.#texts.set(file, edit.text)
        else this.#texts.delete(file)
        reshaped = true
      }
    }
    if (msg.order) this.#texts = new Map(msg.order.filter((f) => this.#texts.has(f)).map((f) => [f, this.#texts.get(f)!]))
    if (splices.length) this.dispatchEvent(new CustomEvent<TextSplice[]>('splices', { detail: splices }))
    if (reshaped) this.dispatchEvent(new Event('text'))
    // Let the replica forget batches the page has applied (edits say so too; this is for a quiet page).
    this.#seenTimer ??= setTimeout(() => {
      this.#seenTimer = undefined
      if (this.#synced) this.#post({ type: 'seen', epoch: this.#epoch, version: this.#version })
    }, 500)
  }

  #applied(msg: Reply<'applied'>) {
    this.#unreported = Math.max(0, this.#unreported - 1)
    if (msg.change) this.unsent.add({ ...msg.change, file: msg.file, at: Date.now() })
    if (msg.epoch === this.#epoch) this.#unconfirmed = this.#unconfirmed.filter((u) => u.seq > msg.seq)
    this.dispatchEvent(new Event('saved'))
  }

  /** After a refused write: edits not in the server's document are shown with the text we had. */
  async #reconcile(captured: Map<string, string>) {
    const epoch = this.#epoch
    const entries = [...this.unsent.entries]
    const { present } = await this.#request('checked', (id) => ({ type: 'check', id, hashes: entries.map((e) => e.hash) }))
    if (epoch !== this.#epoch) return
    const lost = entries.filter((e) => !present.includes(e.hash))
    this.unsent.acknowledge(entries.map((e) => e.hash))
    this.#captured = null
    this.#restored = true
    const files = [...new Set(lost.map((e) => e.file))]
    if (files.length) this.dispatchEvent(new CustomEvent<UnsentEdit[]>('unsent', { detail: files.map((file) => ({ file, text: captured.get(file) ?? '' })) }))
    this.dispatchEvent(new Event('saved'))
  }

  /** Re-apply edits kept from before a reload (once), so the handshake uploads them. */
  async #restore() {
    this.#restored = true
    const epoch = this.#epoch
    const earlier = await this.unsent.load()
    // The replica was discarded while the store was read (a refused write): restore after the rejoin.
    if (!this.#synced || epoch !== this.#epoch) return void (this.#restored = false)
    if (!earlier.length) return
    const { stranded } = await this.#request('restored', (id) => ({ type: 'restore', id, changes: earlier.map((e) => ({ hash: e.hash, bytes: e.bytes })) }))
    if (stranded.length) {
      this.unsent.acknowledge(stranded)
      const files = [...new Set(earlier.filter((e) => stranded.includes(e.hash)).map((e) => e.file))]
      this.dispatchEvent(new CustomEvent<UnsentEdit[]>('unsent', { detail: files.map((file) => ({ file, text: '(edits from an earlier visit could not be merged)' })) }))
    }
    this.dispatchEvent(new Event('saved'))
  }
}
