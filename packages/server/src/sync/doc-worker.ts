import { parentPort } from 'node:worker_threads'
import * as A from '@automerge/automerge'
import type { DocShape } from '@session-kit/core'
import { concatBytes, splitChunks } from './changes.js'
import { restoreInto } from './doc-edit.js'
import { TextIndex, type TextIndexTransfer } from './text-index.js'

/**
 * The document thread: every loaded room's Automerge document lives here, never on the event
 * loop. Each Automerge call costs time in proportion to the document (applying a batch of changes
 * ≈ 18 ms at 40,000 characters, loading 50,000 changes ≈ 300 ms), so here they delay nobody's
 * keystrokes. The event loop verifies, stores and relays changes with a plain JavaScript index
 * (TextIndex) and sends the committed ones here; they are applied in batches, when a document is
 * needed (a peer's handshake, a save) or every few seconds.
 */

export type DocRequest =
  | { op: 'load'; sid: string; base: Uint8Array; chunks: { id: number; data: Uint8Array }[] }
  | { op: 'index'; sid: string; chunks: Uint8Array[] }
  | { op: 'apply'; sid: string; changes: Uint8Array[] }
  | { op: 'apply-many'; rooms: [sid: string, changes: Uint8Array[]][] }
  | { op: 'start'; sid: string; peer: number }
  | { op: 'step'; sid: string; peer: number; message: Uint8Array }
  | { op: 'forget'; sid: string; peer: number }
  | { op: 'whole'; sid: string }
  | { op: 'save'; sid: string }
  | { op: 'changes'; sid: string; hashes: string[] }
  | { op: 'all'; sid: string }
  | { op: 'edit'; sid: string; files: Record<string, string> }
  | { op: 'merge'; sid: string; parts: Uint8Array[] }
  | { op: 'drop'; sid: string }

export interface Loaded {
  heads: string[]
  files: Record<string, string>
  /** Chunks that could not be read (skipped; the room still opens). */
  problems: string[]
}
export interface Indexed {
  index: TextIndexTransfer
  hashes: string[]
  /** Each actor's newest change among the chunks after the base: what advances the stored actor table. */
  actors: { actor: string; seq: number; maxOp: number }[]
}
export interface StepResult {
  /** Send this to the peer (a sync message), if anything. */
  reply: Uint8Array | null
  /** The peer holds what we hold: it goes live. */
  live: boolean
  /** The peer has nothing: send it the whole document (a compacted save) with these heads. */
  whole?: { bytes: Uint8Array; heads: string[] }
}

/** Apply waiting changes once this many have piled up, or after this long. */
const FOLD_PENDING = 2000
const FOLD_MS = 5000

class OpenDoc {
  doc: A.Doc<DocShape>
  pending: Uint8Array[] = []
  peers = new Map<number, A.SyncState>()
  saved?: { key: string; bytes: Uint8Array }
  timer?: NodeJS.Timeout

  constructor(doc: A.Doc<DocShape>) {
    this.doc = doc
  }

  fold() {
    clearTimeout(this.timer)
    this.timer = undefined
    if (!this.pending.length) return
    const batch = this.pending
    this.pending = []
    try {
      this.doc = A.applyChanges(this.doc, batch)[0]
    } catch {
      // Defence in depth (changes were verified before they were stored): take what applies.
      for (const c of batch) {
        try {
          this.doc = A.applyChanges(A.clone(this.doc), [c])[0]
        } catch {
          // This change cannot be applied; the rest still can.
        }
      }
    }
  }
}

const docs = new Map<string, OpenDoc>()

function open(sid: string): OpenDoc {
  const d = docs.get(sid)
  if (!d) throw new Error(`room ${sid} is not loaded`)
  return d
}

/** The document, every committed change applied. */
function current(sid: string): A.Doc<DocShape> {
  const d = open(sid)
  d.fold()
  return d.doc
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x))

function fileTexts(doc: A.Doc<DocShape>): Record<string, string> {
  const files: Record<string, string> = {}
  for (const [name, text] of Object.entries(doc.files ?? {})) files[name] = String(text)
  return files
}

function load(sid: string, base: Uint8Array, chunks: { id: number; data: Uint8Array }[]): Loaded {
  const problems: string[] = []
  let doc: A.Doc<DocShape>
  try {
    doc = A.load<DocShape>(concatBytes([base, ...chunks.map((c) => c.data)]))
  } catch (e) {
    problems.push(`loading all chunks at once failed (${(e as Error).message}); loading them one by one`)
    doc = A.load<DocShape>(base)
    for (const chunk of chunks) {
      try {
        doc = A.loadIncremental(doc, chunk.data)
      } catch (err) {
        problems.push(`skipped unreadable chunk ${chunk.id}: ${(err as Error).message}`)
      }
    }
  }
  docs.get(sid)?.peers.clear()
  const open = new OpenDoc(doc)
  const heads = A.getHeads(doc)
  // A compacted base with nothing after it is already what a fresh peer is sent: no save needed.
  if (!chunks.length && !problems.length) open.saved = { key: heads.join(','), bytes: base }
  docs.set(sid, open)
  return { heads, files: fileTexts(doc), problems }
}

/** Changes decoded between two looks at the thread's other requests while an index is built. */
const INDEX_SLICE = 1000
const nextTurn = () => new Promise<void>((r) => setImmediate(r))

/**
 * The plain index of a loaded document: every change decoded once, in causal order. In slices,
 * so that requests arriving meanwhile — a first peer's handshake, above all — are answered
 * between them rather than after the whole build (≈ 1 s for 50,000 changes).
 */
async function index(sid: string, chunks: Uint8Array[]): Promise<Indexed> {
  const all = A.getAllChanges(current(sid))
  const text = new TextIndex()
  const hashes: string[] = []
  for (let i = 0; i < all.length; i++) {
    const change = A.decodeChange(all[i]!)
    hashes.push(change.hash)
    text.apply(change)
    if ((i + 1) % INDEX_SLICE === 0) await nextTurn()
  }
  const actors = new Map<string, { actor: string; seq: number; maxOp: number }>()
  for (const data of chunks) {
    try {
      for (const bytes of splitChunks(data)) {
        const c = A.decodeChange(bytes)
        const prior = actors.get(c.actor)
        if (!prior || prior.seq < c.seq) actors.set(c.actor, { actor: c.actor, seq: c.seq, maxOp: c.startOp + c.ops.length - 1 })
      }
    } catch {
      // An unreadable chunk was skipped when loading; its actors stay as they were.
    }
  }
  return { index: text.export(), hashes, actors: [...actors.values()] }
}

function apply(sid: string, changes: Uint8Array[]) {
  const d = open(sid)
  d.pending.push(...changes)
  if (d.pending.length >= FOLD_PENDING) d.fold()
  else if (!d.timer) {
    d.timer = setTimeout(() => d.fold(), FOLD_MS)
  }
}

/** Start Automerge's own handshake with a peer, against the whole document. */
function start(sid: string, peer: number): Uint8Array | null {
  const doc = current(sid)
  const [state, msg] = A.generateSyncMessage(doc, A.initSyncState())
  open(sid).peers.set(peer, state)
  return msg
}

function whole(sid: string): { bytes: Uint8Array; heads: string[] } {
  const d = open(sid)
  const doc = current(sid)
  const heads = A.getHeads(doc)
  const key = heads.join(',')
  if (d.saved?.key !== key) d.saved = { key, bytes: A.save(doc) }
  return { bytes: d.saved.bytes, heads }
}

/** One handshake step: the peer's message (its changes already stored) and what to answer. */
function step(sid: string, peer: number, message: Uint8Array): StepResult {
  const d = open(sid)
  const doc = current(sid)
  const msg = A.decodeSyncMessage(message)
  const heads = A.getHeads(doc)
  if (msg.need.length === 0 && sameSet(msg.heads, heads)) return { reply: null, live: true }
  // A peer with nothing (a page just opened) gets the document as one compacted save: far cheaper
  // than Automerge's change-by-change answer, and cached until the document changes.
  if (msg.heads.length === 0) return { reply: null, live: false, whole: whole(sid) }
  const state = d.peers.get(peer) ?? A.initSyncState()
  // Its changes were already taken (and applied here): only what it says about heads is read.
  const [after, received] = A.receiveSyncMessage(doc, state, A.encodeSyncMessage({ ...msg, changes: [] }))
  d.doc = after
  const [next, reply] = A.generateSyncMessage(after, received)
  d.peers.set(peer, next)
  if (reply) return { reply, live: false }
  return { reply: null, live: sameSet(msg.heads, heads) }
}

function changes(sid: string, hashes: string[]): (Uint8Array | null)[] {
  const backend = A.getBackend(current(sid))
  return hashes.map((h) => backend.getChangeByHash(h) ?? null)
}

/** A change the server makes itself (file routes, restores): made here, applied once it is stored. */
function edit(sid: string, files: Record<string, string>): Uint8Array[] {
  const doc = current(sid)
  const next = A.change(A.clone(doc), (d) => restoreInto(d, files))
  return A.getChanges(doc, next)
}

/** Merge what the store holds (after a compaction raced a notification); returns the changes that were new. */
function merge(sid: string, parts: Uint8Array[]): Uint8Array[] {
  const d = open(sid)
  const before = current(sid)
  let doc = before
  for (const part of parts) doc = A.loadIncremental(doc, part)
  d.doc = doc
  return A.getChanges(before, doc)
}

function handle(req: DocRequest): unknown {
  switch (req.op) {
    case 'load':
      return load(req.sid, req.base, req.chunks)
    case 'index':
      return index(req.sid, req.chunks)
    case 'apply':
      return apply(req.sid, req.changes)
    case 'apply-many':
      for (const [sid, changes] of req.rooms) if (docs.has(sid)) apply(sid, changes)
      return
    case 'start':
      return start(req.sid, req.peer)
    case 'step':
      return step(req.sid, req.peer, req.message)
    case 'forget':
      return void docs.get(req.sid)?.peers.delete(req.peer)
    case 'whole':
      return whole(req.sid)
    case 'save': {
      const doc = current(req.sid)
      return { bytes: A.save(doc), heads: A.getHeads(doc) }
    }
    case 'changes':
      return changes(req.sid, req.hashes)
    case 'all':
      return A.getAllChanges(current(req.sid))
    case 'edit':
      return edit(req.sid, req.files)
    case 'merge':
      return merge(req.sid, req.parts)
    case 'drop': {
      clearTimeout(docs.get(req.sid)?.timer)
      return void docs.delete(req.sid)
    }
  }
}

/** Requests carry an id when they expect an answer; `apply`, `forget` and `drop` do not. */
parentPort?.on('message', ({ id, req }: { id: number; req: DocRequest }) => {
  const answer = (reply: { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }) => {
    if (id) parentPort!.postMessage(reply)
  }
  const failed = (e: unknown) => answer({ id, ok: false, error: (e as Error).message })
  try {
    const value = handle(req)
    if (value instanceof Promise) value.then((v) => answer({ id, ok: true, value: v }), failed)
    else answer({ id, ok: true, value })
  } catch (e) {
    failed(e)
  }
})
