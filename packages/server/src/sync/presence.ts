import { Role, type Cursor, type PresenceInfo } from '@session-kit/core'
import type { Peer } from './peer.js'

/** Cursor updates go out at most this often per room (so at most ~10 a second per person, latest wins). */
export const PRESENCE_TICK_MS = 100

/** A presence that crosses instances, with the connection it belongs to. */
export interface RemotePresence {
  p: PresenceInfo
  conn: string
}

/** What presence needs of its room. */
export interface PresenceRoom {
  readonly peers: ReadonlySet<Peer>
  readonly remotePresence: Map<string, PresenceInfo>
  cursorOffset(file: string, elemId: string): number | null
}

/**
 * Where everyone's cursor is, for one room. Moves are coalesced per tick (latest wins) and sent as
 * one `presences` frame per tick to protocol-2 peers — encoded once per audience: instructors see
 * hidden people and others do not; light viewers get cursors as offsets into the text — and as
 * one bus message per tick to other instances, not one NOTIFY per move. Protocol-1 peers get the
 * `presence` events they always did, at the same pace.
 */
export class RoomPresence {
  #local = new Map<string, Peer>()
  #remote = new Map<string, PresenceInfo>()
  #timer?: NodeJS.Timeout

  constructor(
    private readonly room: PresenceRoom,
    private readonly publish: (batch: RemotePresence[]) => void,
  ) {}

  /** A local peer moved its cursor (or selection). */
  cursor(peer: Peer, cursor: Cursor | null) {
    peer.cursor = cursor
    this.#local.set(peer.connId, peer)
    this.#schedule()
  }

  /** Cursors from another instance (people already known there; new ones were announced as joined). */
  remote(batch: readonly RemotePresence[]) {
    for (const { p, conn } of batch) {
      this.room.remotePresence.set(conn, p)
      this.#remote.set(conn, p)
    }
    this.#schedule()
  }

  #schedule() {
    if (this.#timer) return
    this.#timer = setTimeout(() => this.#tick(), PRESENCE_TICK_MS)
    this.#timer.unref()
  }

  #tick() {
    this.#timer = undefined
    const local = [...this.#local.values()].filter((p) => !p.closed && this.room.peers.has(p))
    this.#local.clear()
    if (local.length) this.publish(local.map((p) => ({ p: p.presence, conn: p.connId })))
    const changed = [...local.map((p) => p.presence), ...this.#remote.values()]
    this.#remote.clear()
    if (!changed.length) return
    const frames = new Map<string, string>()
    for (const peer of this.room.peers) {
      if (peer.closed) continue
      const instructor = peer.ctx.role === Role.Instructor
      if (peer.protocol < 2) {
        for (const p of changed) if (p.userId !== peer.userId && (instructor || !p.hidden)) peer.send({ type: 'presence', participant: p })
        continue
      }
      const view = peer.kind === 'view'
      const key = `${instructor}|${view}`
      let frame = frames.get(key)
      if (frame === undefined) {
        const list = changed.filter((p) => instructor || !p.hidden).map((p) => (view ? this.forViewer(p) : p))
        frame = list.length ? JSON.stringify({ type: 'presences', participants: list }) : ''
        frames.set(key, frame)
      }
      if (frame) peer.sendText(frame)
    }
  }

  /** For a light viewer: Automerge cursors turned into offsets into the text it holds. */
  forViewer(p: PresenceInfo): PresenceInfo {
    const c = p.cursor
    if (!c || (typeof c.anchor === 'number' && typeof c.head === 'number')) return p
    const at = (x: string | number) => (typeof x === 'number' ? x : this.room.cursorOffset(c.file, x))
    const anchor = at(c.anchor)
    const head = at(c.head)
    return { ...p, cursor: anchor === null || head === null ? null : { file: c.file, anchor, head } }
  }

  dispose() {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
