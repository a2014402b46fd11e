import type * as AM from '@automerge/automerge/slim'
import type { AutomergeModule } from './automerge.js'
import { fileChanges } from './splices.js'
import type { TextSource, TextSplice, UnsentEdit } from './text-source.js'
import { UnsentStore } from './unsent-store.js'

export type { UnsentEdit }

export interface DocShape {
  files: Record<string, string>
}

export type Patch = AM.Patch

/**
 * The browser's replica of a room's document and its side of the Automerge sync protocol.
 * Local edits are applied at once and kept in IndexedDB until the server acknowledges them, so
 * they survive a reload; on a reconnect the replica is kept and the handshake uploads whatever
 * the server lacks. After a refused write the replica is discarded and rebuilt from the server.
 *
 * Events are those of a `TextSource` (`ready`, `reset`, `splices`, `text`, `unsent`, `saved`);
 * `patches` (detail: Patch[]) still carries the raw Automerge patches for editors that read them.
 */
export class DocSync extends EventTarget implements TextSource {
  readonly kind = 'full' as const
  doc: AM.Doc<DocShape>
  #sync: AM.SyncState
  #send: ((bytes: Uint8Array) => void) | null = null
  #synced = false
  /** This connection's handshake is over (see flush). */
  #quiet = false
  /** The heads the server last told us it has. */
  #theirHeads: string[] = []
  #restored = false
  #captured: Map<string, string> | null = null

  constructor(
    readonly A: AutomergeModule,
    readonly unsent: UnsentStore,
  ) {
    super()
    this.doc = A.init<DocShape>()
    this.#sync = A.initSyncState()
  }

  get synced() {
    return this.#synced
  }

  get pending() {
    return this.unsent.entries.length
  }

  /** A new connection: a fresh sync state with the same replica (offline edits go up). */
  attach(send: (bytes: Uint8Array) => void) {
    this.#send = send
    this.#sync = this.A.initSyncState()
    this.#quiet = false
    this.#theirHeads = []
  }

  detach() {
    this.#send = null
  }

  /**
   * The server refused our writes or took away EDIT_CODE: remember how our files looked, drop
   * the replica, and rejoin from the server's state.
   */
  discardReplica() {
    if (this.unsent.entries.length) {
      this.#captured = new Map()
      for (const e of this.unsent.entries) if (!this.#captured.has(e.file)) this.#captured.set(e.file, this.text(e.file) ?? '')
    }
    this.doc = this.A.init<DocShape>()
    this.#sync = this.A.initSyncState()
    this.#synced = false
    this.#quiet = false
    this.dispatchEvent(new Event('reset'))
  }

  receive(bytes: Uint8Array) {
    const { heads, have } = this.A.decodeSyncMessage(bytes)
    this.#theirHeads = heads
    // The server (re)starts a handshake (a `have` with no last sync): answer it in full again.
    if (have.length && !have[0]!.lastSync.length) this.#quiet = false
    const patches: Patch[] = []
    const [doc, sync] = this.A.receiveSyncMessage(this.doc, this.#sync, bytes, { patchCallback: (p) => patches.push(...p) })
    this.doc = doc
    this.#sync = sync
    if (!this.#synced && this.doc.files) {
      this.#synced = true
      this.#afterFirstSync(patches)
    } else this.#announce(patches)
    if (patches.length) this.dispatchEvent(new CustomEvent('patches', { detail: patches }))
    if (this.#synced && !this.#restored) void this.#restore()
    this.flush()
  }

  #afterFirstSync(_patches: Patch[]) {
    this.dispatchEvent(new Event('ready'))
    // Edits refused before this rejoin: those now in the server's document were saved after all.
    if (this.#captured) {
      const lost = this.unsent.entries.filter((e) => !this.A.hasHeads(this.doc, [e.hash]))
      this.unsent.clear()
      const files = [...new Set(lost.map((e) => e.file))]
      const edits = files.map((file) => ({ file, text: this.#captured!.get(file) ?? '' }))
      this.#captured = null
      this.#restored = true
      if (edits.length) this.dispatchEvent(new CustomEvent<UnsentEdit[]>('unsent', { detail: edits }))
    }
  }

  /** Tell the editors what remote patches did: splices where they describe it, else `text`. */
  #announce(patches: Patch[]) {
    if (!patches.length) return
    const { splices, reshaped, all } = fileChanges(patches)
    if (splices.length) this.dispatchEvent(new CustomEvent<TextSplice[]>('splices', { detail: splices }))
    if (all || reshaped.size) this.dispatchEvent(new Event('text'))
  }

  /** Re-apply edits kept from before a reload (once), so the handshake uploads them. */
  async #restore() {
    this.#restored = true
    const earlier = await this.unsent.load()
    // The replica was discarded while the store was read (a refused write): restore after the rejoin.
    if (!this.#synced) return void (this.#restored = false)
    const entries = earlier.filter((e) => !this.A.hasHeads(this.doc, [e.hash]))
    if (!entries.length) return
    const patches: Patch[] = []
    try {
      this.doc = this.A.applyChanges(this.doc, entries.map((e) => e.bytes), { patchCallback: (p) => patches.push(...p) })[0]
    } catch {
      // Stored changes from an incompatible replica: show them instead of losing them.
    }
    const stranded = entries.filter((e) => !this.A.hasHeads(this.doc, [e.hash]))
    if (stranded.length) {
      this.unsent.acknowledge(stranded.map((e) => e.hash))
      const files = [...new Set(stranded.map((e) => e.file))]
      this.dispatchEvent(new CustomEvent<UnsentEdit[]>('unsent', { detail: files.map((file) => ({ file, text: '(edits from an earlier visit could not be merged)' })) }))
    }
    this.#announce(patches)
    if (patches.length) this.dispatchEvent(new CustomEvent('patches', { detail: patches }))
    this.flush()
    this.dispatchEvent(new Event('saved'))
  }

  /**
   * Send what the server lacks. One message per received message or local change is all the
   * protocol needs; looping until Automerge returns nothing would spin forever when it answers a
   * reset (it repeats the reset until the server replies). Once this connection's handshake is
   * over (we told the server heads equal to its own, needing nothing), a message with neither
   * changes nor `need` stays home: protocol 2's server pushes without waiting for replies, so our
   * heads alone would only cost both sides a frame.
   */
  flush() {
    if (!this.#send) return
    const [sync, msg] = this.A.generateSyncMessage(this.doc, this.#sync)
    this.#sync = sync
    if (!msg) return
    const { changes, need, heads } = this.A.decodeSyncMessage(msg)
    if (this.#quiet && !changes.length && !need.length) return
    this.#send(msg)
    if (this.#synced && !need.length && sameHeads(heads, this.#theirHeads)) this.#quiet = true
  }

  /** Apply a local edit to one file and send it. Returns the change hash (or null if nothing changed). */
  change(file: string, fn: (doc: DocShape) => void): string | null {
    const before = this.doc
    this.doc = this.A.change(this.doc, fn)
    if (this.doc === before) return null
    const bytes = this.A.getLastLocalChange(this.doc)
    if (!bytes) return null
    const hash = this.A.decodeChange(bytes).hash
    this.unsent.add({ hash, bytes, file, at: Date.now() })
    this.flush()
    this.dispatchEvent(new Event('saved'))
    return hash
  }

  splice(file: string, edits: { from: number; to: number; insert: string }[]) {
    // Positions refer to the text before the edit: apply from the end so earlier ones stay valid.
    return this.change(file, (d) => {
      for (const e of [...edits].sort((a, b) => b.from - a.from)) this.A.splice(d, ['files', file], e.from, e.to - e.from, e.insert)
    })
  }

  acknowledge(hashes: string[]) {
    this.unsent.acknowledge(hashes)
    this.dispatchEvent(new Event('saved'))
  }

  text(file: string): string | undefined {
    const t = this.doc.files?.[file]
    return t === undefined ? undefined : String(t)
  }

  files(): string[] {
    return Object.keys(this.doc.files ?? {})
  }

  async cursor(file: string, pos: number): Promise<string | number> {
    try {
      return this.A.getCursor(this.doc, ['files', file], pos)
    } catch {
      return pos
    }
  }

  async cursorPositions(file: string, cursors: (string | number)[]): Promise<(number | null)[]> {
    return cursors.map((c) => this.cursorPosition(file, c))
  }

  /** Where a cursor is now, at once (in-thread replica only; prefer `cursorPositions`). */
  cursorPosition(file: string, cursor: string | number): number | null {
    if (typeof cursor === 'number') return cursor
    try {
      return this.A.getCursorPosition(this.doc, ['files', file], cursor)
    } catch {
      return null
    }
  }
}

function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((h) => b.includes(h))
}
