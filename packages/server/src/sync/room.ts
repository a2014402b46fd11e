import * as A from '@automerge/automerge'
import { can, Permission, type PresenceInfo, type RecordingPolicy, type Role, type ServerError, type SessionInfo } from '@session-kit/core'
import type { Sql } from '../store/db.js'
import { compactDocument, getChunk, loadDocument } from '../store/documents.js'
import type { ActorState } from '../store/events.js'
import { activeRecordingInfo } from '../store/recordings.js'
import { EMPTY_LECTURE, readLecture, type LectureRecord } from '../store/lecture.js'
import type { SessionRow } from '../store/sessions.js'
import { causalOrder, countEdits, missingDeps, skipsOwnChanges, splitChunks, type IncomingChange } from './changes.js'
import type { Committer } from './committer.js'
import type { DocHost } from './doc-host.js'
import type { WriteRefusal } from './intake.js'
import { advance, CommitQueue, type Batch } from './commit-queue.js'
import { chars, LimitError, MAX_PARKED_BYTES, type SyncLimits } from './limits.js'
import type { Peer } from './peer.js'
import { RoomPresence, type RemotePresence } from './presence.js'
import { Relay, type Committed } from './relay.js'
import { TextIndex } from './text-index.js'
import type { Trace } from './trace.js'
import { verifyChanges, type DocIndex } from './verify.js'
import { editRefusal, RefusedWrites } from './write-refusals.js'

export interface RoomDeps {
  sql: Sql
  committer: Committer
  /** The document thread, where the room's Automerge document lives. */
  docs: DocHost
  limits: SyncLimits
  log: (msg: string) => void
  /** The time stamped on committed changes; null: the database's. */
  clock: () => Date | null
  /** Called when the room must be dropped (after a failed commit) so the next hello reloads it. */
  onReset: (room: Room) => void
  /** Keep someone out of this room until `until` (after repeated refused writes). */
  keepOut: (userId: string, until: Date) => void
  /** Per-change timings, when the server runs with SESSION_KIT_TRACE=1. */
  trace?: Trace
  /** Tell other instances where this room's cursors moved (one message per tick). */
  publishPresence?: (room: Room, batch: RemotePresence[]) => void
}

/** Reads of another instance's chunk before the room gives up and loads again (about a minute). */
const REMOTE_READ_ATTEMPTS = 16
/** Compact the stored document once this many chunks sit beyond its base. */
const COMPACT_CHUNKS = 500

/**
 * One session's live state on this instance: who is connected, and the document as the event loop
 * knows it — without Automerge. A writer's changes are verified against a plain JavaScript index
 * of the files (`TextIndex`: O(ops), no apply), committed to PostgreSQL by the group committer,
 * then — in the order they were accepted, and only once durable — acknowledged, added to the
 * room's text, relayed (`Relay`), and handed to the document thread, where the Automerge document
 * takes them in batches (doc-worker.ts). Nothing on this path costs time in proportion to the
 * document's size.
 */
export class Room implements DocIndex {
  readonly peers = new Set<Peer>()
  /** Presence of peers connected to other instances (by connection id). */
  readonly remotePresence = new Map<string, PresenceInfo>()
  readonly relay: Relay
  readonly presence: RoomPresence
  /** Heads of every durable change. */
  heads: string[]
  /** Every file's text as of `heads` (durable changes only). */
  #text: Map<string, string>
  /** The files as verified: durable changes plus those accepted and being committed. Null until indexed. */
  #index: TextIndex | null = null
  #indexed: Promise<void>
  #hashes = new Set<string>()
  #actors = new Map<string, ActorState>()
  #batches = new CommitQueue()
  #refused: RefusedWrites
  #chunkIds: number[]
  #lastCommit: Promise<unknown> = Promise.resolve()
  /** Chunks from other instances are taken one after another. */
  #remoteChain: Promise<unknown> = Promise.resolve()
  #failed = false
  #compacting = false
  idleTimer?: NodeJS.Timeout
  /** Whether a recording is running (shown to everyone in the room). */
  recordingState: 'off' | 'recording' | 'paused' = 'off'
  /** The recording going now, and the policy it was started under (null: none going). */
  recording: { id: string; policy: RecordingPolicy | null } | null = null
  /** Who on this instance is known to have been told of `recording` (its notice is stored). */
  told = new Set<string>()
  /** Under `consent`: the latest choice of people who joined here (read on joining, kept current by the bus). */
  readonly consents = new Map<string, boolean | null>()
  /** Lecture mode: who leads, the spotlight, every raised hand (each peer sees its share: sync/lecture.ts). */
  lecture: LectureRecord = EMPTY_LECTURE
  /** Changes accepted from peers (for the benchmarks and health). */
  stats = { accepted: 0 }

  private constructor(
    readonly id: string,
    public session: SessionRow,
    loaded: { heads: string[]; files: Record<string, string> },
    chunkIds: number[],
    private readonly deps: RoomDeps,
  ) {
    this.heads = loaded.heads
    this.#text = new Map(Object.entries(loaded.files))
    this.#chunkIds = chunkIds
    this.relay = new Relay(this, deps.docs, deps.log)
    this.#refused = new RefusedWrites(deps.limits.writeCooldownMs, deps.keepOut)
    this.presence = new RoomPresence(this, (batch) => deps.publishPresence?.(this, batch))
    this.#indexed = Promise.resolve()
  }

  /**
   * Load a session's document in the document thread. The room opens as soon as its text is known
   * (a first handshake can start at once); the index writers are verified against follows, built
   * in the document thread from every change, and writes wait for it.
   */
  static async load(session: SessionRow, deps: RoomDeps): Promise<Room> {
    const stored = await loadDocument(deps.sql, session.id)
    if (!stored) throw new Error(`session ${session.id} has no document`)
    const loaded = await deps.docs.load(session.id, stored.base, stored.chunks)
    for (const problem of loaded.problems) deps.log(`room ${session.id}: ${problem}`)
    const room = new Room(session.id, session, loaded, stored.chunks.map((c) => c.id), deps)
    const actors = stored.actors
    room.#indexed = deps.docs.index(session.id, stored.chunks.map((c) => c.data)).then(async (indexed) => {
      // Actor sequence numbers are stored as of the base; the chunks after it advance them.
      for (const a of indexed.actors) {
        const prior = actors.get(a.actor)
        if (!prior || prior.seq < a.seq) actors.set(a.actor, { userId: prior?.userId ?? '', seq: a.seq, maxOp: a.maxOp })
      }
      // Built in turns: a long history is tens of thousands of objects, and other rooms keep typing.
      const index = await TextIndex.importInTurns(indexed.index)
      const hashes = new Set<string>()
      for (let i = 0; i < indexed.hashes.length; i++) {
        hashes.add(indexed.hashes[i]!)
        if (i % 8192 === 8191) await new Promise<void>((r) => setImmediate(r))
      }
      room.#actors = actors
      room.#hashes = hashes
      room.#index = index
    })
    room.#indexed.catch((e: Error) => {
      deps.log(`room ${session.id}: could not index the document (${e.message}); closing it so it loads again`)
      room.#fail()
    })
    const active = await activeRecordingInfo(deps.sql, session.id)
    room.recordingState = active?.status ?? 'off'
    room.recording = active ? { id: active.id, policy: active.policy } : null
    room.lecture = await readLecture(deps.sql, session.id)
    return room
  }

  /** Resolves once writes can be verified (the index is built); null when they already can. */
  whenIndexed(): Promise<void> | null {
    return this.#index ? null : this.#indexed
  }

  #held: Promise<void> | null = null

  /**
   * Hold what people here send (edits, chat, runs, hands) until `work` is done: while a recording's
   * notice is being stored, so what they send once told is stored after it (recordings/consent.ts).
   */
  hold(work: Promise<unknown>) {
    const held = work.then(
      () => {},
      () => {},
    )
    this.#held = held
    void held.then(() => {
      if (this.#held === held) this.#held = null
    })
  }

  /** While the room holds what people send (see `hold`): when it stops; else null. */
  get held(): Promise<void> | null {
    return this.#held
  }

  /** Resolves once writes may be taken (indexed, nothing held); null when they may now. */
  whenWritable(): Promise<void> | null {
    const indexed = this.whenIndexed()
    const held = this.#held
    if (indexed && held) return Promise.all([indexed, held]).then(() => {})
    return indexed ?? held
  }

  // ---- DocIndex: what the verifier may ask -------------------------------------------------

  get filesObj(): string {
    return this.#index?.filesObj ?? ''
  }

  hasChange(hash: string): boolean {
    return this.#hashes.has(hash) || this.heads.includes(hash)
  }

  textFile(obj: string): string | null | undefined {
    return this.#index?.textFile(obj)
  }

  hasElement(obj: string, elemId: string): boolean {
    return this.#index?.hasElement(obj, elemId) ?? false
  }

  actor(actor: string): ActorState | undefined {
    return this.#actors.get(actor)
  }

  fileCount(): number {
    return this.#index?.fileCount() ?? this.#text.size
  }

  /** Characters (and other elements) ever inserted, deleted ones included: what the document limit counts. */
  get size(): number {
    return this.#index?.size ?? 0
  }

  /** Where an Automerge cursor (an element id) is now, as an offset into the file; null if it does not resolve. */
  cursorOffset(file: string, elemId: string): number | null {
    const at = this.#index?.cursorOffset(file, elemId) ?? null
    // The index is ahead of what viewers hold by the changes being committed: stay within their text.
    const text = this.#text.get(file)
    return at === null || text === undefined ? null : Math.min(at, text.length)
  }

  // ---- writes ------------------------------------------------------------------------------

  /**
   * A writer's sync message carried changes, read within the limits by the Intake. Verify them all
   * (a refusal takes none), then commit, acknowledge and relay. Resolves once they are durable (or
   * at once if nothing was new). Call only once indexed (see whenIndexed).
   */
  receiveChanges(peer: Peer, incoming: IncomingChange[], receivedAt?: number): { ok: true; durable: Promise<unknown> } | { ok: false; error: ServerError } {
    // The Intake checked this before reading; checked again here, where changes are merged, as
    // permissions may have changed while a large message was being decoded.
    if (!can(peer.ctx, Permission.EDIT_CODE) || peer.kind !== 'full') {
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
    return { ok: true, durable: this.#accept(verdict.changes, verdict.actors, peer, peer.userId, 'code_change', receivedAt) }
  }

  /** Refuse a writer's message; repeated refusals keep them out for a while (see write-refusals.ts). */
  refuseWrite(peer: Peer, refusal: WriteRefusal) {
    this.#refused.refuse(peer, refusal)
  }

  /** Take verified changes into the index and commit them; they are published once durable, in order. */
  #accept(changes: IncomingChange[], actors: Map<string, ActorState>, origin: Peer | null, userId: string, kind: 'code_change' | 'server_change', receivedAt?: number): Promise<unknown> {
    const batch: Batch = { changes: changes.map((c) => this.#take(c, origin)), origin, durable: false, receivedAt }
    this.#batches.push(batch)
    const newActors: { actor: string; userId: string }[] = []
    for (const [actor, state] of actors) {
      if (!this.#actors.has(actor)) newActors.push({ actor, userId: state.userId })
      this.#actors.set(actor, state)
    }
    this.stats.accepted += changes.length
    const durable = this.deps.committer
      .commit({ sessionId: this.id, changes, userId, newActors, at: this.deps.clock(), kind, isCancelled: () => this.#failed })
      .then(
        (chunkId) => {
          batch.chunkId = chunkId
          batch.durable = true
          this.#publish()
        },
        (err) => this.#commitFailed(err),
      )
    this.#lastCommit = durable
    return durable
  }

  /** One change into the index: its splices are worked out now, against everything taken before it. */
  #take({ bytes, change }: IncomingChange, origin: Peer | null): Committed {
    this.#hashes.add(change.hash)
    return { bytes, hash: change.hash, deps: change.deps, origin, text: this.#index!.apply(change) }
  }

  /** Publish every leading batch that is durable: text, heads, acknowledgement, relay, document thread. */
  #publish() {
    for (const batch of this.#batches.durable(() => this.#failed)) {
      this.heads = advance(this.#text, this.heads, batch.changes)
      if (batch.chunkId !== undefined) this.#chunkIds.push(batch.chunkId)
      this.deps.docs.apply(this.id, batch.changes.map((c) => c.bytes))
      const origin = batch.origin
      if (origin && !origin.closed) origin.send({ type: 'ack', changes: batch.changes.map((c) => c.hash) })
      this.relay.committed(batch.changes, origin)
      if (batch.receivedAt !== undefined) this.deps.trace?.record(batch.receivedAt)
      if (this.#chunkIds.length >= COMPACT_CHUNKS) void this.compact()
    }
  }

  #commitFailed(err: unknown) {
    if (this.#failed) return
    this.deps.log(`room ${this.id}: could not save changes (${(err as Error).message}); closing its connections so clients rejoin and resend`)
    this.#fail('The server could not save your last changes; reconnecting to send them again.')
  }

  #fail(message = 'The server could not open this session; reconnecting.') {
    if (this.#failed) return
    this.#failed = true
    this.presence.dispose()
    for (const peer of this.peers) peer.close(1011, message)
    this.peers.clear()
    this.deps.docs.drop(this.id)
    this.deps.onReset(this)
  }

  /** The document thread was lost: close everyone so the room loads again on their next hello. */
  lost() {
    this.#fail('The server lost this session’s document and is loading it again; reconnecting.')
  }

  get failed() {
    return this.#failed
  }

  // ---- reads -------------------------------------------------------------------------------

  /** The current files as plain text, with heads: what `GET …/document` returns (durable changes only). */
  currentText(): { files: Record<string, string>; heads: string[] } {
    return { files: Object.fromEntries(this.#text), heads: [...this.heads] }
  }

  /**
   * Resolves once every change accepted so far is stored (or failed): anything accepted later is
   * stored after it, on the database's clock too.
   */
  settled(): Promise<unknown> {
    return this.#lastCommit
  }

  /** Every change of the document, in causal order (for recordings). */
  allChanges(): Promise<Uint8Array[]> {
    return this.deps.docs.all(this.id)
  }

  /** Replace the stored base with a fresh save of the document; drop the chunks it holds. */
  async compact(): Promise<void> {
    if (this.#compacting || this.#failed) return
    const ids = [...this.#chunkIds]
    if (!ids.length) return
    this.#compacting = true
    // The document thread has every published change (they were sent before this request), and
    // so do the text and the chunk ids read now.
    const files = Object.fromEntries(this.#text)
    try {
      const { bytes, heads } = await this.deps.docs.save(this.id)
      await compactDocument(this.deps.sql, this.id, bytes, heads, ids, this.#actors, files)
      this.#chunkIds = this.#chunkIds.filter((id) => !ids.includes(id))
    } catch (e) {
      this.deps.log(`room ${this.id}: compaction failed (${(e as Error).message}); will try again later`)
    } finally {
      this.#compacting = false
    }
  }

  /**
   * Make the files equal `files` with a change the server makes itself (file routes, restores):
   * made in the document thread by a server actor, then held to the document limits, stored,
   * relayed and published like any other. Resolves with the heads once it is durable.
   */
  async setFiles(files: Record<string, string>, userId: string): Promise<string[]> {
    await this.#indexed
    const raw = await this.deps.docs.edit(this.id, files)
    if (!raw.length) return [...this.heads]
    const incoming = raw.map((bytes) => ({ bytes, change: A.decodeChange(bytes) }))
    const actors = new Map<string, ActorState>()
    for (const c of incoming) actors.set(c.change.actor, { userId: '', seq: c.change.seq, maxOp: c.change.startOp + c.change.ops.length - 1 })
    // Instructors' file routes and restores are held to the same document and file limits.
    const { maxDocumentChars, maxFiles } = this.deps.limits
    const inserted = incoming.reduce((n, c) => n + countEdits(c.change).inserted, 0)
    if (inserted > 0 && this.size + inserted > maxDocumentChars) {
      throw new LimitError('document_full', `This would bring the session's code past its size limit (${chars(maxDocumentChars)} characters typed over its life, deleted ones included).`)
    }
    const added = Object.keys(files).filter((name) => !this.#text.has(name)).length
    if (added > 0 && Object.keys(files).length > maxFiles) throw new LimitError('too_many_files', `A session holds at most ${maxFiles} files.`)
    await this.#accept(incoming, actors, null, userId, 'server_change')
    return [...this.heads]
  }

  // ---- changes from other instances --------------------------------------------------------

  /**
   * Another instance committed a chunk for this session: take its changes as durable. A chunk that
   * cannot be read now (the database going away) is read again a little later, its place in the
   * chain kept; one still unreadable after a minute or so resets the room, which then loads whole.
   */
  remoteChunk(chunkId: number, actorUsers: Record<string, string> = {}) {
    this.#remoteChain = Promise.all([this.#remoteChain, this.#indexed]).then(async () => {
      let chunk: Awaited<ReturnType<typeof getChunk>>
      let attempt = 0
      for (;;) {
        try {
          chunk = await getChunk(this.deps.sql, chunkId)
          break
        } catch (e) {
          if (this.#failed) return
          if (++attempt > REMOTE_READ_ATTEMPTS) throw e
          if (attempt === 1) this.deps.log(`room ${this.id}: could not read chunk ${chunkId} (${(e as Error).message}); trying again`)
          await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)))
        }
      }
      if (!chunk) {
        // Compacted away before we read it: everything is in the base now.
        await this.reloadFromStore()
        return
      }
      this.#takeRemote(splitChunks(chunk.data), actorUsers, chunkId)
    }).catch((e: Error) => {
      this.deps.log(`room ${this.id}: could not read chunk ${chunkId} (${e.message}); closing its connections so it loads again`)
      this.#fail('The server could not read changes made on another server; reconnecting.')
    })
  }

  /** Durable changes from elsewhere: into the index, then published after what was accepted before them. */
  #takeRemote(raw: Uint8Array[], actorUsers: Record<string, string>, chunkId?: number) {
    if (this.#failed) return
    const changes: Committed[] = []
    for (const bytes of raw) {
      const change = A.decodeChange(bytes)
      if (this.hasChange(change.hash)) continue
      const prior = this.#actors.get(change.actor)
      if (!prior || prior.seq < change.seq) {
        this.#actors.set(change.actor, { userId: prior?.userId ?? actorUsers[change.actor] ?? '', seq: change.seq, maxOp: change.startOp + change.ops.length - 1 })
      }
      changes.push(this.#take({ bytes, change }, null))
    }
    if (!changes.length && chunkId === undefined) return
    this.#batches.push({ changes, origin: null, chunkId, durable: true })
    this.#publish()
  }

  /** Merge whatever the store holds that we do not (after a compaction raced a notification). */
  async reloadFromStore() {
    const stored = await loadDocument(this.deps.sql, this.id)
    if (!stored) return
    await this.#indexed
    const fresh = await this.deps.docs.merge(this.id, [stored.base, ...stored.chunks.map((c) => c.data)])
    // The document thread took them already; the index, the text and the peers take them now.
    const users: Record<string, string> = {}
    for (const [actor, state] of stored.actors) users[actor] = state.userId
    const known = new Set(this.#chunkIds)
    for (const c of stored.chunks) if (!known.has(c.id)) this.#chunkIds.push(c.id)
    this.#takeRemote(fresh, users)
  }

  // ---- the people in it ---------------------------------------------------------------------

  /** The session as a room event shows it; to `userId`, with their own recording consent where they are asked. */
  sessionInfo(userId?: string): SessionInfo {
    const info: SessionInfo = {
      id: this.session.id,
      title: this.session.title,
      language: this.session.language,
      editingLocked: this.session.editingLocked,
      recording: this.recordingState === 'recording',
      recordingState: this.recordingState,
      // The running recording keeps the policy it started under; between recordings, the session's.
      recordingPolicy: (this.recordingState !== 'off' && this.recording?.policy) || this.session.recordingPolicy,
    }
    if (info.recordingPolicy === 'consent' && userId !== undefined) info.recordingConsent = this.consents.get(userId) ?? null
    return info
  }

  /** Who is here now, as a viewer with `role` may see it (hidden people only for instructors). */
  presenceList(viewerRole: Role): PresenceInfo[] {
    const byUser = new Map<string, PresenceInfo>()
    for (const p of this.peers) byUser.set(p.userId, p.presence)
    for (const p of this.remotePresence.values()) if (!byUser.has(p.userId)) byUser.set(p.userId, p)
    return [...byUser.values()].filter((p) => viewerRole === 'instructor' || !p.hidden)
  }

  /** Accepted changes not yet published (being committed). */
  get pendingCount() {
    return this.#batches.pending
  }
}
