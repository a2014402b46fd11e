import * as A from '@automerge/automerge'
import * as v from 'valibot'
import type { WebSocket } from 'ws'
import { can, ClientEventSchema, CloseCode, colorFor, HelloSchema, MAX_FRAME_BYTES, Permission, Role, Rule, SESSION_ID_PATTERN, SUPPORTED_PROTOCOLS, PROTOCOL_VERSION, type ChatMessage, type Cursor, type RunInfo, type RunReport, type ServerEvent, type TokenClaims } from '@session-kit/core'
import { sessionRefusal, TokenError, type TokenVerifier } from '../auth/tokens.js'
import type { Sql } from '../store/db.js'
import { getChat, insertChat, type ChatRow } from '../store/chat.js'
import { getRun, insertEvents, insertRun, type RunRow } from '../store/events.js'
import { addConnection, heartbeat, removeConnection, removeInstanceConnections, sweepInstances } from '../store/presence.js'
import { admission, blockWrites, getParticipant, isBanned, recordJoin, touchParticipant } from '../store/participants.js'
import { createSession, deletedAt, getSession } from '../store/sessions.js'
import { chunkIndex, storedText } from '../store/documents.js'
import type { Bus, BusMessage } from './bus.js'
import type { Committer } from './committer.js'
import { ChangeDecoder } from './decoder.js'
import { Intake, type ReadResult } from './intake.js'
import { Allowances, CHAT_RATE, DEFAULT_LIMITS, PRESENCE_INTERVAL_MS, RUN_RATE, waitInWords, type SyncLimits } from './limits.js'
import { Peer } from './peer.js'
import { Room } from './room.js'

export interface HubDeps {
  sql: Sql
  committer: Committer
  bus: Bus
  verifier: TokenVerifier
  log: (msg: string) => void
  helloTimeoutMs?: number
  /** Embedded PGlite: this is the only instance, so connections left by an earlier run are stale. */
  singleInstance?: boolean
  /** The time stamped on events (code changes, joins, leaves, chat, runs); the system clock by default. */
  clock?: () => Date
  /** How long an empty room stays loaded; 30 s by default. */
  idleUnloadMs?: number
  /** What one writer and one document may cost; DEFAULT_LIMITS unless configured. */
  limits?: SyncLimits
}

const HEARTBEAT_MS = 15_000

/** How long an empty room stays loaded. */
const IDLE_UNLOAD_MS = 30_000
/** Frames a connection may send while it is not being read (its hello checked, a large edit decoded). */
const MAX_QUEUED = 256
const MAX_QUEUED_BYTES = 8 * 1024 * 1024

/**
 * The WebSocket sync hub: authenticates each connection's hello, owns the loaded rooms, applies
 * permission changes to open connections at once, and exchanges changes and presence with other
 * instances over the bus.
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
  /**
   * Chat and run allowances per user, kept with their room so they go when it unloads: by then
   * (30 s without anyone) every bucket has refilled, and one per user ever seen would pile up.
   */
  #chatLimits = new Allowances(CHAT_RATE.rate, CHAT_RATE.burst)
  #runLimits = new Allowances(RUN_RATE.rate, RUN_RATE.burst)
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

  constructor(readonly deps: HubDeps) {
    this.limits = deps.limits ?? DEFAULT_LIMITS
    this.decoder = new ChangeDecoder(deps.log)
    this.intake = new Intake(this.limits, this.decoder)
  }

  /** The time events are stamped with. */
  readonly now = (): Date => (this.deps.clock ? this.deps.clock() : new Date())

  get instanceId() {
    return this.deps.bus.instanceId
  }

  async start() {
    const { sql } = this.deps
    if (this.deps.singleInstance) await sql`delete from connections`
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
  }

  /** Send an event to every peer of a room that `who` allows. */
  broadcast(room: Room, event: ServerEvent, who: (peer: Peer) => boolean = () => true) {
    for (const peer of room.peers) if (who(peer)) peer.send(event)
  }

  /** A recording started, paused, resumed or stopped: everyone in the room is told, with the reason. */
  async recordingChanged(sid: string, state: 'off' | 'recording' | 'paused', reason: string, fromBus = false) {
    if (!fromBus) this.deps.bus.publish({ t: 'recording', sid, o: this.instanceId, state, reason })
    const room = this.rooms.get(sid)
    if (!room) return
    room.recordingState = state
    this.broadcast(room, { type: 'session', session: room.sessionInfo(), reason })
  }

  /** An invitation changed (accepted, declined, revoked, resent): tell those who manage invitations. */
  invitationChanged(sid: string, id: string, status: string, fromBus = false) {
    if (!fromBus) this.deps.bus.publish({ t: 'invitation', sid, o: this.instanceId, id, status })
    const room = this.rooms.get(sid)
    if (room) this.broadcast(room, { type: 'invitation', id, status }, (p) => can(p.ctx, Permission.INVITE_PARTICIPANTS))
  }

  // ---- chat and runs -----------------------------------------------------------------------

  async chat(room: Room, peer: Peer, text: string) {
    if (!can(peer.ctx, Rule.POST_CHAT)) {
      return peer.send({ type: 'error', code: 'forbidden', message: peer.ctx.role === Role.Observer ? 'Observers can read the chat but not post.' : 'You are muted by the instructor, so you cannot post in the chat.' })
    }
    const bucket = this.#chatLimits.of(room, peer.userId)
    if (!bucket.take()) {
      const retryAfterMs = bucket.waitFor()
      return peer.send({ type: 'rate_limited', what: 'chat', retryAfterMs, message: `You are sending messages too fast; try again in ${Math.ceil(retryAfterMs / 1000)} s.` })
    }
    const row = await insertChat(this.deps.sql, { sessionId: room.id, userId: peer.userId, name: peer.claims.name, role: peer.ctx.role, body: text, at: this.now() })
    this.broadcast(room, { type: 'chat', message: chatMessage(row) })
    this.deps.bus.publish({ t: 'chat', sid: room.id, o: this.instanceId, id: row.id })
  }

  /** A message was deleted through the API: everyone's chat drops it. */
  chatDeleted(sid: string, id: number, fromBus = false) {
    if (!fromBus) this.deps.bus.publish({ t: 'chat-deleted', sid, o: this.instanceId, id })
    const room = this.rooms.get(sid)
    if (room) this.broadcast(room, { type: 'chat-deleted', id })
  }

  async run(room: Room, peer: Peer, report: RunReport) {
    if (!can(peer.ctx, Permission.EXECUTE_CODE)) {
      return peer.send({ type: 'error', code: 'forbidden', permission: Permission.EXECUTE_CODE, message: 'Your role cannot run code in this session.' })
    }
    const bucket = this.#runLimits.of(room, peer.userId)
    if (!bucket.take()) {
      const retryAfterMs = bucket.waitFor()
      return peer.send({ type: 'rate_limited', what: 'run', retryAfterMs, message: `Runs are shared at most every two seconds; this one was not shared.` })
    }
    const row = await insertRun(this.deps.sql, room.id, peer.userId, { name: peer.claims.name, ...report, timedOut: report.timedOut ?? false }, this.now())
    this.broadcast(room, { type: 'run', run: runInfo(row) })
    this.deps.bus.publish({ t: 'run', sid: room.id, o: this.instanceId, id: row.id })
  }

  /**
   * Every file's current text: from the open room, or — for a room nobody has open — from the
   * text stored with its base when nothing came after it, without loading Automerge at all.
   */
  async documentText(sid: string): Promise<{ files: Record<string, string>; heads: string[] } | undefined> {
    const open = this.rooms.get(sid)
    if (open) return open.snapshot()
    if (!this.#loading.has(sid)) {
      const stored = await storedText(this.deps.sql, sid)
      if (stored) return stored
    }
    return (await this.room(sid))?.snapshot()
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
          limits: this.limits,
          log: this.deps.log,
          clock: this.now,
          onReset: (r) => {
            if (this.rooms.get(r.id) === r) this.rooms.delete(r.id)
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

  /** Accept a new socket for a session; the returned handlers receive its frames. */
  connect(sid: string, ws: WebSocket): Connection {
    return new Connection(this, sid, ws)
  }

  // ---- changes made through HTTP routes, applied to open connections at once ----------------

  /** A participant's role, mute or visibility changed in the store. */
  async participantChanged(sid: string, userId: string, reason?: string, fromBus = false) {
    if (!fromBus) this.deps.bus.publish({ t: 'participant', sid, o: this.instanceId, userId, reason })
    const room = this.rooms.get(sid)
    if (!room) return
    const row = await getParticipant(this.deps.sql, sid, userId)
    if (!row) return
    let visibilityChanged = false
    let announced = false
    for (const peer of [...room.peers]) {
      if (peer.userId !== userId) continue
      visibilityChanged ||= peer.participant.hidden !== row.hidden
      peer.participant = row
      room.updatePermissions(peer, reason)
      // Everyone sees the new role or mute at once, even if this connection is rejoining.
      if (!announced) this.broadcastPresence(room, peer)
      announced = true
    }
    if (visibilityChanged) {
      // Learners and observers stop (or start) seeing a participant who was hidden (or shown).
      const here = [...room.peers].find((p) => p.userId === userId && !p.closed)
      this.broadcast(room, row.hidden ? { type: 'left', userId } : { type: 'joined', participant: here!.presence }, (p) => p.ctx.role !== Role.Instructor && p.userId !== userId)
    }
  }

  /** Session settings (title, language, editing lock) changed in the store. */
  async sessionChanged(sid: string, reason?: string, fromBus = false) {
    if (!fromBus) this.deps.bus.publish({ t: 'session', sid, o: this.instanceId, reason })
    const room = this.rooms.get(sid)
    if (!room) return
    const session = await getSession(this.deps.sql, sid)
    if (!session) return
    room.session = session
    for (const peer of [...room.peers]) room.updatePermissions(peer, reason)
  }

  /** Close a banned user's connections for good (the ban itself is already stored). */
  kick(sid: string, userId: string, message: string, fromBus = false) {
    if (!fromBus) this.deps.bus.publish({ t: 'kick', sid, o: this.instanceId, userId, by: message })
    const room = this.rooms.get(sid)
    if (!room) return
    for (const peer of [...room.peers]) {
      if (peer.userId !== userId) continue
      peer.send({ type: 'error', code: 'removed', message })
      peer.close(CloseCode.Removed, message)
    }
  }

  /** The session was deleted: everyone leaves. */
  endSession(sid: string) {
    const room = this.rooms.get(sid)
    if (!room) return
    for (const peer of [...room.peers]) peer.close(CloseCode.Forbidden, 'This session has ended.')
    room.peers.clear()
    this.rooms.delete(sid)
  }

  // ---- presence ----------------------------------------------------------------------------

  /** Tell the others in the room about a peer (throttled per peer; hidden ones only to instructors). */
  broadcastPresence(room: Room, peer: Peer, kind: 'presence' | 'joined' = 'presence') {
    const participant = peer.presence
    for (const other of room.peers) {
      if (other === peer) continue
      if (participant.hidden && other.ctx.role !== Role.Instructor) continue
      other.send(kind === 'joined' ? { type: 'joined', participant } : { type: 'presence', participant })
    }
    this.deps.bus.publish({ t: 'presence', sid: room.id, o: this.instanceId, p: participant, conn: peer.connId })
  }

  updateCursor(room: Room, peer: Peer, cursor: Cursor | null) {
    peer.cursor = cursor
    if (peer.presenceTimer) {
      peer.presenceDirty = true
      return
    }
    this.broadcastPresence(room, peer)
    const tick = () => {
      if (peer.presenceDirty && !peer.closed) {
        peer.presenceDirty = false
        this.broadcastPresence(room, peer)
        peer.presenceTimer = setTimeout(tick, PRESENCE_INTERVAL_MS)
      } else peer.presenceTimer = undefined
    }
    peer.presenceTimer = setTimeout(tick, PRESENCE_INTERVAL_MS)
  }

  left(room: Room, peer: Peer) {
    room.peers.delete(peer)
    const stillHere = [...room.peers].some((p) => p.userId === peer.userId) || [...room.remotePresence.values()].some((p) => p.userId === peer.userId)
    if (!stillHere) for (const other of room.peers) other.send({ type: 'left', userId: peer.userId })
    this.deps.bus.publish({ t: 'left', sid: room.id, o: this.instanceId, userId: peer.userId, conn: peer.connId })
    this.#scheduleUnload(room)
  }

  #scheduleUnload(room: Room) {
    clearTimeout(room.idleTimer)
    if (room.peers.size) return
    room.idleTimer = setTimeout(() => {
      if (room.peers.size || this.rooms.get(room.id) !== room) return
      this.rooms.delete(room.id)
      void room.compact()
    }, this.deps.idleUnloadMs ?? IDLE_UNLOAD_MS)
    room.idleTimer.unref()
  }

  #onBus(msg: BusMessage) {
    const room = this.rooms.get(msg.sid)
    // These read the database, which may be going away right now: log a failure, never crash on it.
    const quietly = (work: Promise<unknown>) => void work.catch((e: Error) => this.deps.log(`could not apply a ${msg.t} notification: ${e.message}`))
    switch (msg.t) {
      case 'chunk': {
        const held = this.#held.get(msg.sid)
        if (held) {
          held.ids.add(msg.id)
          Object.assign(held.actors, msg.a)
        } else room?.remoteChunk(msg.id, msg.a)
        break
      }
      case 'participant':
        quietly(this.participantChanged(msg.sid, msg.userId, msg.reason, true))
        break
      case 'session':
        quietly(this.sessionChanged(msg.sid, msg.reason, true))
        break
      case 'kick':
        this.kick(msg.sid, msg.userId, msg.by ?? 'You were removed from this session.', true)
        break
      case 'chat':
        if (room) quietly(getChat(this.deps.sql, msg.sid, msg.id).then((row) => row && !row.deleted && this.broadcast(room, { type: 'chat', message: chatMessage(row) })))
        break
      case 'chat-deleted':
        this.chatDeleted(msg.sid, msg.id, true)
        break
      case 'invitation':
        this.invitationChanged(msg.sid, msg.id, msg.status, true)
        break
      case 'recording':
        quietly(this.recordingChanged(msg.sid, msg.state, msg.reason, true))
        break
      case 'run':
        if (room) quietly(getRun(this.deps.sql, msg.sid, msg.id).then((row) => row && this.broadcast(room, { type: 'run', run: runInfo(row) })))
        break
      case 'presence': {
        if (!room) break
        const isNew = ![...room.remotePresence.values()].some((p) => p.userId === msg.p.userId) && ![...room.peers].some((p) => p.userId === msg.p.userId)
        room.remotePresence.set(msg.conn, msg.p)
        for (const other of room.peers) {
          if (msg.p.hidden && other.ctx.role !== Role.Instructor) continue
          other.send(isNew ? { type: 'joined', participant: msg.p } : { type: 'presence', participant: msg.p })
        }
        break
      }
      case 'left': {
        if (!room) break
        room.remotePresence.delete(msg.conn)
        const stillHere = [...room.peers].some((p) => p.userId === msg.userId) || [...room.remotePresence.values()].some((p) => p.userId === msg.userId)
        if (!stillHere) for (const other of room.peers) other.send({ type: 'left', userId: msg.userId })
        break
      }
    }
  }

  /** Close every connection (clients reconnect elsewhere) and save compacted documents. */
  async close() {
    this.#closing = true
    for (const room of this.rooms.values()) {
      for (const peer of [...room.peers]) peer.close(1012, 'The server is restarting; reconnecting.')
      clearTimeout(room.idleTimer)
    }
    await Promise.all([...this.rooms.values()].map((r) => r.compact()))
    clearInterval(this.#heartbeat)
    await this.drain()
    await removeInstanceConnections(this.deps.sql, this.instanceId).catch(() => {})
    await this.deps.bus.stop()
    await this.decoder.close()
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

type Frame = string | ArrayBuffer

/** One socket from upgrade to close: hello, then sync frames and events. */
export class Connection {
  #state: 'hello' | 'joining' | 'ready' | 'closed' = 'hello'
  /** Frames waiting while the hello is checked or a large edit is decoded; read in order after. */
  #queue: Frame[] = []
  #queuedBytes = 0
  /** A large edit is being decoded off the event loop: what follows waits for it. */
  #busy = false
  #helloTimer: NodeJS.Timeout
  /** This connection's presence row being written: removing it must wait for it, as on PostgreSQL
   *  the two statements may run on different connections and the delete could otherwise go first. */
  #listed: Promise<unknown> = Promise.resolve()
  peer?: Peer
  room?: Room

  constructor(
    private readonly hub: Hub,
    private readonly sid: string,
    private readonly ws: WebSocket,
  ) {
    const ms = hub.deps.helloTimeoutMs ?? 10_000
    this.#helloTimer = setTimeout(() => this.#fail(CloseCode.HelloTimeout, `No hello within ${ms / 1000} seconds.`), ms)
    if (!SESSION_ID_PATTERN.test(sid)) this.#fail(CloseCode.Malformed, 'The session id in the URL is not valid.')
    else if (hub.closing) this.#fail(1012, 'The server is restarting.')
  }

  #send(event: ServerEvent) {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(event))
  }

  #fail(code: number, message: string, errorCode?: string) {
    if (this.#state === 'closed') return
    if (errorCode) this.#send({ type: 'error', code: errorCode, message })
    this.#state = 'closed'
    clearTimeout(this.#helloTimer)
    if (this.peer) this.peer.close(code, message)
    else this.ws.close(code, Buffer.byteLength(message) > 123 ? message.slice(0, 100) + '…' : message)
  }

  message(data: Frame) {
    if (this.#state === 'closed') return
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
    if (size > MAX_FRAME_BYTES) return this.#fail(CloseCode.TooLarge, `Frames are limited to ${MAX_FRAME_BYTES} bytes.`, 'too_large')
    if (this.#state === 'hello') return this.#hello(data)
    if (this.#state === 'joining' || this.#busy) {
      if (this.#queue.length >= MAX_QUEUED || this.#queuedBytes + size > MAX_QUEUED_BYTES) {
        return this.#fail(CloseCode.RateLimited, this.#busy ? 'Too many messages while your last edit was being read.' : 'Too many messages before the hello was answered.', 'rate_limited')
      }
      this.#queue.push(data)
      this.#queuedBytes += size
      return
    }
    this.#frame(data)
  }

  /** Read queued frames in order, until one needs to wait again. */
  #drain() {
    while (this.#state === 'ready' && !this.#busy && this.#queue.length) {
      const frame = this.#queue.shift()!
      this.#queuedBytes -= typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength
      this.#frame(frame)
    }
  }

  closed() {
    const wasReady = this.#state === 'ready'
    this.#state = 'closed'
    clearTimeout(this.#helloTimer)
    const { peer, room } = this
    if (!peer || !room) return
    peer.closed = true
    peer.dispose()
    if (!wasReady && !room.peers.has(peer)) return
    this.hub.left(room, peer)
    const { sql } = this.hub.deps
    this.hub.track(
      Promise.all([
        touchParticipant(sql, room.id, peer.userId),
        insertEvents(sql, [{ sessionId: room.id, kind: 'leave', userId: peer.userId, at: this.hub.now(), data: { conn: peer.connId } }]),
        this.#listed.catch(() => {}).then(() => removeConnection(sql, peer.connId)),
      ]),
    )
  }

  #hello(data: Frame) {
    if (typeof data !== 'string') return this.#fail(CloseCode.Malformed, 'The first frame must be a JSON hello.', 'malformed')
    let json: unknown
    try {
      json = JSON.parse(data)
    } catch {
      return this.#fail(CloseCode.Malformed, 'The hello is not valid JSON.', 'malformed')
    }
    const hello = v.safeParse(HelloSchema, json)
    if (!hello.success) return this.#fail(CloseCode.Malformed, `Malformed hello: ${hello.issues[0].message}.`, 'malformed')
    const { protocol } = hello.output
    if (protocol < SUPPORTED_PROTOCOLS.min || protocol > SUPPORTED_PROTOCOLS.max) {
      return this.#fail(CloseCode.Malformed, `Protocol ${protocol} is not supported; this server speaks ${SUPPORTED_PROTOCOLS.min}–${SUPPORTED_PROTOCOLS.max}.`, 'unsupported_protocol')
    }
    clearTimeout(this.#helloTimer)
    this.#state = 'joining'
    this.hub.joining++
    this.#join(hello.output.token, hello.output.sync)
      .catch((e: Error) => {
        this.hub.deps.log(`hello for ${this.sid} failed: ${e.stack ?? e.message}`)
        this.#fail(1011, 'The server could not open this session; try again.', 'internal')
      })
      .finally(() => this.hub.joining--)
  }

  async #join(token: string, sync: boolean) {
    const { sql, verifier } = this.hub.deps
    let claims: TokenClaims
    try {
      claims = await verifier.verify(token, { sid: this.sid })
    } catch (e) {
      if (e instanceof TokenError) return this.#fail(CloseCode.Unauthorized, e.message, e.code)
      throw e
    }
    if (this.#isClosed()) return
    const keptOut = this.hub.keptOutUntil(this.sid, claims.sub)
    if (keptOut) return this.#coolingDown(keptOut)
    let session = await getSession(sql, this.sid)
    const refusal = sessionRefusal(claims, session, session ? null : await deletedAt(sql, this.sid))
    if (refusal) return this.#fail(CloseCode.Unauthorized, refusal.message, refusal.code)
    if (!session) {
      if (claims.role !== Role.Instructor) return this.#fail(CloseCode.NotOpenYet, 'This session is not open yet: waiting for the instructor.', 'not_open')
      ;({ session } = await createSession(sql, { id: this.sid, title: this.sid, language: 'javascript', ownerId: claims.sub }))
    }
    const { banned, writesBlockedUntil } = await admission(sql, this.sid, claims.sub, claims.email)
    if (banned) return this.#fail(CloseCode.Removed, 'You were removed from this session by the instructor.', 'removed')
    if (writesBlockedUntil && writesBlockedUntil.getTime() > Date.now()) {
      this.hub.keepOut(this.sid, claims.sub, writesBlockedUntil, { store: false })
      return this.#coolingDown(writesBlockedUntil.getTime())
    }
    const room = await this.hub.room(this.sid)
    if (!room) return this.#fail(CloseCode.NotOpenYet, 'This session is not open yet.', 'not_open')
    const participant = await recordJoin(sql, this.sid, claims)
    if (this.#isClosed()) return
    const peer = new Peer(this.ws, sync, claims, participant, room.session, this.hub.instanceId)
    this.peer = peer
    this.room = room
    room.peers.add(peer)
    clearTimeout(room.idleTimer)
    this.#armExpiry(claims)
    peer.send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      participant: peer.info,
      permissions: peer.permissions,
      session: room.sessionInfo(),
      participants: room.presenceList(peer.ctx.role),
    })
    this.hub.broadcastPresence(room, peer, 'joined')
    this.hub.track(insertEvents(sql, [{ sessionId: room.id, kind: 'join', userId: claims.sub, at: this.hub.now(), data: { conn: peer.connId, role: peer.ctx.role } }]))
    this.#listed = addConnection(sql, { connId: peer.connId, sessionId: room.id, userId: claims.sub, instanceId: this.hub.instanceId })
    this.hub.track(this.#listed)
    this.#state = 'ready'
    if (sync) room.startSync(peer)
    this.#drain()
  }

  #coolingDown(until: number) {
    this.#fail(CloseCode.Forbidden, `Your edits were refused repeatedly, so you are kept out of this session for ${waitInWords(until - Date.now())} more.`, 'cooling_down')
  }

  /** The socket may close while a hello is being checked. */
  #isClosed() {
    return this.#state === 'closed'
  }

  #armExpiry(claims: TokenClaims) {
    const peer = this.peer!
    clearTimeout(peer.expiryTimer)
    // Whole seconds, as `exp` is: Node keeps the list of an unref'd timer's exact duration until
    // that time passes even when the timer is cleared, so one per connection would pile up for as
    // long as tokens last; rounded, at most one per second of token lifetime.
    const ms = Math.ceil((claims.exp * 1000 - Date.now()) / 1000) * 1000
    peer.expiryTimer = setTimeout(() => this.#fail(CloseCode.Unauthorized, 'Your token expired; ask the page for a fresh one.', 'token_expired'), Math.max(0, Math.min(ms, 2 ** 31 - 1)))
    peer.expiryTimer.unref()
  }

  /** One frame after the welcome. Whatever it holds, it is answered and never throws. */
  #frame(data: Frame) {
    try {
      this.#read(data)
    } catch (e) {
      this.hub.deps.log(`a frame for ${this.sid} could not be handled: ${(e as Error).stack ?? e}`)
      this.#fail(1011, 'The server could not handle your last message; reconnecting.', 'internal')
    }
  }

  #read(data: Frame) {
    const peer = this.peer!
    const room = this.room!
    if (peer.closed || this.#state !== 'ready') return
    if (!peer.frames.take()) return this.#fail(CloseCode.RateLimited, 'Too many messages: slow down and reconnect.', 'rate_limited')
    if (typeof data !== 'string') return this.#binary(peer, room, new Uint8Array(data))
    let json: unknown
    try {
      json = JSON.parse(data)
    } catch {
      return this.#fail(CloseCode.Malformed, 'A text frame was not valid JSON.', 'malformed')
    }
    const parsed = v.safeParse(ClientEventSchema, json)
    if (!parsed.success) {
      const type = typeof json === 'object' && json !== null && 'type' in json ? (json as { type: unknown }).type : undefined
      const name = typeof type === 'string' ? `Event "${type.slice(0, 40)}"` : 'An event without a type name'
      return peer.send({ type: 'error', code: 'malformed', message: `${name} was not understood: ${parsed.issues[0].message}.` })
    }
    const event = parsed.output
    switch (event.type) {
      case 'presence':
        return this.hub.updateCursor(room, peer, event.cursor)
      case 'ping':
        return peer.send({ type: 'pong' })
      case 'token':
        return void this.#refresh(peer, room, event.token).catch((e: Error) => {
          this.hub.deps.log(`token refresh failed: ${e.message}`)
          peer.send({ type: 'token', ok: false, message: 'The server could not check your new token right now.' })
        })
      // One connection's messages and runs are stored in the order they were sent.
      case 'chat':
        return this.#inOrder(() => this.hub.chat(room, peer, event.text).catch((e: Error) => this.#eventFailed(peer, 'chat', e)))
      case 'run':
        return this.#inOrder(() => this.hub.run(room, peer, event.run).catch((e: Error) => this.#eventFailed(peer, 'run', e)))
    }
  }

  #events: Promise<unknown> = Promise.resolve()
  #inOrder(task: () => Promise<unknown>) {
    this.#events = this.#events.then(task)
  }

  #eventFailed(peer: Peer, what: string, e: Error) {
    this.hub.deps.log(`could not store a ${what}: ${e.message}`)
    peer.send({ type: 'error', code: 'internal', message: `The server could not save your ${what}; try again.` })
  }

  #binary(peer: Peer, room: Room, bytes: Uint8Array) {
    if (!peer.sync) return this.#fail(CloseCode.Malformed, 'This connection asked for events only (sync: false) but sent a sync message.', 'malformed')
    let msg: A.DecodedSyncMessage
    try {
      msg = A.decodeSyncMessage(bytes)
    } catch {
      return this.#fail(CloseCode.Malformed, 'A binary frame was not an Automerge sync message.', 'malformed')
    }
    if (!msg.changes.length) return room.syncMessage(peer, msg, Promise.resolve())
    const read = this.hub.intake.read(room, peer, msg.changes)
    if (!(read instanceof Promise)) return this.#changesRead(peer, room, msg, read)
    // Decoded off the event loop: this connection's next frames wait, so they stay in order.
    this.#busy = true
    read
      .then((r) => this.#changesRead(peer, room, msg, r))
      .catch((e: Error) => {
        this.hub.deps.log(`changes for ${this.sid} could not be handled: ${e.stack ?? e.message}`)
        this.#fail(1011, 'The server could not handle your last edit; reconnecting to send it again.', 'internal')
      })
      .finally(() => {
        this.#busy = false
        this.#drain()
      })
  }

  #changesRead(peer: Peer, room: Room, msg: A.DecodedSyncMessage, read: ReadResult) {
    if (peer.closed || this.#state !== 'ready') return
    if (read.ok) {
      const result = room.receiveChanges(peer, read.incoming)
      if (result.ok) return room.syncMessage(peer, msg, result.durable)
      read = { ok: false, error: result.error, close: CloseCode.WriteRejected, offence: true }
    }
    this.#state = 'closed'
    room.refuseWrite(peer, read)
  }

  async #refresh(peer: Peer, room: Room, token: string) {
    const { sql, verifier } = this.hub.deps
    let claims: TokenClaims
    try {
      claims = await verifier.verify(token, { sid: this.sid })
    } catch (e) {
      return peer.send({ type: 'token', ok: false, message: e instanceof TokenError ? e.message : 'The token could not be verified.' })
    }
    if (claims.sub !== peer.userId) return peer.send({ type: 'token', ok: false, message: 'A refreshed token must be for the same user.' })
    if (await isBanned(sql, this.sid, claims.sub, claims.email)) return this.#fail(CloseCode.Removed, 'You were removed from this session by the instructor.', 'removed')
    const roleChanged = claims.role !== peer.claims.role
    peer.claims = claims
    this.#armExpiry(claims)
    peer.send({ type: 'token', ok: true, expiresAt: claims.exp })
    if (roleChanged) room.updatePermissions(peer, 'Your role changed.')
  }
}

export function chatMessage(row: ChatRow): ChatMessage {
  return { id: row.id, userId: row.userId, name: row.name, role: row.role, color: colorFor(row.userId), text: row.body, at: row.createdAt.toISOString() }
}

export function runInfo(row: RunRow): RunInfo {
  const { name, file, language, ok, errors, durationMs, timedOut, output } = row.data
  return { id: row.id, userId: row.userId, name, file, language, ok, errors, durationMs, timedOut, output, at: new Date(row.at).toISOString() }
}
