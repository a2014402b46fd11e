import { MAX_SPOTLIGHT_TEXT, type SpotlightText } from '@session-kit/core'
import { roomOfSession } from '../store/assignments.js'
import type { Sql } from '../store/db.js'
import type { Peer } from './peer.js'
import type { Room } from './room.js'

/** How often a room spotlight reads the learner's room. */
export const SPOTLIGHT_FEED_MS = 500

export interface RoomSpotlightDeps {
  sql: Sql
  /** The hub's loaded rooms: a lecture room no longer among them has unloaded. */
  rooms: ReadonlyMap<string, Room>
  /** Every file's text of a room (loading it, or from its stored text): `Hub.documentText`. */
  documentText: (sid: string) => Promise<{ files: Record<string, string>; heads: string[] } | undefined>
  /** The learner's room is being read: an empty room stays loaded a while longer, then unloads as usual. */
  touch: (sid: string) => void
  log: (msg: string) => void
}

/** One lecture room's feed of a spotlit learner's room. */
interface Feed {
  room: Room
  sessionId: string
  timer: NodeJS.Timeout
  busy: boolean
  /** The assignment's first starter file (null: none), read once. */
  firstFile?: string | null
  heads?: string
  files?: Record<string, string>
  file?: string
  /** The latest frame, encoded once: sent to every peer, and to each who joins meanwhile. */
  frame?: string
}

/**
 * Room spotlights: while a lecture room's spotlight shows a learner's assignment room, every
 * instance with peers in the lecture room reads that room's text about twice a second and, when
 * the shown file changed, sends its peers one `spotlight-text` frame. Only the document is read
 * (never the room's hidden files). The feed stops when the spotlight ends, the last peer here
 * leaves or the lecture room unloads; the learner's room, no longer read, unloads when idle.
 */
export class RoomSpotlights {
  readonly #feeds = new Map<string, Feed>()

  constructor(private readonly deps: RoomSpotlightDeps) {}

  /** The lecture of `room` changed, or someone joined it: run the feed while it should run, stop it otherwise. */
  sync(room: Room) {
    const want = room.lecture.spotlight?.sessionId
    const feed = this.#feeds.get(room.id)
    if (feed && (feed.room !== room || feed.sessionId !== want)) this.#stop(feed)
    if (!want || !room.peers.size || this.deps.rooms.get(room.id) !== room || this.#feeds.has(room.id)) return
    const f: Feed = { room, sessionId: want, busy: false, timer: setInterval(() => void this.#tick(f), SPOTLIGHT_FEED_MS) }
    f.timer.unref()
    this.#feeds.set(room.id, f)
    void this.#tick(f)
  }

  /** `peer` was just welcomed into `room`: the latest frame, when a room spotlight is on (or the feed starts and sends it). */
  joined(room: Room, peer: Peer) {
    const feed = this.#feeds.get(room.id)
    if (feed?.frame && feed.room === room && feed.sessionId === room.lecture.spotlight?.sessionId) peer.sendText(feed.frame)
    this.sync(room)
  }

  /** Stop every feed (the server is closing). */
  close() {
    for (const feed of [...this.#feeds.values()]) this.#stop(feed)
  }

  #stop(feed: Feed) {
    clearInterval(feed.timer)
    if (this.#feeds.get(feed.room.id) === feed) this.#feeds.delete(feed.room.id)
  }

  async #tick(f: Feed) {
    const { room } = f
    if (this.#feeds.get(room.id) !== f) return
    if (this.deps.rooms.get(room.id) !== room || room.lecture.spotlight?.sessionId !== f.sessionId || !room.peers.size) return this.#stop(f)
    if (f.busy) return
    f.busy = true
    try {
      if (f.firstFile === undefined) f.firstFile = (await roomOfSession(this.deps.sql, f.sessionId))?.firstFile ?? null
      const doc = await this.deps.documentText(f.sessionId)
      if (!doc || this.#feeds.get(room.id) !== f) return
      this.deps.touch(f.sessionId)
      const heads = doc.heads.join(',')
      if (heads === f.heads) return
      f.heads = heads
      const before = f.files
      f.files = doc.files
      const names = Object.keys(doc.files)
      let file = f.file
      const edited = before ? names.filter((n) => doc.files[n] !== before[n]) : []
      if (edited.length && (file === undefined || !edited.includes(file))) file = edited[0]
      if (file === undefined || doc.files[file] === undefined) file = f.firstFile && doc.files[f.firstFile] !== undefined ? f.firstFile : names[0]
      if (file === undefined) return
      const text = doc.files[file]!
      if (f.frame && file === f.file && before?.[file] === text) return
      const changed = file === f.file && before?.[file] !== undefined ? changedRange(before[file], text) : undefined
      f.file = file
      const tooLong = text.length > MAX_SPOTLIGHT_TEXT
      const frame: SpotlightText = {
        type: 'spotlight-text',
        sessionId: f.sessionId,
        file,
        text: tooLong ? '' : text,
        ...(changed && !tooLong ? { changed } : {}),
        ...(tooLong ? { tooLong: true as const } : {}),
      }
      f.frame = JSON.stringify(frame)
      for (const peer of room.peers) peer.sendText(f.frame)
    } catch (e) {
      this.deps.log(`could not read the spotlit room ${f.sessionId}: ${(e as Error).message}`)
    } finally {
      f.busy = false
    }
  }
}

/** The range of `after` that differs from `before` (UTF-16 offsets; empty where text was only removed). */
export function changedRange(before: string, after: string): { from: number; to: number } {
  let from = 0
  const max = Math.min(before.length, after.length)
  while (from < max && before.charCodeAt(from) === after.charCodeAt(from)) from++
  let tail = 0
  while (tail < max - from && before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)) tail++
  return { from, to: after.length - tail }
}
