import type { WebSocket } from 'ws'
import { colorFor, permissionsFor, type Cursor, type SyncMode, type ParticipantInfo, type Permission, type PermissionContext, type PresenceInfo, type ServerEvent, type RoomClaims } from '@session-kit/core'
import { callerContext } from '../auth/caller.js'
import type { ParticipantRow } from '../store/participants.js'
import type { SessionRow } from '../store/sessions.js'
import type { IncomingChange } from './changes.js'
import { FRAME_RATE, TokenBucket } from './limits.js'
import type { AuditOrigin } from '../audit/record.js'

let nextPeerId = 1

/** A change committed and waiting to be sent to a live peer. */
export interface Relayable {
  bytes: Uint8Array
  hash: string
}

/** Close reasons travel in a close frame, which holds at most 123 bytes. */
export function closeReason(text: string): string {
  const buf = Buffer.from(text)
  return buf.length <= 123 ? text : buf.subarray(0, 120).toString().replace(/\uFFFD$/, '') + '…'
}

/**
 * One WebSocket connection after a successful hello: who it is, what it may do, how it takes part
 * (`kind`: a full Automerge peer, a light viewer, or events only) and, for a full peer, where it is
 * in the sync protocol — `handshake`: Automerge's own sync, run in the document thread; `live`:
 * durable changes are pushed as they come (see Relay).
 */
export class Peer {
  readonly id = nextPeerId++
  readonly connId: string
  /** The wire protocol this connection speaks (1 or 2). */
  readonly protocol: number
  /** Protocol 2: it may be made a light viewer while it cannot edit. */
  readonly allowView: boolean
  claims: RoomClaims
  participant: ParticipantRow
  ctx: PermissionContext
  permissions: Permission[]
  kind: SyncMode
  mode: 'handshake' | 'live' = 'handshake'
  /** The relay's batch number this peer's handshake started from (see Relay#goLive). */
  asOf = 0
  /** Committed changes not yet sent to this peer (live mode). */
  outbox: Relayable[] = []
  awaitingReply = false
  awaitingSince = 0
  flushTimer?: NodeJS.Timeout
  /** When this peer last heard our heads, and the timer that will tell it again (see Room#committed). */
  headsSentAt = 0
  headsTimer?: NodeJS.Timeout
  /** Changes received whose dependencies this peer has been asked for (see Room#receiveChanges). */
  parked: IncomingChange[] = []
  /** Serialises this peer's handshake steps behind the commits they depend on. */
  chain: Promise<void> = Promise.resolve()
  cursor: Cursor | null = null
  expiryTimer?: NodeJS.Timeout
  readonly frames = new TokenBucket(FRAME_RATE.rate, FRAME_RATE.burst)
  closed = false
  /** When the frame being read arrived (performance time), for the trace. */
  frameAt = 0
  /** Where the socket came from, for the audit log's entries of what this peer does. */
  origin: AuditOrigin = { ip: null, userAgent: null, via: 'socket' }

  constructor(
    readonly ws: WebSocket,
    opts: { kind: SyncMode; protocol: number; allowView: boolean },
    claims: RoomClaims,
    participant: ParticipantRow,
    session: SessionRow,
    instanceId: string,
  ) {
    this.kind = opts.kind
    this.protocol = opts.protocol
    this.allowView = opts.allowView
    this.claims = claims
    this.participant = participant
    this.connId = `${instanceId}:${this.id}`
    this.ctx = callerContext(claims, participant, session)
    this.permissions = permissionsFor(this.ctx)
  }

  /** It takes part in the document (a full peer or a viewer), not only in events. */
  get sync(): boolean {
    return this.kind !== 'events'
  }

  get userId() {
    return this.claims.sub
  }

  get info(): ParticipantInfo {
    const info: ParticipantInfo = {
      userId: this.claims.sub,
      name: this.claims.name,
      role: this.ctx.role,
      color: colorFor(this.claims.sub),
      owner: Boolean(this.ctx.owner),
      muted: Boolean(this.ctx.muted),
      hidden: this.participant.hidden,
    }
    const avatar = this.claims.avatar ?? this.participant.avatar
    if (avatar) info.avatar = avatar
    return info
  }

  get presence(): PresenceInfo {
    return { ...this.info, cursor: this.cursor }
  }

  send(event: ServerEvent) {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(JSON.stringify(event))
  }

  /** A frame already encoded (the same bytes go to many peers). */
  sendText(frame: string) {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(frame)
  }

  /** Forget where it was in the sync protocol (it switched between full and view). */
  resetSync() {
    clearTimeout(this.flushTimer)
    clearTimeout(this.headsTimer)
    this.flushTimer = this.headsTimer = undefined
    this.mode = 'handshake'
    this.outbox = []
    this.parked = []
    this.awaitingReply = false
    this.asOf = 0
  }

  sendBinary(bytes: Uint8Array) {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(bytes, { binary: true })
  }

  close(code: number, reason: string) {
    if (this.closed) return
    this.closed = true
    this.dispose()
    try {
      this.ws.close(code, closeReason(reason))
    } catch {
      this.ws.terminate()
    }
  }

  dispose() {
    clearTimeout(this.flushTimer)
    clearTimeout(this.headsTimer)
    clearTimeout(this.expiryTimer)
  }
}
