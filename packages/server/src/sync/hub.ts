import type { WebSocket } from 'ws'
import { CloseCode, type RecordingPolicy, type SnapshotEvent } from '@session-kit/core'
import type { TokenVerifier } from '../auth/tokens.js'
import type { Sql } from '../store/db.js'
import { clearConnections, heartbeat, removeInstanceConnections, sweepInstances } from '../store/presence.js'
import { blockWrites } from '../store/participants.js'
import { recordNotices } from '../store/consents.js'
import { getSession } from '../store/sessions.js'
import type { SnapshotRow } from '../store/snapshots.js'
import { chunkIndex, storedText } from '../store/documents.js'
import { Activity } from './activity.js'
import type { Bus, BusMessage } from './bus.js'
import type { Committer } from './committer.js'
import { Connection } from './connection.js'
import { ChangeDecoder } from './decoder.js'
import { DocHost } from './doc-host.js'
import { Intake } from './intake.js'
import { Lecture, lectureChanged } from './lecture.js'
import { DEFAULT_LIMITS, type SyncLimits } from './limits.js'
import type { Peer } from './peer.js'
import { Room } from './room.js'
import { RoomSpotlights } from './room-spotlight.js'
import { announce, applyToRoom, isHere, type LocalRows } from './room-events.js'
import { Trace } from './trace.js'

export { Connection }

export interface HubDeps {
  sql: Sql
  committer: Committer
  bus: Bus
  verifier: TokenVerifier
  log: (msg: string) => void
  helloTimeoutMs?: number
  /** Embedded PGlite: this is the only instance, so connections left by an earlier run are stale. */
  singleInstance?: boolean
  /**
   * A clock to stamp events (code changes, joins, leaves, chat, runs) with, for tests that move
   * time. Without one the database stamps them (`now()`), so every instance agrees on their order.
   */
  clock?: () => Date
  /** How long an empty room stays loaded; 30 s by default. */
  idleUnloadMs?: number
  /** What one writer and one document may cost; DEFAULT_LIMITS unless configured. */
  limits?: SyncLimits
}

const HEARTBEAT_MS = 15_000

/** How long an empty room stays loaded. */
const IDLE_UNLOAD_MS = 30_000

/**
 * The WebSocket sync hub: owns the loaded rooms (each loaded in the document thread), accepts
 * connections (connection.ts), and applies what happens to a room — a permission change, a chat
 * message, a cursor moving on another instance — to its open connections at once (room-events.ts).
 * Everything that other instances must hear is a `BusMessage`: `emit` publishes it and applies it
 * here, and one arriving from the bus is applied the same way.
 */
export class Hub {
  readonly rooms = new Map<string, Room>()
  /** Bookkeeping writes (joins, leaves) still in flight; awaited before the database closes. */
  readonly #writes = new Set<Promise<unknown>>()
  #loading = new Map<string, Promise<Room | undefined>>()
  /**
   * Other instances' chunks for sessions whose room is loading or catching up: delivered in id
   * (commit) order once it is ready. A chunk committed while a room loads would otherwise be
   * neither in what it read nor in a notification it heard.
   */
  #held = new Map<string, { holds: number; ids: Set<number>; actors: Record<string, string> }>()
  /** Hellos being checked; a join runs to its end even when its socket closes meanwhile. */
  joining = 0
  #closing = false
  #heartbeat?: NodeJS.Timeout
  readonly activity: Activity
  readonly lecture: Lecture
  /** Room spotlights: the feed of a spotlit learner's room into each lecture room with peers here. */
  readonly spotlights: RoomSpotlights
  readonly limits: SyncLimits
  readonly decoder: ChangeDecoder
  /**
   * Who is kept out of which room until when (ms since 1970), after repeated refused writes: a
   * hello from them is refused before anything reaches the database, however fast they reconnect.
   * The database holds the same (for other instances and restarts); entries go when they expire.
   */
  #keptOut = new Map<string, number>()
  /** Reads writers' changes within the limits before anything expensive (see intake.ts). */
  readonly intake: Intake
  /** Every loaded room's Automerge document, in a thread of its own. */
  readonly docs: DocHost
  readonly #trace = Trace.fromEnv()

  constructor(readonly deps: HubDeps) {
    this.limits = deps.limits ?? DEFAULT_LIMITS
    this.decoder = new ChangeDecoder(deps.log)
    this.intake = new Intake(this.limits, this.decoder)
    this.docs = new DocHost(deps.log, () => {
      deps.log('the document thread stopped; closing every room so they load again')
      for (const room of [...this.rooms.values()]) room.lost()
    })
    this.activity = new Activity(deps.sql, this.now, {
      chat: (room, row) => this.emit({ t: 'chat', sid: room.id, o: this.instanceId, id: row.id }, { chat: row }),
      run: (room, row) => this.emit({ t: 'run', sid: room.id, o: this.instanceId, id: row.id }, { run: row }),
    })
    this.lecture = new Lecture(deps.sql, this.now, (sid, change) => this.emit({ t: 'lecture', sid, o: this.instanceId, ...(change ? { change } : {}) }))
    this.spotlights = new RoomSpotlights({
      sql: deps.sql,
      rooms: this.rooms,
      documentText: (sid) => this.documentText(sid),
      touch: (sid) => this.touch(sid),
      log: deps.log,
    })
  }

  /** The time events are stamped with; null: the database's, as they are stored. */
  readonly now = (): Date | null => this.deps.clock?.() ?? null

  get instanceId() {
    return this.deps.bus.instanceId
  }

  async start() {
    const { sql } = this.deps
    if (this.deps.singleInstance) await clearConnections(sql)
    await heartbeat(sql, this.instanceId)
    await sweepInstances(sql)
    let beats = 0
    this.#heartbeat = setInterval(() => {
      for (const [key, until] of this.#keptOut) if (until <= Date.now()) this.#keptOut.delete(key)
      void heartbeat(sql, this.instanceId)
        .then(() => (++beats % 4 === 0 ? sweepInstances(sql) : undefined))
        .catch((e: Error) => this.deps.log(`heartbeat failed: ${e.message}`))
    }, HEARTBEAT_MS)
    this.#heartbeat.unref()
    await this.deps.bus.start(
      (msg) => this.#onBus(msg),
      () => void this.#catchUp(),
    )
  }

  #hold(sid: string) {
    const held = this.#held.get(sid) ?? { holds: 0, ids: new Set<number>(), actors: {} }
    held.holds++
    this.#held.set(sid, held)
  }

  #release(sid: string) {
    const held = this.#held.get(sid)
    if (!held || --held.holds > 0) return
    this.#held.delete(sid)
    const room = this.rooms.get(sid)
    // remoteChunk skips changes the room already has, so chunks it loaded cost only a read.
    if (room) for (const id of [...held.ids].sort((a, b) => a - b)) room.remoteChunk(id, held.actors)
  }

  /** The bus was deaf for a while: take every stored chunk of the rooms we hold that they lack. */
  async #catchUp() {
    const sids = [...new Set([...this.rooms.keys(), ...this.#loading.keys()])]
    sids.forEach((sid) => this.#hold(sid))
    try {
      const index = await chunkIndex(this.deps.sql, sids)
      for (const [sid, { ids, actors }] of index) {
        const held = this.#held.get(sid)!
        ids.forEach((id) => held.ids.add(id))
        Object.assign(held.actors, actors)
      }
    } catch (e) {
      this.deps.log(`could not catch up on changes missed by the bus: ${(e as Error).message}`)
    } finally {
      sids.forEach((sid) => this.#release(sid))
    }
    // Lecture changes missed meanwhile: the state is small, read it again.
    for (const room of this.rooms.values()) {
      void lectureChanged(this.deps.sql, room)
        .then(() => this.spotlights.sync(room))
        .catch((e: Error) => this.deps.log(`could not catch up on a lecture: ${e.message}`))
    }
  }

  /**
   * A recording started, paused, resumed or stopped: everyone in the room is told, with the reason.
   * Resolves once this instance told its people (it stores that it did meanwhile: `tellRecording`).
   */
  async recordingChanged(sid: string, state: 'off' | 'recording' | 'paused', reason: string, recording?: { id: string; policy: RecordingPolicy | null }) {
    await this.emit({ t: 'recording', sid, o: this.instanceId, state, reason, ...(recording && state !== 'off' ? { id: recording.id, policy: recording.policy } : {}) })
  }

  /** Someone changed their recording consent: their connections, here and elsewhere, are told. */
  async consentChanged(sid: string, userId: string, consent: boolean) {
    await this.emit({ t: 'consent', sid, o: this.instanceId, userId, consent })
  }

  /**
   * Everyone here was just told of the room's recording (`only`: one person, by their welcome):
   * store that they were, after the changes they made before are stored — those stay unattributed
   * in its replay — and, for a room event, holding what they send meanwhile, so everything they do
   * once told is stored after it and is theirs (recordings/consent.ts). Called in the turn that
   * told them. A failure is logged: they then stay anonymous, never named too early.
   */
  tellRecording(room: Room, only?: string): Promise<void> {
    const recording = room.recording
    if (!recording || room.recordingState === 'off') return Promise.resolve()
    const users = [...new Set([...room.peers].map((p) => p.userId))].filter((u) => (only === undefined || u === only) && !room.told.has(u))
    if (!users.length) return Promise.resolve()
    const work = (async () => {
      await room.settled()
      await recordNotices(this.deps.sql, recording.id, users, this.now())
      if (room.recording?.id === recording.id) for (const u of users) room.told.add(u)
    })().catch((e: Error) => this.deps.log(`could not store that ${users.length} people were told of recording ${recording.id}: ${e.message}`))
    // A joiner's own frames already wait for it (connection.ts); a room event holds the room.
    if (only === undefined) room.hold(work)
    return work
  }

  /** An invitation changed (accepted, declined, revoked, resent): tell those who manage invitations. */
  invitationChanged(sid: string, id: string, status: string) {
    this.emit({ t: 'invitation', sid, o: this.instanceId, id, status })
  }

  /** A snapshot was saved, deleted or restored: those who may see it are told, so their lists follow. */
  snapshotChanged(sid: string, change: SnapshotEvent['change'], row: SnapshotRow, by: SnapshotEvent['by']) {
    return this.emit({ t: 'snapshot', sid, o: this.instanceId, change, id: row.id, title: row.title, createdBy: row.createdBy, creatorRole: row.creatorRole, by }, { snapshot: row })
  }

  /** A message was deleted through the API: everyone's chat drops it. */
  chatDeleted(sid: string, id: number) {
    this.emit({ t: 'chat-deleted', sid, o: this.instanceId, id })
  }

  /**
   * Every file's current text: from the open room, or — for a room nobody has open — from the
   * text stored with its base when nothing came after it, without loading Automerge at all.
   */
  async documentText(sid: string): Promise<{ files: Record<string, string>; heads: string[] } | undefined> {
    const open = this.rooms.get(sid)
    if (open) return open.currentText()
    if (!this.#loading.has(sid)) {
      const stored = await storedText(this.deps.sql, sid)
      if (stored) return stored
    }
    return (await this.room(sid))?.currentText()
  }

  /** A room is being read (a room spotlight): when empty, it stays loaded a while longer, then unloads as usual. */
  touch(sid: string) {
    const room = this.rooms.get(sid)
    if (room && !room.peers.size) this.#scheduleUnload(room)
  }

  /** The loaded room for a session, loading it from the store if needed; undefined if no such session. */
  async room(sid: string): Promise<Room | undefined> {
    const loaded = this.rooms.get(sid)
    if (loaded) return loaded
    let loading = this.#loading.get(sid)
    if (!loading) {
      this.#hold(sid)
      loading = (async () => {
        const session = await getSession(this.deps.sql, sid)
        if (!session) return undefined
        const room = await Room.load(session, {
          sql: this.deps.sql,
          committer: this.deps.committer,
          docs: this.docs,
          trace: this.#trace,
          publishPresence: (r, batch) => this.deps.bus.publish({ t: 'presence', sid: r.id, o: this.instanceId, ps: batch }),
          limits: this.limits,
          log: this.deps.log,
          clock: this.now,
          onReset: (r) => {
            if (this.rooms.get(r.id) === r) this.rooms.delete(r.id)
            clearTimeout(r.idleTimer)
          },
          keepOut: (userId, until) => this.keepOut(sid, userId, until),
        })
        this.rooms.set(sid, room)
        this.#scheduleUnload(room)
        return room
      })().finally(() => {
        this.#loading.delete(sid)
        this.#release(sid)
      })
      this.#loading.set(sid, loading)
    }
    return loading
  }

  /** Keep someone out of a room until `until` (after repeated refused writes), here and in the store. */
  keepOut(sid: string, userId: string, until: Date, { store = true } = {}) {
    this.#keptOut.set(`${sid}\n${userId}`, until.getTime())
    if (store) this.track(blockWrites(this.deps.sql, sid, userId, until))
  }

  /** Until when someone is kept out of a room, as this instance knows it; undefined when they are not. */
  keptOutUntil(sid: string, userId: string): number | undefined {
    const key = `${sid}\n${userId}`
    const until = this.#keptOut.get(key)
    if (until === undefined || until > Date.now()) return until
    this.#keptOut.delete(key)
    return undefined
  }

  /** Accept a new socket for a session; the returned handlers receive its frames. `origin`: where it came from, for the audit log. */
  connect(sid: string, ws: WebSocket, origin: { ip: string | null; userAgent: string | null } = { ip: null, userAgent: null }): Connection {
    return new Connection(this, sid, ws, origin)
  }

  // ---- changes made through HTTP routes, applied to open connections at once ----------------

  /** A participant's role, mute or visibility changed in the store (a leader who is no longer an instructor stops leading, and so on). */
  async participantChanged(sid: string, userId: string, reason?: string) {
    await this.emit({ t: 'participant', sid, o: this.instanceId, userId, reason })
    await this.lecture.participantChanged(sid, userId)
  }

  /** Session settings (title, language, editing lock) changed in the store. */
  async sessionChanged(sid: string, reason?: string) {
    await this.emit({ t: 'session', sid, o: this.instanceId, reason })
  }

  /** Close a banned user's connections for good (the ban itself is already stored); they leave the lecture too. */
  async kick(sid: string, userId: string, message: string) {
    await this.emit({ t: 'kick', sid, o: this.instanceId, userId, by: message })
    await this.lecture.participantChanged(sid, userId, { removed: true })
  }

  /** The session was deleted: everyone leaves. */
  endSession(sid: string) {
    const room = this.rooms.get(sid)
    if (!room) return
    for (const peer of [...room.peers]) peer.close(CloseCode.Forbidden, 'This session has ended.')
    room.peers.clear()
    room.presence.dispose()
    this.rooms.delete(sid)
    this.docs.drop(sid)
  }

  // ---- what happens to a room, here or on another instance ---------------------------------

  /**
   * Something happened to a room that every instance must hear: tell the others, and apply it
   * here exactly as a message from them is applied. `local` carries what this instance already
   * has in hand (the stored row), so it is not read back.
   */
  emit(msg: BusMessage, local?: LocalRows): Promise<void> {
    this.deps.bus.publish(msg)
    return this.#apply(msg, local)
  }

  #onBus(msg: BusMessage) {
    // These may read the database, which may be going away right now: log a failure, never crash on it.
    void this.#apply(msg).catch((e: Error) => this.deps.log(`could not apply a ${msg.t} notification: ${e.message}`))
  }

  async #apply(msg: BusMessage, local?: LocalRows): Promise<void> {
    if (msg.t === 'chunk') {
      const held = this.#held.get(msg.sid)
      if (held) {
        held.ids.add(msg.id)
        Object.assign(held.actors, msg.a)
      } else this.rooms.get(msg.sid)?.remoteChunk(msg.id, msg.a)
      return
    }
    const room = this.rooms.get(msg.sid)
    if (!room) return
    await applyToRoom(this.deps.sql, room, msg, local)
    if (msg.t === 'lecture') this.spotlights.sync(room)
    // Stored in the background: what people here send meanwhile waits for it (Room#hold).
    if (msg.t === 'recording') void this.tellRecording(room)
  }

  /** A peer joined this instance's room: everyone here and on other instances hears it. */
  joined(room: Room, peer: Peer) {
    announce(room, peer.presence, 'joined', peer)
    this.deps.bus.publish({ t: 'presence', sid: room.id, o: this.instanceId, ps: [{ p: peer.presence, conn: peer.connId }] })
  }

  left(room: Room, peer: Peer) {
    room.peers.delete(peer)
    if (!isHere(room, peer.userId)) for (const other of room.peers) other.send({ type: 'left', userId: peer.userId })
    this.deps.bus.publish({ t: 'left', sid: room.id, o: this.instanceId, userId: peer.userId, conn: peer.connId })
    this.#scheduleUnload(room)
  }

  #scheduleUnload(room: Room) {
    clearTimeout(room.idleTimer)
    if (room.peers.size) return
    room.idleTimer = setTimeout(() => {
      if (room.peers.size || this.rooms.get(room.id) !== room) return
      // Changes still being stored (a file route, say): wait for them.
      if (room.pendingCount) return this.#scheduleUnload(room)
      this.rooms.delete(room.id)
      room.presence.dispose()
      void room.compact().finally(() => {
        if (!this.rooms.has(room.id) && !this.#loading.has(room.id)) this.docs.drop(room.id)
      })
    }, this.deps.idleUnloadMs ?? IDLE_UNLOAD_MS)
    room.idleTimer.unref()
  }

  /** Close every connection (clients reconnect elsewhere) and save compacted documents. */
  async close() {
    this.#closing = true
    this.spotlights.close()
    for (const room of this.rooms.values()) {
      for (const peer of [...room.peers]) peer.close(1012, 'The server is restarting; reconnecting.')
      clearTimeout(room.idleTimer)
    }
    await Promise.all([...this.rooms.values()].map((r) => (r.presence.dispose(), r.compact())))
    clearInterval(this.#heartbeat)
    await this.drain()
    await removeInstanceConnections(this.deps.sql, this.instanceId).catch(() => {})
    await this.deps.bus.stop()
    await this.decoder.close()
    await this.docs.close()
  }

  get closing() {
    return this.#closing
  }

  /** What this instance holds now: loaded rooms, rooms being loaded, connected peers, hellos being checked. */
  get stats() {
    let peers = 0
    for (const room of this.rooms.values()) peers += room.peers.size
    return { rooms: this.rooms.size, loading: this.#loading.size, peers, joining: this.joining }
  }

  /** Run a write that must not outlive the server (leave events, last-seen times). */
  track(write: Promise<unknown>) {
    const p = write.catch((e: Error) => this.deps.log(`could not record presence: ${e.message}`)).finally(() => this.#writes.delete(p))
    this.#writes.add(p)
  }

  /** Wait for the bookkeeping writes started so far. */
  async drain() {
    while (this.#writes.size) await Promise.all([...this.#writes])
  }
}

