import { ChangeSet } from '@codemirror/state'
import type * as AM from '@automerge/automerge/slim'
import type { DocShape } from '@session-kit/core'
import type { AutomergeModule } from './automerge.js'
import { batchToJSON, changesOf, rebase, type Batch } from './rebase.js'
import type { FromReplica, ToReplica } from './replica-messages.js'
import { fileChanges } from './splices.js'
import type { TextSplice } from '../text-source.js'

export type PostToPage = (msg: FromReplica, transfer?: Transferable[]) => void

/**
 * The room's Automerge document and its side of the Automerge sync protocol, away from the page:
 * `DocSync` talks to it through messages (see replica-messages.ts). It lives in the document
 * worker, so applying remote changes — whose cost grows with the file — never holds up typing;
 * where no worker can start, the page runs it itself.
 *
 * Sync frames that arrive while it is busy are applied together, as one sync message (one
 * Automerge call costs about as much for fifty changes as for one), and after an apply that took
 * t ms the next waits until t ms have passed: a frame that comes alone is applied at once, while a
 * stream of them keeps the worker busy half the time at most — on a two-core laptop the other
 * half is the page's. Local edits are applied as they come, mapped through the remote batches
 * the page had not yet seen when it made them.
 */
export class Replica {
  #doc: AM.Doc<DocShape>
  #sync: AM.SyncState
  /** The connection sync messages go to; null while detached. */
  #conn: number | null = null
  #synced = false
  /** This connection's handshake is over: heads-only messages stay home (see #flush). */
  #quiet = false
  #theirHeads: string[] = []
  #epoch = 0
  /** Local edits applied, and remote batches made, in this epoch. */
  #applied = 0
  #version = 0
  /** Remote batches the page may not have applied yet, kept to map its edits through. */
  #unseen: { version: number; batch: Batch }[] = []
  /** Each file's length in UTF-16 code units, to read patches as ChangeSets without reading the text. */
  #lengths = new Map<string, number>()
  #frames: Uint8Array[] = []
  #scheduled = false
  /** When the last apply of frames ended, and how long it took (ms). */
  #appliedAt = 0
  #applyMs = 0

  constructor(
    readonly A: AutomergeModule,
    readonly post: PostToPage,
    /** When to apply the frames received so far, in `delay` ms (tests decide themselves). */
    readonly schedule: (apply: () => void, delay: number) => void = (apply, delay) => setTimeout(apply, delay),
  ) {
    this.#doc = A.init<DocShape>()
    this.#sync = A.initSyncState()
  }

  handle(msg: ToReplica) {
    switch (msg.type) {
      case 'attach':
        // Frames of the previous connection belong to its sync state.
        this.applyFrames()
        this.#conn = msg.conn
        this.#sync = this.A.initSyncState()
        this.#quiet = false
        this.#theirHeads = []
        break
      case 'detach':
        this.#conn = null
        break
      case 'receive':
        this.#frames.push(...msg.frames)
        if (!this.#scheduled) {
          this.#scheduled = true
          this.schedule(() => this.applyFrames(), Math.max(0, this.#appliedAt + Math.min(this.#applyMs, 100) - performance.now()))
        }
        break
      case 'edit':
        this.#edit(msg.seq, msg.base, msg.file, ChangeSet.fromJSON(msg.changes))
        break
      case 'seen':
        if (msg.epoch === this.#epoch) this.#forget(msg.version)
        break
      case 'discard':
        this.#discard(msg.epoch)
        break
      case 'check':
        this.post({ type: 'checked', id: msg.id, present: msg.hashes.filter((h) => this.#has(h)) })
        break
      case 'restore':
        this.#restore(msg.id, msg.changes)
        break
      case 'cursor':
        this.post({ type: 'cursor', id: msg.id, cursors: msg.positions.map((p) => this.#cursor(msg.file, this.#toDocument(msg.file, p, msg.base))) })
        break
      case 'locate':
        this.post({ type: 'located', id: msg.id, epoch: this.#epoch, applied: this.#applied, positions: msg.cursors.map((c) => this.#position(msg.file, c)) })
        break
      case 'init':
        break
    }
  }

  /** Apply every frame received so far as one sync message, tell the page, and answer the server. */
  applyFrames() {
    this.#scheduled = false
    const frames = this.#frames.splice(0)
    if (!frames.length) return
    const A = this.A
    const decoded = frames.map((f) => A.decodeSyncMessage(f))
    const last = decoded[decoded.length - 1]!
    this.#theirHeads = last.heads
    // The server (re)started a handshake (a `have` with no last sync): answer it in full again.
    if (decoded.some((m) => m.have.length > 0 && m.have[0]!.lastSync.length === 0)) this.#quiet = false
    // The last frame says where the server stands now; the changes are those of every frame.
    const message = frames.length === 1 ? frames[0]! : A.encodeSyncMessage({ ...last, changes: decoded.flatMap((m) => m.changes) })
    const patches: AM.Patch[] = []
    const started = performance.now()
    try {
      ;[this.#doc, this.#sync] = A.receiveSyncMessage(this.#doc, this.#sync, message, { patchCallback: (p) => patches.push(...p) })
    } catch (e) {
      console.error('Session Kit: a sync message from the server could not be applied', e)
      return
    } finally {
      this.#appliedAt = performance.now()
      this.#applyMs = this.#appliedAt - started
    }
    if (!this.#synced) {
      if (this.#doc.files) this.#ready()
    } else this.#remote(patches)
    this.#flush()
  }

  #ready() {
    this.#synced = true
    this.#applied = 0
    this.#version = 0
    this.#unseen = []
    const files = Object.entries(this.#doc.files).map(([name, text]): [string, string] => [name, String(text)])
    this.#lengths = new Map(files.map(([name, text]) => [name, text.length]))
    this.post({ type: 'ready', epoch: this.#epoch, files })
  }

  /** Tell the page what remote patches did, as the next remote batch. */
  #remote(patches: AM.Patch[], reshape: string[] = []) {
    if (!patches.length && !reshape.length) return
    const { splices, reshaped, all } = fileChanges(patches)
    const files = this.#doc.files ?? {}
    const batch: Batch = new Map()
    const whole = (file: string) => {
      if (Object.prototype.hasOwnProperty.call(files, file)) {
        const text = String(files[file])
        batch.set(file, { text })
        this.#lengths.set(file, text.length)
      } else {
        batch.set(file, { deleted: true })
        this.#lengths.delete(file)
      }
    }
    if (all) for (const file of new Set([...Object.keys(files), ...this.#lengths.keys()])) whole(file)
    for (const file of [...reshaped, ...reshape]) whole(file)
    const byFile = new Map<string, TextSplice[]>()
    for (const s of splices) if (!batch.has(s.file)) byFile.set(s.file, [...(byFile.get(s.file) ?? []), s])
    for (const [file, list] of byFile) {
      const length = this.#lengths.get(file)
      try {
        if (length === undefined) throw new RangeError(`unknown file ${file}`)
        const changes = changesOf(list, length)
        batch.set(file, { changes })
        this.#lengths.set(file, changes.newLength)
      } catch {
        // Out of step with the document (never expected): send the file's whole text instead.
        whole(file)
      }
    }
    if (!batch.size) return
    const version = ++this.#version
    this.#unseen.push({ version, batch })
    const order = [...batch.values()].some((e) => !('changes' in e)) ? Object.keys(files) : undefined
    this.post({ type: 'remote', epoch: this.#epoch, version, applied: this.#applied, edits: batchToJSON(batch), ...(order ? { order } : {}) })
  }

  /** A local edit made after `base` remote batches: mapped through the later ones, then made a change. */
  #edit(seq: number, base: number, file: string, changes: ChangeSet) {
    this.#applied = seq
    this.#forget(base)
    let local: ChangeSet | null = changes
    for (const entry of this.#unseen) [local, entry.batch] = rebase(local, file, entry.batch)
    let change: { hash: string; bytes: Uint8Array } | null = null
    if (local && !local.empty && this.#synced) {
      if (local.length !== this.#lengths.get(file)) {
        // The page's text of this file is out of step (never expected): send it the document's.
        this.post({ type: 'applied', epoch: this.#epoch, seq, file, change: null })
        return this.#remote([], [file])
      }
      const A = this.A
      const before = this.#doc
      const edit = local
      this.#doc = A.change(this.#doc, (d) => {
        edit.iterChanges((fromA, toA, fromB, _toB, inserted) => A.splice(d, ['files', file], fromB, toA - fromA, inserted.toString()))
      })
      this.#lengths.set(file, local.newLength)
      const bytes = this.#doc === before ? undefined : A.getLastLocalChange(this.#doc)
      if (bytes) change = { hash: A.decodeChange(bytes).hash, bytes }
    }
    this.post({ type: 'applied', epoch: this.#epoch, seq, file, change })
    if (change) this.#flush()
  }

  /** The page has applied remote batches up to `version`. */
  #forget(version: number) {
    while (this.#unseen.length && this.#unseen[0]!.version <= version) this.#unseen.shift()
  }

  #discard(epoch: number) {
    this.#epoch = epoch
    this.#doc = this.A.init<DocShape>()
    this.#sync = this.A.initSyncState()
    this.#synced = false
    this.#quiet = false
    this.#frames = []
    this.#unseen = []
    this.#lengths.clear()
    this.#applied = 0
    this.#version = 0
  }

  /** Re-apply changes kept from an earlier visit; those that still do not apply are stranded. */
  #restore(id: number, changes: { hash: string; bytes: Uint8Array }[]) {
    const missing = changes.filter((c) => !this.#has(c.hash))
    if (missing.length) {
      const patches: AM.Patch[] = []
      try {
        this.#doc = this.A.applyChanges(this.#doc, missing.map((c) => c.bytes), { patchCallback: (p) => patches.push(...p) })[0]
      } catch {
        // Changes from an incompatible replica: the page shows them as stranded instead of losing them.
      }
      this.#remote(patches)
    }
    this.post({ type: 'restored', id, stranded: missing.filter((c) => !this.#has(c.hash)).map((c) => c.hash) })
    this.#flush()
  }

  #has(hash: string): boolean {
    try {
      return this.A.hasHeads(this.#doc, [hash])
    } catch {
      return false
    }
  }

  /** A position in the page's text (after `base` remote batches) as a position in the document. */
  #toDocument(file: string, pos: number, base: number): number {
    for (const { version, batch } of this.#unseen) {
      const edit = batch.get(file)
      if (version > base && edit && 'changes' in edit) pos = edit.changes.mapPos(Math.min(pos, edit.changes.length))
    }
    return pos
  }

  #cursor(file: string, pos: number): string | number {
    try {
      return this.A.getCursor(this.#doc, ['files', file], pos)
    } catch {
      return pos
    }
  }

  #position(file: string, cursor: string): number | null {
    try {
      return this.A.getCursorPosition(this.#doc, ['files', file], cursor)
    } catch {
      return null
    }
  }

  /**
   * Send what the server lacks. One message per batch of frames or local change is all the
   * protocol needs; looping until Automerge returns nothing would spin forever when it answers a
   * reset (it repeats the reset until the server replies). Once this connection's handshake is
   * over (we told the server heads equal to its own, needing nothing), a message with neither
   * changes nor `need` stays home: protocol 2's server pushes without waiting for replies, so our
   * heads alone would only cost both sides a frame.
   */
  #flush() {
    const conn = this.#conn
    if (conn === null) return
    const [sync, bytes] = this.A.generateSyncMessage(this.#doc, this.#sync)
    this.#sync = sync
    if (!bytes) return
    const { changes, need, heads } = this.A.decodeSyncMessage(bytes)
    if (this.#quiet && !changes.length && !need.length) return
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    this.post({ type: 'send', conn, bytes }, whole ? [bytes.buffer as ArrayBuffer] : [])
    if (this.#synced && !need.length && heads.length === this.#theirHeads.length && heads.every((h) => this.#theirHeads.includes(h))) this.#quiet = true
  }
}
