import * as A from '@automerge/automerge'
import * as v from 'valibot'
import type { WebSocket } from 'ws'
import { can, ClientEventSchema, CloseCode, HelloSchema, MAX_FRAME_BYTES, Permission, PROTOCOL_VERSION, Role, SESSION_ID_PATTERN, SUPPORTED_PROTOCOLS, type Hello, type ServerEvent, type SyncMode, type RoomClaims } from '@session-kit/core'
import { admitCaller, callerClaims, callerSession, closeCodeFor, isCallerRefusal } from '../auth/caller.js'
import { TokenError } from '../auth/tokens.js'
import { insertEvents } from '../store/events.js'
import { latestConsents } from '../store/consents.js'
import { addConnection, removeConnection } from '../store/presence.js'
import { recordJoin, touchParticipant } from '../store/participants.js'
import { createSession } from '../store/sessions.js'
import type { Hub } from './hub.js'
import type { ReadResult } from './intake.js'
import { waitInWords } from './limits.js'
import { Peer } from './peer.js'
import type { Room } from './room.js'
import { lectureView } from './lecture.js'
import { updatePermissions } from './room-events.js'
import { editRefusal } from './write-refusals.js'
import { traceNow } from './trace.js'

/** Frames a connection may send while it is not being read (its hello checked, a large edit decoded). */
const MAX_QUEUED = 256
const MAX_QUEUED_BYTES = 8 * 1024 * 1024

type Frame = string | ArrayBuffer

/**
 * One socket from upgrade to close: the hello (token, bans, cool-downs, the mode it takes part
 * in), then frames — sync messages to the room's relay, events to presence, chat and runs — read
 * in order, each answered and none able to crash the process.
 */
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
    /** The upgrade request's address and user agent (what the audit log says of socket actions). */
    private readonly origin: { ip: string | null; userAgent: string | null } = { ip: null, userAgent: null },
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
    room.relay.leave(peer)
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
    this.#join(hello.output)
      .catch((e: Error) => {
        // A refusal while resolving the caller (token, session, ban) closes with its own code.
        if (isCallerRefusal(e)) return this.#fail(closeCodeFor(e), e.message, e.code)
        this.hub.deps.log(`hello for ${this.sid} failed: ${e.stack ?? e.message}`)
        this.#fail(1011, 'The server could not open this session; try again.', 'internal')
      })
      .finally(() => this.hub.joining--)
  }

  async #join(hello: Hello) {
    const { sql } = this.hub.deps
    // The caller is resolved by auth/caller.ts's steps; a refusal throws and closes (see #hello).
    const claims = await callerClaims(this.hub.deps, hello.token, this.sid)
    if (this.#isClosed()) return
    const keptOut = this.hub.keptOutUntil(this.sid, claims.sub)
    if (keptOut) return this.#coolingDown(keptOut)
    // Each await below may outlast the socket: one that hung up meanwhile stops there, so a burst
    // of hellos that close at once costs no more work and leaves no participant, room or presence.
    let session = await callerSession(sql, claims, this.sid, { deletion: true })
    if (this.#isClosed()) return
    if (!session) {
      if (claims.role !== Role.Instructor) return this.#fail(CloseCode.NotOpenYet, 'This session is not open yet: waiting for the instructor.', 'not_open')
      ;({ session } = await createSession(sql, { id: this.sid, title: this.sid, language: 'javascript', ownerId: claims.sub }))
      if (this.#isClosed()) return
    }
    const { writesBlockedUntil } = await admitCaller(sql, claims, this.sid)
    if (this.#isClosed()) return
    if (writesBlockedUntil && writesBlockedUntil.getTime() > Date.now()) {
      this.hub.keepOut(this.sid, claims.sub, writesBlockedUntil, { store: false })
      return this.#coolingDown(writesBlockedUntil.getTime())
    }
    const participant = await recordJoin(sql, this.sid, claims)
    if (this.#isClosed()) return
    // Under `consent`, the welcome says what this person decided (nothing yet: not recorded by name).
    const consent = session.recordingPolicy === 'consent' ? ((await latestConsents(sql, this.sid, [claims.sub])).get(claims.sub) ?? null) : undefined
    if (this.#isClosed()) return
    // The room last, and the peer added in the same turn: an empty room may unload (and its
    // document leave the document thread) at any await, never between these two steps.
    const room = await this.hub.room(this.sid)
    if (!room) return this.#fail(CloseCode.NotOpenYet, 'This session is not open yet.', 'not_open')
    if (this.#isClosed()) return
    const asked: SyncMode = hello.protocol >= 2 && hello.mode ? hello.mode : hello.sync ? 'full' : 'events'
    const allowView = hello.protocol >= 2 && asked === 'full' && hello.allowView
    const peer = new Peer(this.ws, { kind: asked, protocol: hello.protocol, allowView }, claims, participant, room.session, this.hub.instanceId)
    // A page that accepts a view gets one while its person cannot edit: no Automerge for it.
    if (allowView && !can(peer.ctx, Permission.EDIT_CODE)) peer.kind = 'view'
    peer.origin = { ...this.origin, via: 'socket' }
    this.peer = peer
    this.room = room
    room.peers.add(peer)
    clearTimeout(room.idleTimer)
    this.#armExpiry(claims)
    if (consent !== undefined) room.consents.set(claims.sub, consent)
    peer.send({
      type: 'welcome',
      protocol: Math.min(hello.protocol, PROTOCOL_VERSION),
      ...(hello.protocol >= 2 ? { mode: peer.kind } : {}),
      participant: peer.info,
      permissions: peer.permissions,
      session: room.sessionInfo(claims.sub),
      participants: peer.kind === 'view' ? room.presenceList(peer.ctx.role).map((p) => room.presence.forViewer(p)) : room.presenceList(peer.ctx.role),
      lecture: lectureView(room.lecture, peer),
    })
    this.hub.spotlights.joined(room, peer)
    this.hub.joined(room, peer)
    this.hub.track(insertEvents(sql, [{ sessionId: room.id, kind: 'join', userId: claims.sub, at: this.hub.now(), data: { conn: peer.connId, role: peer.ctx.role } }]))
    this.#listed = addConnection(sql, { connId: peer.connId, sessionId: room.id, userId: claims.sub, instanceId: this.hub.instanceId, name: claims.name, role: peer.ctx.role })
    this.hub.track(this.#listed)
    // The welcome told them of a recording going on: that is stored before any frame of this
    // connection is read (they queue meanwhile), so nothing it sends can be attributed to them in
    // the recording before their page was told, and everything after is (recordings/consent.ts).
    if (room.recordingState !== 'off') {
      await this.hub.tellRecording(room, claims.sub)
      if (this.#isClosed()) return
    }
    this.#state = 'ready'
    room.relay.join(peer)
    this.#drain()
  }

  #coolingDown(until: number) {
    this.#fail(CloseCode.Forbidden, `Your edits were refused repeatedly, so you are kept out of this session for ${waitInWords(until - Date.now())} more.`, 'cooling_down')
  }

  /**
   * The socket may close while a hello is being checked. Its close frame is seen (readyState
   * leaves OPEN) before the close event that calls `closed()`: either ends the join.
   */
  #isClosed() {
    if (this.#state !== 'closed' && this.ws.readyState !== this.ws.OPEN) {
      this.#state = 'closed'
      clearTimeout(this.#helloTimer)
    }
    return this.#state === 'closed'
  }

  #armExpiry(claims: RoomClaims) {
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
    peer.frameAt = traceNow()
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
        return room.presence.cursor(peer, event.cursor)
      case 'mode':
        return this.#switchMode(peer, room, event.mode)
      case 'ping':
        return peer.send({ type: 'pong' })
      case 'token':
        return void this.#refresh(peer, room, event.token).catch((e: Error) => {
          this.hub.deps.log(`token refresh failed: ${e.message}`)
          peer.send({ type: 'token', ok: false, message: 'The server could not check your new token right now.' })
        })
      // One connection's messages and runs are stored in the order they were sent.
      case 'chat':
        return this.#inOrder(() => this.hub.activity.chat(room, peer, event.text).catch((e: Error) => this.#eventFailed(peer, 'chat', e)))
      case 'run':
        return this.#inOrder(() => this.hub.activity.run(room, peer, event.run).catch((e: Error) => this.#eventFailed(peer, 'run', e)))
      case 'follow':
        return this.#inOrder(() => this.hub.lecture.follow(room, peer, event.on).catch((e: Error) => this.#eventFailed(peer, 'follow me setting', e)))
      case 'hand':
        return this.#inOrder(() => this.hub.lecture.hand(room, peer, event).catch((e: Error) => this.#eventFailed(peer, 'raised or lowered hand', e)))
      case 'spotlight':
        return this.#inOrder(() => this.hub.lecture.spotlight(room, peer, event.userId, event.sessionId).catch((e: Error) => this.#eventFailed(peer, 'spotlight', e)))
    }
  }

  #events: Promise<unknown> = Promise.resolve()
  #inOrder(task: () => Promise<unknown>) {
    // Held like edits while the room holds what people send (see Room#hold).
    this.#events = this.#events.then(() => this.room?.held).then(task)
  }

  #eventFailed(peer: Peer, what: string, e: Error) {
    this.hub.deps.log(`could not store a ${what}: ${e.message}`)
    peer.send({ type: 'error', code: 'internal', message: `The server could not save your ${what}; try again.` })
  }

  /** Protocol 2: switch between a full Automerge peer and a light viewer on the same socket. */
  #switchMode(peer: Peer, room: Room, mode: 'full' | 'view') {
    if (peer.protocol < 2) return peer.send({ type: 'error', code: 'malformed', message: 'Switching modes needs protocol 2.' })
    if (peer.kind === 'events') return peer.send({ type: 'error', code: 'malformed', message: 'This connection asked for events only; open one with mode "full" or "view" for the document.' })
    if (peer.kind === mode) return
    if (mode === 'full') room.relay.toFull(peer)
    else room.relay.toView(peer)
  }

  #binary(peer: Peer, room: Room, bytes: Uint8Array) {
    if (peer.kind === 'events') return this.#fail(CloseCode.Malformed, 'This connection asked for events only but sent a sync message.', 'malformed')
    let msg: A.DecodedSyncMessage
    try {
      msg = A.decodeSyncMessage(bytes)
    } catch {
      return this.#fail(CloseCode.Malformed, 'A binary frame was not an Automerge sync message.', 'malformed')
    }
    if (peer.kind === 'view') {
      // A viewer's frames say nothing to us — unless they carry edits, which a viewer may not make
      // (sent just before it became one, say): refused like any refused write, so its page
      // rejoins and shows what it could not send.
      if (!msg.changes.length) return
      this.#state = 'closed'
      return room.refuseWrite(peer, { error: { type: 'error', code: 'forbidden', permission: Permission.EDIT_CODE, message: editRefusal(peer) }, close: CloseCode.WriteRejected, offence: !can(peer.ctx, Permission.EDIT_CODE) })
    }
    if (!msg.changes.length) return room.relay.syncMessage(peer, msg, bytes, Promise.resolve())
    const receivedAt = peer.frameAt
    const indexed = room.whenWritable()
    if (indexed) {
      // The room has just opened and is still indexing its document (or holds writes for a moment,
      // a recording's notice being stored): this connection's frames wait.
      return this.#wait(indexed.then(() => this.#binaryChanges(peer, room, msg, bytes, receivedAt)))
    }
    this.#binaryChanges(peer, room, msg, bytes, receivedAt)
  }

  #binaryChanges(peer: Peer, room: Room, msg: A.DecodedSyncMessage, bytes: Uint8Array, receivedAt: number) {
    if (peer.closed || this.#state !== 'ready') return
    const read = this.hub.intake.read(room, peer, msg.changes)
    if (!(read instanceof Promise)) return this.#changesRead(peer, room, msg, bytes, read, receivedAt)
    // Decoded off the event loop: this connection's next frames wait, so they stay in order.
    this.#wait(read.then((r) => this.#changesRead(peer, room, msg, bytes, r, receivedAt)))
  }

  /** Hold this connection's next frames until `work` is done, then read them in order. */
  #wait(work: Promise<unknown>) {
    this.#busy = true
    work
      .catch((e: Error) => {
        this.hub.deps.log(`changes for ${this.sid} could not be handled: ${e.stack ?? e.message}`)
        this.#fail(1011, 'The server could not handle your last edit; reconnecting to send it again.', 'internal')
      })
      .finally(() => {
        this.#busy = false
        this.#drain()
      })
  }

  #changesRead(peer: Peer, room: Room, msg: A.DecodedSyncMessage, bytes: Uint8Array, read: ReadResult, receivedAt: number) {
    if (peer.closed || this.#state !== 'ready') return
    if (read.ok) {
      const result = room.receiveChanges(peer, read.incoming, receivedAt)
      if (result.ok) return room.relay.syncMessage(peer, msg, bytes, result.durable)
      read = { ok: false, error: result.error, close: CloseCode.WriteRejected, offence: true }
    }
    this.#state = 'closed'
    room.refuseWrite(peer, read)
  }

  async #refresh(peer: Peer, room: Room, token: string) {
    const { sql } = this.hub.deps
    let claims: RoomClaims
    try {
      claims = await callerClaims(this.hub.deps, token, this.sid)
    } catch (e) {
      return peer.send({ type: 'token', ok: false, message: e instanceof TokenError ? e.message : 'The token could not be verified.' })
    }
    if (claims.sub !== peer.userId) return peer.send({ type: 'token', ok: false, message: 'A refreshed token must be for the same user.' })
    try {
      await admitCaller(sql, claims, this.sid)
    } catch (e) {
      if (!isCallerRefusal(e)) throw e
      return this.#fail(closeCodeFor(e), e.message, e.code)
    }
    const roleChanged = claims.role !== peer.claims.role
    peer.claims = claims
    this.#armExpiry(claims)
    peer.send({ type: 'token', ok: true, expiresAt: claims.exp })
    if (roleChanged) {
      updatePermissions(room, peer, 'Your role changed.')
      // A leader whose fresh token no longer makes them an instructor stops leading.
      await this.hub.lecture.participantChanged(room.id, peer.userId, { role: peer.ctx.role }).catch((e: Error) => this.hub.deps.log(`could not update the lecture after a role change: ${e.message}`))
    }
  }
}

