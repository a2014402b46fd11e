import * as A from '@automerge/automerge'
import type { ServerEvent, TextSplice } from '@session-kit/core'
import type { DocHost } from './doc-host.js'
import type { Peer, Relayable } from './peer.js'
import type { ChangeText } from './text-index.js'

/** A durable change on its way to the room's peers. */
export interface Committed extends Relayable {
  deps: string[]
  origin: Peer | null
  /** What it did to the files (splices for viewers). */
  text: ChangeText
}

/** What the relay needs of its room. */
export interface RelayRoom {
  readonly id: string
  readonly peers: ReadonlySet<Peer>
  readonly heads: string[]
  hasChange(hash: string): boolean
  currentText(): { files: Record<string, string>; heads: string[] }
}

const EMPTY_BLOOM = new Uint8Array(0)
/** A protocol-1 peer that has not answered a push gets the next one after this long anyway. */
const REPLY_WAIT_MS = 300
/** How often a writer hears our heads after its own commits (each one costs it a reply frame). */
const HEADS_INTERVAL_MS = 500
/** Changes kept for peers in the middle of a handshake. */
const MAX_LOG = 20_000

/**
 * A push: changes with our heads, and those heads as what we last synced, which tells the peer we
 * hold everything up to them (so its answer carries only what it adds).
 */
export const pushMessage = (heads: string[], changes: Uint8Array[]) =>
  A.encodeSyncMessage({ type: 'message', heads, need: [], have: [{ lastSync: heads, bloom: EMPTY_BLOOM }], changes } as A.DecodedSyncMessage)

const wireSplices = (changes: readonly Committed[]): TextSplice[] =>
  changes.flatMap((c) => c.text.splices.map((s) => ({ file: s.file, index: s.at, delete: s.del, insert: s.ins })))

/**
 * Gets durable changes to a room's peers. Per batch, what peers in step receive is encoded once
 * and the same bytes go to each: one Automerge push for full peers, one JSON `splices` frame for
 * light viewers. Per-peer work is left for peers catching up: a handshake (run in the document
 * thread), a protocol-1 peer that has not answered its last push, a peer asking for changes.
 */
export class Relay {
  /** Published batches, numbered, kept while some peer's handshake may still need them. */
  #log: { seq: number; change: Committed }[] = []
  #seq = 0
  /** Batches up to this one were dropped from the log: a handshake from before it starts over. */
  #trimmed = 0

  constructor(
    private readonly room: RelayRoom,
    private readonly docs: DocHost,
    private readonly log: (msg: string) => void,
  ) {}

  /** A peer joined (or switched mode): start its stream. */
  join(peer: Peer) {
    if (peer.kind === 'full') this.startSync(peer)
    else if (peer.kind === 'view') this.#sendText(peer)
  }

  /** A peer left: its handshake state goes. */
  leave(peer: Peer) {
    if (peer.kind === 'full') this.docs.forget(this.room.id, peer.id)
  }

  /** Make a full peer a light viewer (it lost EDIT_CODE, or asked). */
  toView(peer: Peer, reason?: string) {
    this.leave(peer)
    peer.kind = 'view'
    peer.resetSync()
    peer.send({ type: 'mode', mode: 'view', ...(reason ? { reason } : {}) })
    this.#sendText(peer)
  }

  /** Make a light viewer a full Automerge peer (it asked). */
  toFull(peer: Peer) {
    peer.kind = 'full'
    peer.resetSync()
    peer.send({ type: 'mode', mode: 'full' })
    this.startSync(peer)
  }

  #sendText(peer: Peer) {
    const { files, heads } = this.room.currentText()
    peer.send({ type: 'text', files, heads })
  }

  // ---- durable changes ---------------------------------------------------------------------

  /** A batch became durable: every peer that is in step gets the same bytes. */
  committed(changes: Committed[], origin: Peer | null) {
    if (!changes.length) return
    const seq = ++this.#seq
    let handshakes = false
    let push: Uint8Array | undefined
    let view: string | undefined
    const now = Date.now()
    for (const peer of this.room.peers) {
      if (peer.closed) continue
      if (peer.kind === 'view') {
        view ??= this.#viewFrame(changes)
        if (view) peer.sendText(view)
        continue
      }
      if (peer.kind !== 'full') continue
      if (peer.mode !== 'live') {
        handshakes = true
        continue
      }
      if (peer === origin) {
        this.#tellHeads(peer)
        continue
      }
      const waiting = peer.protocol < 2 && peer.awaitingReply && now - peer.awaitingSince < REPLY_WAIT_MS
      if (!peer.outbox.length && !waiting) {
        push ??= pushMessage([...this.room.heads], changes.map((c) => c.bytes))
        this.#sent(peer, true, now)
        peer.sendBinary(push)
      } else {
        for (const c of changes) if (c.origin !== peer) peer.outbox.push(c)
        this.flush(peer)
      }
    }
    if (!handshakes) {
      this.#log = []
      this.#trimmed = seq
      return
    }
    for (const change of changes) this.#log.push({ seq, change })
    // A peer that never finishes its handshake must not hold the log for ever.
    if (this.#log.length > MAX_LOG) {
      const drop = this.#log.length - MAX_LOG
      this.#trimmed = this.#log[drop - 1]!.seq
      this.#log = this.#log.slice(drop)
    }
  }

  #viewFrame(changes: readonly Committed[]): string | undefined {
    const { heads } = this.room
    // Files added, removed or renamed: the whole text again (rare: instructors' file actions).
    if (changes.some((c) => c.text.created.length || c.text.removed.length)) {
      const { files } = this.room.currentText()
      return JSON.stringify({ type: 'text', files, heads } satisfies ServerEvent)
    }
    const splices = wireSplices(changes)
    if (!splices.length) return undefined
    return JSON.stringify({ type: 'splices', heads, splices } satisfies ServerEvent)
  }

  #sent(peer: Peer, withChanges: boolean, now: number) {
    // Only a push with changes expects an answer (a peer has nothing to say about heads alone),
    // and only protocol-1 peers are waited for.
    if (withChanges && peer.protocol < 2) {
      peer.awaitingReply = true
      peer.awaitingSince = now
    }
    peer.headsSentAt = now
  }

  /**
   * Tell a writer our heads now and then. Automerge works out what to send from the heads it last
   * heard we have, so a writer nobody else answers would scan ever more of its own history with
   * every keystroke (measured: 2,000 keystrokes alone took 26 s). Throttled, because a protocol-1
   * peer answers each one with a frame of its own.
   */
  #tellHeads(peer: Peer) {
    if (peer.headsTimer) return
    const wait = peer.headsSentAt + HEADS_INTERVAL_MS - Date.now()
    if (wait <= 0) return this.flush(peer, true)
    peer.headsTimer = setTimeout(() => {
      peer.headsTimer = undefined
      if (this.room.peers.has(peer)) this.flush(peer, true)
    }, wait)
    peer.headsTimer.unref()
  }

  /** Push a live peer what it has not seen, as one standard sync message. */
  flush(peer: Peer, force = false) {
    if (peer.kind !== 'full' || peer.mode !== 'live' || peer.closed || (!peer.outbox.length && !force)) return
    const now = Date.now()
    const waited = now - peer.awaitingSince
    if (peer.protocol < 2 && peer.awaitingReply && waited < REPLY_WAIT_MS) {
      if (!peer.flushTimer) peer.flushTimer = setTimeout(() => ((peer.flushTimer = undefined), this.flush(peer)), REPLY_WAIT_MS - waited)
      return
    }
    clearTimeout(peer.flushTimer)
    peer.flushTimer = undefined
    const msg = pushMessage([...this.room.heads], peer.outbox.map((c) => c.bytes))
    this.#sent(peer, peer.outbox.length > 0, now)
    peer.outbox = []
    peer.sendBinary(msg)
  }

  // ---- the handshake -----------------------------------------------------------------------

  /** Start Automerge's own handshake with a full peer, in the document thread. */
  startSync(peer: Peer) {
    peer.mode = 'handshake'
    peer.asOf = this.#seq
    this.docs.start(this.room.id, peer.id).then(
      (msg) => {
        if (msg && !peer.closed && peer.kind === 'full') peer.sendBinary(msg)
      },
      (e: Error) => this.#failed(peer, e),
    )
  }

  /** A binary frame from a full peer (its changes, if any, were taken first; `durable` resolves once they are stored). */
  syncMessage(peer: Peer, msg: A.DecodedSyncMessage, bytes: Uint8Array, durable: Promise<unknown>) {
    peer.awaitingReply = false
    if (peer.mode === 'live') return this.#liveMessage(peer, msg)
    peer.chain = peer.chain
      .then(() => durable)
      .then(() => this.#step(peer, msg, bytes))
      .catch((e: Error) => this.#failed(peer, e))
  }

  async #step(peer: Peer, msg: A.DecodedSyncMessage, bytes: Uint8Array) {
    if (peer.closed || peer.kind !== 'full') return
    if (peer.mode === 'live') return this.#liveMessage(peer, msg)
    const asOf = this.#seq
    const r = await this.docs.step(this.room.id, peer.id, bytes)
    if (peer.closed || peer.kind !== 'full' || (peer.mode as Peer['mode']) === 'live') return
    peer.asOf = asOf
    if (r.whole) return peer.sendBinary(pushMessage(r.whole.heads, [r.whole.bytes]))
    if (r.reply) peer.sendBinary(r.reply)
    if (r.live) this.#goLive(peer)
  }

  /** The peer holds the document as of `peer.asOf`: push what was published since, and keep it in step. */
  #goLive(peer: Peer) {
    if (peer.asOf < this.#trimmed) return this.startSync(peer)
    peer.mode = 'live'
    peer.outbox = this.#log.filter((e) => e.seq > peer.asOf && e.change.origin !== peer).map((e) => e.change)
    peer.awaitingReply = false
    // Always tell it our heads, with them as lastSync: its later writes then carry only its own
    // new changes (an Automerge peer that thinks we have nothing sends its whole document).
    this.flush(peer, true)
  }

  #liveMessage(peer: Peer, msg: A.DecodedSyncMessage) {
    // A reset (the peer lost track of what we have) or heads we cannot account for: start over
    // with Automerge's own handshake, which always converges.
    const reset = msg.have.length > 0 && msg.have[0]!.lastSync.length === 0 && this.room.heads.length > 0
    if (reset || !msg.heads.every((h) => this.room.hasChange(h))) return this.startSync(peer)
    if (!msg.need.length) return this.flush(peer)
    const wanted = msg.need.filter((h) => !peer.outbox.some((c) => c.hash === h))
    peer.chain = peer.chain
      .then(() => this.docs.changes(this.room.id, wanted))
      .then((found) => {
        if (peer.closed || peer.mode !== 'live') return
        if (found.some((b) => !b)) return this.startSync(peer)
        found.forEach((bytes, i) => peer.outbox.push({ bytes: bytes!, hash: wanted[i]! }))
        this.flush(peer, true)
      })
      .catch((e: Error) => this.#failed(peer, e))
  }

  #failed(peer: Peer, e: Error) {
    this.log(`room ${this.room.id}: a handshake step failed: ${e.message}`)
    peer.close(1011, 'The server could not sync this document; reconnecting.')
  }
}
