import * as A from '@automerge/automerge'
import { can, CloseCode, Permission, permissionsFor, type PresenceInfo, type Role, type ServerError } from '@session-kit/core'
import type { Sql } from '../store/db.js'
import { compactDocument, getChunk, loadDocument } from '../store/documents.js'
import { loadActors, type ActorState } from '../store/events.js'
import type { SessionRow } from '../store/sessions.js'
import { causalOrder, missingDeps, skipsOwnChanges, splitChunks, concatBytes, type IncomingChange } from './changes.js'
import type { Committer } from './committer.js'
import type { WriteRefusal } from './intake.js'
import { chars, LimitError, MAX_PARKED_BYTES, REPEAT_OFFENCE, waitInWords, type SyncLimits } from './limits.js'
import { Peer, type Relayable } from './peer.js'
import { effectsOf, verifyChanges, type ChangeEffects, type DocIndex } from './verify.js'

export interface DocShape {
  files: Record<string, string>
}

/** A committed change not yet folded into the room's Automerge document. */
interface Committed extends Relayable {
  deps: string[]
  origin: Peer | null
}


export interface RoomDeps {
  sql: Sql
  committer: Committer
  limits: SyncLimits
  log: (msg: string) => void
  /** The time stamped on committed changes. */
  clock: () => Date
  /** Called when the room must be dropped (after a failed commit) so the next hello reloads it. */
  onReset: (room: Room) => void
  /** Keep someone out of this room until `until` (after repeated refused writes). */
  keepOut: (userId: string, until: Date) => void
  /** Presence of peers on other instances, keyed by connection id. */
  publishPresence?: (room: Room, peer: Peer | null, left?: { userId: string; connId: string }) => void
}

const EMPTY_BLOOM = new Uint8Array(0)
/** Fold committed changes into the document after this much quiet, and at least this often. */
const FOLD_IDLE_MS = 1000
const FOLD_MAX_MS = 3_000
const FOLD_MAX_PENDING = 2000
/** Compact the stored document once this many chunks sit beyond its base. */
const COMPACT_CHUNKS = 500
/** A live peer that has not answered a push gets the next one after this long anyway. */
const REPLY_WAIT_MS = 300
/** How often a writer hears our heads after its own commits (each one costs it a reply frame). */
const HEADS_INTERVAL_MS = 500

/**
 * A push: changes with our heads, and those heads as what we last synced, which tells the peer we
 * hold everything up to them (so its answer carries only what it adds).
 */
const pushMessage = (heads: string[], changes: Uint8Array[]) =>
  A.encodeSyncMessage({ type: 'message', heads, need: [], have: [{ lastSync: heads, bloom: EMPTY_BLOOM }], changes } as A.DecodedSyncMessage)
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x))

/**
 * One session's live document and the peers connected to it on this instance.
 *
 * The hot path never applies a change to Automerge: per LESSONS.md, each apply call costs time
 * proportional to the text's size (≈ 10 ms at 10,000 characters), so a hub applying every
 * keystroke saturates a core with a few typists. Instead a writer's changes are decoded and
 * verified structurally against the document (`verifyChanges`, O(ops)), committed to PostgreSQL
 * by the group committer, acknowledged, and pushed to every live peer as a standard Automerge sync
 * message carrying the raw change bytes. They are folded into the document in one `applyChanges`
 * call per batch (idle or every few seconds) — or at once when a new peer's handshake, a document
 * read or a snapshot needs the document.
 */
export class Room implements DocIndex {
  readonly peers = new Set<Peer>()
  /** Presence of peers connected to other instances (by connection id). */
  readonly remotePresence = new Map<string, PresenceInfo>()
  doc: A.Doc<DocShape>
  filesObj: string
  /** Heads of every durable change: the folded document plus committed, unfolded changes. */
  heads: string[]
  #pending: Committed[] = []
  #pendingByHash = new Map<string, Committed>()
  #depended = new Set<string>()
  #inFlight = new Map<string, ChangeEffects>()
  #overlayTexts = new Map<string, string>()
  #overlayElements = new Set<string>()
  /** Files added (+) or deleted (−) by changes not folded yet. */
  #overlayFiles = 0
  /** Characters (and other elements) ever inserted into the document, deleted ones included. */
  #size: number
  #textCache = new Map<string, string | null | undefined>()
  #actors: Map<string, ActorState>
  #foldedChunkIds: number[]
  #pendingChunkIds: number[] = []
  #lastCommit: Promise<unknown> = Promise.resolve()
  /** Chunks from other instances are taken one after another, each after our own earlier commits. */
  #remoteChain: Promise<unknown> = Promise.resolve()
  #foldTimer?: NodeJS.Timeout
  #firstUnfoldedAt = 0
  /** How long this batch may wait to be folded: FOLD_MAX_MS ± 50 %, drawn per batch (see #scheduleFold). */
  #foldWithinMs = FOLD_MAX_MS
  #offences = new Map<string, number[]>()
  #failed = false
  #compacting = false
  /** The folded document's save(), for peers that start from nothing (keyed by its heads). */
  #saved?: { key: string; bytes: Uint8Array }
  idleTimer?: NodeJS.Timeout
  /** Whether a recording is running (shown to everyone in the room). */
  recordingState: 'off' | 'recording' | 'paused' = 'off'
  /** Changes accepted from peers (for the benchmarks and health). */
  stats = { accepted: 0, folds: 0, foldMs: 0 }

  private constructor(
    readonly id: string,
    public session: SessionRow,
    doc: A.Doc<DocShape>,
    actors: Map<string, ActorState>,
    chunkIds: number[],
    private readonly deps: RoomDeps,
  ) {
    this.doc = doc
    this.filesObj = A.getObjectId(doc, 'files') as string
    this.heads = A.getHeads(doc)
    this.#actors = actors
    this.#foldedChunkIds = chunkIds
    this.#size = A.stats(doc).numOps
  }

  /** Load a session's document from its base and chunks. Never writes a document it failed to load. */
  static async load(session: SessionRow, deps: RoomDeps): Promise<Room> {
    const stored = await loadDocument(deps.sql, session.id)
    if (!stored) throw new Error(`session ${session.id} has no document`)
    let doc: A.Doc<DocShape>
    try {
      doc = A.load<DocShape>(concatBytes([stored.base, ...stored.chunks.map((c) => c.data)]))
    } catch (e) {
      // Defence in depth: verification keeps bad changes out, but a room must still open.
      deps.log(`room ${session.id}: loading all chunks at once failed (${(e as Error).message}); loading them one by one`)
      doc = A.load<DocShape>(stored.base)
      for (const chunk of stored.chunks) {
        try {
          doc = A.loadIncremental(doc, chunk.data)
        } catch (err) {
          deps.log(`room ${session.id}: skipped unreadable chunk ${chunk.id}: ${(err as Error).message}`)
        }
      }
    }
    // Actor sequence numbers are stored as of the base; the chunks after it advance them.
    const actors = await loadActors(deps.sql, session.id)
    for (const chunk of stored.chunks) {
      try {
        for (const bytes of splitChunks(chunk.data)) advanceActor(actors, A.decodeChange(bytes))
      } catch {
        // An unreadable chunk was skipped above; its actors stay as they were.
      }
    }
    const room = new Room(session.id, session, doc, actors, stored.chunks.map((c) => c.id), deps)
    const [active] = await deps.sql<{ status: 'recording' | 'paused' }[]>`select status from recordings where session_id = ${session.id} and status in ('recording', 'paused')`
    room.recordingState = active?.status ?? 'off'
    return room
  }

  // ---- DocIndex: what the verifier may ask -------------------------------------------------

  hasChange(hash: string): boolean {
    return this.#inFlight.has(hash) || this.#pendingByHash.has(hash) || A.getBackend(this.doc).getChangeMetaByHash(hash) !== null
  }

  textFile(obj: string): string | null | undefined {
    const overlay = this.#overlayTexts.get(obj)
    if (overlay !== undefined) return overlay
    if (this.#textCache.has(obj)) return this.#textCache.get(obj)
    let result: string | null | undefined
    try {
      const info = A.getBackend(this.doc).objInfo(obj)
      if (info.type !== 'text') result = undefined
      else result = info.path?.length === 2 && info.path[0] === 'files' ? String(info.path[1]) : null
    } catch {
      result = undefined
    }
    this.#textCache.set(obj, result)
    return result
  }

  hasElement(obj: string, elemId: string): boolean {
    if (this.#overlayElements.has(obj + '|' + elemId)) return true
    try {
      A.getBackend(this.doc).getCursorPosition(obj, elemId)
      return true
    } catch {
      return false
    }
  }

  actor(actor: string): ActorState | undefined {
    return this.#actors.get(actor)
  }

  fileCount(): number {
    return Object.keys(this.doc.files ?? {}).length + this.#overlayFiles
  }

  /** Characters (and other elements) ever inserted, deleted ones included: what the document limit counts. */
  get size(): number {
    return this.#size
  }

  // ---- writes ------------------------------------------------------------------------------

  /**
   * A writer's sync message carried changes, read within the limits by the Intake. Verify them all
   * (a refusal takes none), then commit, acknowledge and relay. Resolves once they are durable (or
   * at once if nothing was new).
   */
  receiveChanges(peer: Peer, incoming: IncomingChange[]): { ok: true; durable: Promise<unknown> } | { ok: false; error: ServerError } {
    // The Intake checked this before reading; checked again here, where changes are merged, as
    // permissions may have changed while a large message was being decoded.
    if (!can(peer.ctx, Permission.EDIT_CODE)) {
      return { ok: false, error: { type: 'error', code: 'forbidden', permission: Permission.EDIT_CODE, message: editRefusal(peer) } }
    }
    // Automerge leaves out a change it wrongly believes we hold (a false positive of our Bloom
    // filter, about 1 in 100 peers rejoining with unsaved edits) and sends the ones after it. The
    // protocol's answer is to ask for it: hold the rest until it comes. A dependency that is not
    // one of the peer's own skipped changes cannot be legitimate and is refused below.
    if (peer.parked.length) incoming = causalOrder([...peer.parked, ...incoming])
    const missing = missingDeps(incoming, (h) => this.hasChange(h))
    const fresh = () => incoming.filter((c) => !this.hasChange(c.change.hash))
    if (missing.length && skipsOwnChanges(fresh(), (a) => this.#actors.get(a)?.seq ?? 0)) {
      if (incoming.reduce((n, c) => n + c.bytes.length, 0) > MAX_PARKED_BYTES) {
        return { ok: false, error: { type: 'error', code: 'invalid_change', message: 'Your changes depend on changes you did not send.' } }
      }
      peer.parked = incoming
      peer.sendBinary(A.encodeSyncMessage({ type: 'message', heads: this.heads, need: missing, have: [], changes: [] } as A.DecodedSyncMessage))
      return { ok: true, durable: this.#lastCommit }
    }
    peer.parked = []
    const verdict = verifyChanges(this, incoming, { userId: peer.userId, role: peer.ctx.role }, { maxOps: this.deps.limits.maxMessageOps, maxFiles: this.deps.limits.maxFiles })
    if (!verdict.ok) {
      const permission = verdict.code === 'forbidden' ? { permission: Permission.EDIT_CODE } : {}
      return { ok: false, error: { type: 'error', code: verdict.code, message: verdict.message, ...permission } }
    }
    if (!verdict.changes.length) return { ok: true, durable: this.#lastCommit }
    return { ok: true, durable: this.#accept(verdict.changes, verdict.effects, verdict.actors, peer, peer.userId, 'code_change') }
  }

  /**
   * Refuse a writer's message and close its connection as the refusal says. Someone whose writes
   * keep being refused is closed for good (4403) and kept out of the room for a while, so that
   * reconnecting does not start the same thing again.
   */
  refuseWrite(peer: Peer, { error, close, offence }: WriteRefusal) {
    peer.send(error)
    if (!offence) return peer.close(close, error.message)
    const now = Date.now()
    const times = (this.#offences.get(peer.userId) ?? []).filter((t) => now - t < REPEAT_OFFENCE.windowMs)
    times.push(now)
    this.#offences.set(peer.userId, times)
    if (times.length < REPEAT_OFFENCE.count) return peer.close(close, error.message)
    const until = new Date(now + this.deps.limits.writeCooldownMs)
    peer.close(CloseCode.Forbidden, `Closed after repeated refused writes; you can rejoin in ${waitInWords(this.deps.limits.writeCooldownMs)}. ${error.message}`)
    this.deps.keepOut(peer.userId, until)
  }

  #accept(
    changes: IncomingChange[],
    effects: ChangeEffects[],
    actors: Map<string, ActorState>,
    origin: Peer | null,
    userId: string,
    kind: 'code_change' | 'server_change',
  ): Promise<unknown> {
    changes.forEach((c, i) => {
      const effect = effects[i]!
      this.#addEffects(effect)
      this.#size += effect.elements.length
      this.#inFlight.set(c.change.hash, effect)
    })
    const newActors: { actor: string; userId: string }[] = []
    for (const [actor, state] of actors) {
      if (!this.#actors.has(actor)) newActors.push({ actor, userId: state.userId })
      this.#actors.set(actor, state)
    }
    this.stats.accepted += changes.length
    const durable = this.deps.committer
      .commit({ sessionId: this.id, changes, userId, newActors, at: this.deps.clock(), kind, isCancelled: () => this.#failed })
      .then(
        (chunkId) => this.#committed(changes, origin, chunkId),
        (err) => this.#commitFailed(err),
      )
    this.#lastCommit = durable
    return durable
  }

  #addEffects(effect: ChangeEffects) {
    for (const [obj, key] of effect.texts) this.#overlayTexts.set(obj, key)
    for (const e of effect.elements) this.#overlayElements.add(e)
    this.#overlayFiles += effect.files
  }

  #committed(changes: IncomingChange[], origin: Peer | null, chunkId: number) {
    if (this.#failed) return
    const relay: Committed[] = []
    for (const { bytes, change } of changes) {
      const c: Committed = { bytes, hash: change.hash, deps: change.deps, origin }
      this.#inFlight.delete(change.hash)
      this.#addCommitted(c)
      relay.push(c)
    }
    this.#pendingChunkIds.push(chunkId)
    if (origin && !origin.closed) {
      origin.send({ type: 'ack', changes: changes.map((c) => c.change.hash) })
      this.#tellHeads(origin)
    }
    this.#relay(relay)
  }

  #addCommitted(c: Committed) {
    this.#pending.push(c)
    this.#pendingByHash.set(c.hash, c)
    if (!this.#firstUnfoldedAt) {
      this.#firstUnfoldedAt = Date.now()
      // Rooms that start typing together would otherwise fold together, every FOLD_MAX_MS, and
      // their folds (each several ms on a large text) add up to one long stall of the event loop
      // for every room on it: the sync benchmark's p99. A random wait per batch spreads them.
      this.#foldWithinMs = FOLD_MAX_MS * (0.5 + Math.random())
    }
    // Heads: drop what this change depends on; add it unless something already depends on it.
    for (const d of c.deps) this.#depended.add(d)
    this.heads = this.heads.filter((h) => !c.deps.includes(h))
    if (!this.#depended.has(c.hash) && !this.heads.includes(c.hash)) this.heads.push(c.hash)
    this.#scheduleFold()
  }

  #relay(changes: Committed[]) {
    for (const peer of this.peers) {
      if (peer.mode !== 'live') continue
      for (const c of changes) if (c.origin !== peer) peer.outbox.push(c)
      this.flush(peer)
    }
  }

  #commitFailed(err: unknown) {
    if (this.#failed) return
    this.#failed = true
    this.deps.log(`room ${this.id}: could not save changes (${(err as Error).message}); closing its connections so clients rejoin and resend`)
    for (const peer of this.peers) peer.close(1011, 'The server could not save your last changes; reconnecting to send them again.')
    this.peers.clear()
    this.deps.onReset(this)
  }

  get failed() {
    return this.#failed
  }

  /**
   * Tell a writer our heads now and then. Automerge works out what to send from the heads it last
   * heard we have, so a writer nobody else answers would scan ever more of its own history with
   * every keystroke (measured: 2,000 keystrokes alone took 26 s). Throttled, because the peer
   * answers each one with a frame of its own.
   */
  #tellHeads(peer: Peer) {
    if (peer.headsTimer) return
    const wait = peer.headsSentAt + HEADS_INTERVAL_MS - Date.now()
    if (wait <= 0) return this.flush(peer, true)
    peer.headsTimer = setTimeout(() => {
      peer.headsTimer = undefined
      if (this.peers.has(peer)) this.flush(peer, true)
    }, wait)
    peer.headsTimer.unref()
  }

  /**
   * Push a live peer what it has not seen, as one standard sync message: the changes, our heads,
   * and a `have` whose lastSync is those heads, so its reply carries only its own new changes.
   */
  flush(peer: Peer, force = false) {
    if (peer.mode !== 'live' || peer.closed || (!peer.outbox.length && !force)) return
    const waited = Date.now() - peer.awaitingSince
    if (peer.awaitingReply && waited < REPLY_WAIT_MS) {
      if (!peer.flushTimer) peer.flushTimer = setTimeout(() => ((peer.flushTimer = undefined), this.flush(peer)), REPLY_WAIT_MS - waited)
      return
    }
    clearTimeout(peer.flushTimer)
    peer.flushTimer = undefined
    const heads = [...this.heads]
    const msg = pushMessage(heads, peer.outbox.map((c) => c.bytes))
    // Only a push with changes expects an answer (a peer has nothing to say about heads alone).
    if (peer.outbox.length) {
      peer.awaitingReply = true
      peer.awaitingSince = Date.now()
    }
    peer.outbox = []
    peer.headsSentAt = Date.now()
    peer.sendBinary(msg)
  }

  // ---- sync protocol -----------------------------------------------------------------------

  /** Start the sync handshake with a new peer: Automerge's own protocol against the folded doc. */
  startSync(peer: Peer) {
    peer.mode = 'handshake'
    peer.syncState = A.initSyncState()
    this.fold()
    const [state, msg] = A.generateSyncMessage(this.doc, peer.syncState)
    peer.syncState = state
    if (msg) peer.sendBinary(msg)
  }

  /** A binary frame from a sync peer (its changes, if any, were handled by receiveChanges). */
  syncMessage(peer: Peer, msg: A.DecodedSyncMessage, durable: Promise<unknown>) {
    peer.awaitingReply = false
    if (peer.mode === 'live') {
      this.#liveMessage(peer, msg)
      return
    }
    peer.chain = peer.chain
      .then(() => durable)
      .then(() => this.#handshakeStep(peer, msg))
      .catch((e: Error) => this.deps.log(`room ${this.id}: handshake step failed: ${e.message}`))
  }

  #handshakeStep(peer: Peer, msg: A.DecodedSyncMessage) {
    if (peer.closed || this.#failed) return
    if (peer.mode === 'live') return this.#liveMessage(peer, msg)
    // The peer holds exactly the folded document: go live and push what was committed since.
    if (msg.need.length === 0 && sameSet(msg.heads, A.getHeads(this.doc))) return this.#goLive(peer)
    this.fold()
    if (msg.heads.length === 0) return this.#sendWhole(peer)
    const [doc, state] = A.receiveSyncMessage(this.doc, peer.syncState, A.encodeSyncMessage({ ...msg, changes: [] }))
    this.doc = doc
    const [state2, out] = A.generateSyncMessage(this.doc, state)
    peer.syncState = state2
    if (out) peer.sendBinary(out)
    else if (sameSet(msg.heads, A.getHeads(this.doc))) this.#goLive(peer)
  }

  /**
   * A peer with nothing (a page just opened) gets the document as one compacted save(): per
   * LESSONS.md far cheaper to make than Automerge's change-by-change answer (at 50,000 changes:
   * ≈ 20 ms once, cached until the next fold, against ≈ 100–300 ms for every new peer). Our heads
   * as lastSync tell it we hold everything, so it answers with its heads alone and goes live.
   */
  #sendWhole(peer: Peer) {
    const heads = A.getHeads(this.doc)
    const key = heads.join(',')
    if (this.#saved?.key !== key) this.#saved = { key, bytes: A.save(this.doc) }
    peer.sendBinary(pushMessage(heads, [this.#saved.bytes]))
  }

  #goLive(peer: Peer) {
    peer.mode = 'live'
    peer.outbox = this.#pending.filter((c) => c.origin !== peer)
    peer.awaitingReply = false
    // Always tell it our heads, with them as lastSync: its later writes then carry only its own
    // new changes (an Automerge peer that thinks we have nothing sends its whole document).
    this.flush(peer, true)
  }

  #liveMessage(peer: Peer, msg: A.DecodedSyncMessage) {
    // A reset (the peer lost track of what we have) or heads we cannot account for: start over
    // with Automerge's own handshake, which always converges.
    const reset = msg.have.length > 0 && msg.have[0]!.lastSync.length === 0 && this.heads.length > 0
    if (reset || !msg.heads.every((h) => this.hasChange(h))) {
      this.startSync(peer)
      return
    }
    if (msg.need.length) {
      const backend = A.getBackend(this.doc)
      for (const hash of msg.need) {
        const bytes = this.#pendingByHash.get(hash)?.bytes ?? backend.getChangeByHash(hash)
        if (!bytes) return this.startSync(peer)
        if (!peer.outbox.some((c) => c.hash === hash)) peer.outbox.push({ bytes, hash })
      }
      peer.awaitingReply = false
    }
    this.flush(peer)
  }

  // ---- folding and compaction --------------------------------------------------------------

  #scheduleFold() {
    if (this.#pending.length >= FOLD_MAX_PENDING || Date.now() - this.#firstUnfoldedAt >= this.#foldWithinMs) {
      this.fold()
      return
    }
    clearTimeout(this.#foldTimer)
    this.#foldTimer = setTimeout(() => this.fold(), FOLD_IDLE_MS)
    this.#foldTimer.unref()
  }

  /** Apply every committed change to the document in one call (cost ~ one keystroke's). */
  fold() {
    clearTimeout(this.#foldTimer)
    this.#foldTimer = undefined
    if (!this.#pending.length) return
    const t0 = performance.now()
    const batch = this.#pending
    try {
      this.doc = A.applyChanges(this.doc, batch.map((c) => c.bytes))[0]
    } catch (e) {
      this.deps.log(`room ${this.id}: folding ${batch.length} changes failed (${(e as Error).message}); folding one by one`)
      for (const c of batch) {
        try {
          this.doc = A.applyChanges(A.clone(this.doc), [c.bytes])[0]
        } catch (err) {
          this.deps.log(`room ${this.id}: change ${c.hash} could not be applied: ${(err as Error).message}`)
        }
      }
    }
    this.#pending = []
    this.#pendingByHash.clear()
    this.#depended.clear()
    this.#firstUnfoldedAt = 0
    this.#textCache.clear()
    // What accepted-but-uncommitted changes added stays visible to the verifier.
    this.#overlayTexts = new Map()
    this.#overlayElements = new Set()
    this.#overlayFiles = 0
    for (const effect of this.#inFlight.values()) this.#addEffects(effect)
    this.heads = A.getHeads(this.doc)
    this.#foldedChunkIds.push(...this.#pendingChunkIds)
    this.#pendingChunkIds = []
    this.stats.folds++
    this.stats.foldMs += performance.now() - t0
    if (this.#foldedChunkIds.length >= COMPACT_CHUNKS) void this.compact()
  }

  /** Replace the stored base with a fresh save of the folded document; drop the chunks it holds. */
  async compact(): Promise<void> {
    if (this.#compacting || this.#failed) return
    this.fold()
    const ids = [...this.#foldedChunkIds]
    if (!ids.length) return
    this.#compacting = true
    try {
      await compactDocument(this.deps.sql, this.id, A.save(this.doc), A.getHeads(this.doc), ids, this.#actors, this.snapshot().files)
      this.#foldedChunkIds = this.#foldedChunkIds.filter((id) => !ids.includes(id))
    } catch (e) {
      this.deps.log(`room ${this.id}: compaction failed (${(e as Error).message}); will try again later`)
    } finally {
      this.#compacting = false
    }
  }

  /** The current files as plain text, with heads: what `GET …/document` returns. */
  snapshot(): { files: Record<string, string>; heads: string[] } {
    this.fold()
    const files: Record<string, string> = {}
    for (const [name, text] of Object.entries(this.doc.files ?? {})) files[name] = String(text)
    return { files, heads: A.getHeads(this.doc) }
  }

  /**
   * Commit a change the server makes itself (restores and file routes): made on the folded
   * document by a server actor, then stored, relayed and folded like any other.
   */
  async serverChange(fn: A.ChangeFn<DocShape>, userId: string): Promise<string[]> {
    this.fold()
    const before = A.getHeads(this.doc)
    const next = A.change(A.clone(this.doc), fn)
    const raw = A.getChanges(this.doc, next)
    if (!raw.length) return before
    const incoming = raw.map((bytes) => ({ bytes, change: A.decodeChange(bytes) }))
    const actors = new Map<string, ActorState>()
    for (const c of incoming) actors.set(c.change.actor, { userId: '', seq: c.change.seq, maxOp: c.change.startOp + c.change.ops.length - 1 })
    const effects = incoming.map((c) => effectsOf(c.change, this.filesObj))
    // Instructors' file routes and restores are held to the same document and file limits.
    const { maxDocumentChars, maxFiles } = this.deps.limits
    const inserted = effects.reduce((n, e) => n + e.elements.length, 0)
    const files = effects.reduce((n, e) => n + e.files, 0)
    if (inserted > 0 && this.#size + inserted > maxDocumentChars) {
      throw new LimitError('document_full', `This would bring the session's code past its size limit (${chars(maxDocumentChars)} characters typed over its life, deleted ones included).`)
    }
    if (files > 0 && this.fileCount() + files > maxFiles) throw new LimitError('too_many_files', `A session holds at most ${maxFiles} files.`)
    await this.#accept(incoming, effects, actors, null, userId, 'server_change')
    this.fold()
    return A.getHeads(this.doc)
  }

  // ---- changes from other instances --------------------------------------------------------

  /** Another instance committed a chunk for this session: take its changes as durable. */
  remoteChunk(chunkId: number, actorUsers: Record<string, string> = {}) {
    // In notification order, and after our own commits accepted before it arrived, so relays
    // stay causal (a peer must never receive a change before the changes it depends on).
    this.#remoteChain = Promise.all([this.#remoteChain, this.#lastCommit.catch(() => {})]).then(async () => {
      const chunk = await getChunk(this.deps.sql, chunkId)
      if (!chunk) {
        // Compacted away before we read it: everything is in the base now.
        await this.reloadFromStore()
        return
      }
      const relay: Committed[] = []
      for (const bytes of splitChunks(chunk.data)) {
        const change = A.decodeChange(bytes)
        if (this.hasChange(change.hash)) continue
        const effect = effectsOf(change, this.filesObj)
        this.#addEffects(effect)
        this.#size += effect.elements.length
        advanceActor(this.#actors, change, actorUsers[change.actor])
        const c: Committed = { bytes, hash: change.hash, deps: change.deps, origin: null }
        this.#addCommitted(c)
        relay.push(c)
      }
      this.#pendingChunkIds.push(chunkId)
      this.#relay(relay)
    }).catch((e: Error) => this.deps.log(`room ${this.id}: could not read chunk ${chunkId}: ${e.message}`))
  }

  /** Merge whatever the store holds that we do not (after a compaction raced a notification). */
  async reloadFromStore() {
    const stored = await loadDocument(this.deps.sql, this.id)
    if (!stored) return
    this.fold()
    let doc = this.doc
    for (const part of [stored.base, ...stored.chunks.map((c) => c.data)]) doc = A.loadIncremental(doc, part)
    const fresh = A.getChanges(this.doc, doc)
    this.doc = doc
    this.heads = A.getHeads(doc)
    this.#textCache.clear()
    this.#size = A.stats(doc).numOps
    this.#actors = await loadActors(this.deps.sql, this.id)
    if (fresh.length) for (const peer of this.peers) if (peer.mode === 'live') this.startSync(peer)
  }

  // ---- permissions -------------------------------------------------------------------------

  /** Re-evaluate a peer's permissions after a role, mute, lock or session change. */
  updatePermissions(peer: Peer, reason?: string) {
    const hadEdit = can(peer.ctx, Permission.EDIT_CODE)
    peer.ctx = Peer.context(peer.claims, peer.participant, this.session)
    peer.permissions = permissionsFor(peer.ctx)
    peer.send({ type: 'permissions', participant: peer.info, permissions: peer.permissions, session: this.sessionInfo(), reason })
    if (peer.sync && hadEdit && !can(peer.ctx, Permission.EDIT_CODE)) {
      // Its replica may hold changes we will now refuse: rejoin from the server's state.
      peer.close(CloseCode.PermissionsChanged, reason ?? 'Your permissions changed: you can no longer edit.')
    }
  }

  sessionInfo() {
    return {
      id: this.session.id,
      title: this.session.title,
      language: this.session.language,
      editingLocked: this.session.editingLocked,
      recording: this.recordingState === 'recording',
      recordingState: this.recordingState,
    }
  }

  /** Who is here now, as a viewer with `role` may see it (hidden people only for instructors). */
  presenceList(viewerRole: Role): PresenceInfo[] {
    const byUser = new Map<string, PresenceInfo>()
    for (const p of this.peers) byUser.set(p.userId, p.presence)
    for (const p of this.remotePresence.values()) if (!byUser.has(p.userId)) byUser.set(p.userId, p)
    return [...byUser.values()].filter((p) => viewerRole === 'instructor' || !p.hidden)
  }

  get pendingCount() {
    return this.#pending.length
  }
}

/** Record an actor's newest change (binding it to `userId` if it is new). */
function advanceActor(actors: Map<string, ActorState>, change: A.DecodedChange, userId?: string) {
  const prior = actors.get(change.actor)
  if (prior && prior.seq >= change.seq) return
  actors.set(change.actor, { userId: prior?.userId ?? userId ?? '', seq: change.seq, maxOp: change.startOp + change.ops.length - 1 })
}

export function editRefusal(peer: Peer): string {
  if (peer.ctx.role === 'observer') return 'Observers can view the code but not edit it.'
  if (peer.ctx.muted) return 'You are muted by the instructor, so your edits were not saved.'
  if (peer.ctx.editingLocked) return 'The instructor has locked editing, so your edits were not saved.'
  return 'You do not have permission to edit the code.'
}
