// Protocol clients for the connection benchmark and the soak run: a full Automerge peer that holds
// the document and types into it, and a light peer that does the real handshake — hello, welcome,
// the whole document over the sync protocol — and then only answers and counts what it receives,
// so a load generator can hold thousands of them in one process — and a light viewer (protocol 2,
// `mode: "view"`) that receives the text as JSON and applies splices to strings.
//
// Protocols: every peer takes `{ protocol: 1 | 2 }`. Protocol 1 says hello with `sync: true` and
// answers every push, as the server waits for that answer before pushing more. Protocol 2 says
// hello with `mode: "full"` (or `"view"`); once the server confirms the mode in `welcome`, it pushes
// changes without waiting, and a full peer answers a push only when its answer carries changes or
// asks for some (`need`) — never with heads alone. A server that does not speak protocol 2 yet
// sends no `mode` in welcome: the peer then behaves as protocol 1 (see `pushOnly`).
import { readFileSync } from 'node:fs'
import * as A from '@automerge/automerge'
import WebSocket from 'ws'

export const now = () => performance.timeOrigin + performance.now()
/** How the server's presence events begin (it writes `type` first). */
const PRESENCE_PREFIX = ['presence', 'presences'].map((type) => ({ type, bytes: Buffer.from(`{"type":"${type}",`) }))
const EMPTY_BLOOM = new Uint8Array(0)

/** What both kinds share: the socket, the hello, JSON events, and how the connection ended. */
class Peer {
  constructor(url, sid, token, { protocol = 1, mode = 'full' } = {}) {
    this.sid = sid
    this.protocol = protocol
    /** Payload bytes received: document frames (binary, or a viewer's text/splices) and other events. */
    this.bytesIn = { doc: 0, events: 0 }
    this.startedAt = now()
    this.readyAt = 0
    this.welcome = null
    this.synced = false
    /** Server events by type (chat, run, joined, …) and the errors it sent. */
    this.counts = {}
    this.errors = []
    this.acked = new Set()
    /** How the socket ended; `expected` when we closed it or were told the server would. */
    this.closed = null
    this.expectClose = false
    this.openFailed = null
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve
      this.rejectReady = reject
    })
    this.ready.catch(() => {})
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + `/v1/sessions/${sid}/sync`)
    this.ws.binaryType = 'nodebuffer'
    const hello = protocol === 1 ? { type: 'hello', token, protocol: 1, sync: mode !== 'events' } : { type: 'hello', token, protocol, mode }
    this.ws.on('open', () => this.ws.send(JSON.stringify(hello)))
    this.ws.on('message', (data, binary) => {
      if (binary) {
        this.bytesIn.doc += data.length
        return this.binary(new Uint8Array(data))
      }
      // Cursor traffic is most of what a crowd receives: counted, and parsed only when someone listens.
      const presence = this.onEvent ? undefined : PRESENCE_PREFIX.find((p) => data.length > p.bytes.length && data.subarray(0, p.bytes.length).equals(p.bytes))
      if (presence) {
        this.bytesIn.events += data.length
        this.counts[presence.type] = (this.counts[presence.type] ?? 0) + 1
        return
      }
      const e = JSON.parse(String(data))
      if (e.type === 'text' || e.type === 'splices') this.bytesIn.doc += data.length
      else this.bytesIn.events += data.length
      this.event(e)
    })
    this.ws.on('unexpected-response', (_req, res) => {
      this.openFailed = `HTTP ${res.statusCode}`
      this.ws.terminate()
    })
    this.ws.on('error', (e) => {
      if (this.ws.readyState !== WebSocket.OPEN && !this.welcome) this.openFailed ??= e.message
    })
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason), expected: this.expectClose }
      this.rejectReady(new Error(this.openFailed ? `open failed: ${this.openFailed}` : `closed ${code} ${reason} before the handshake finished`))
      this.onClose?.(this)
    })
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN
  }

  /** The server confirmed protocol 2's full mode: it pushes without waiting, and heads-only answers are not sent. */
  get pushOnly() {
    return this.welcome?.mode === 'full'
  }

  event(e) {
    this.counts[e.type] = (this.counts[e.type] ?? 0) + 1
    if (e.type === 'welcome') this.welcome = e
    else if (e.type === 'ack') for (const h of e.changes) this.acked.add(h)
    else if (e.type === 'error') this.errors.push(e)
    this.onEvent?.(e)
    this.checkReady()
  }

  checkReady() {
    if (this.readyAt || !this.welcome || !this.synced) return
    this.readyAt = now()
    this.resolveReady(this)
  }

  send(obj) {
    if (this.open) this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj))
  }

  close() {
    this.expectClose = true
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close()
  }

  /** Resolves once the socket is closed, or after `ms`. */
  async whenClosed(ms = 10_000) {
    const t0 = Date.now()
    while (!this.closed && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20))
    return this.closed
  }
}

/**
 * The real handshake without a document: answers the server's first sync message by asking for
 * its heads, takes the document's changes (counting them), tells the server it now has those heads
 * and goes live. Live pushes are decoded only to learn each change's hash and send time (in its
 * message), then acknowledged the way a client that applied them would.
 */
export class LightPeer extends Peer {
  constructor(url, sid, token, options) {
    super(url, sid, token, options)
    this.documentChanges = 0
    /** Hashes of live changes received; `onChange(decoded, receivedAt)` sees each one. */
    this.received = new Set()
  }

  binary(bytes) {
    const msg = A.decodeSyncMessage(bytes)
    if (msg.changes.length) {
      if (!this.synced) {
        this.documentChanges = msg.changes.length
        this.synced = true
      } else {
        const at = now()
        for (const bytes of msg.changes) {
          const change = A.decodeChange(bytes)
          this.received.add(change.hash)
          this.onChange?.(change, at)
        }
        // Protocol 2: a live push is not answered (this peer adds nothing).
        if (this.pushOnly) return
      }
      this.ws.send(A.encodeSyncMessage({ type: 'message', heads: msg.heads, need: [], have: [{ lastSync: msg.heads, bloom: EMPTY_BLOOM }], changes: [] }))
      this.checkReady()
    } else if (!this.synced && msg.heads.length) {
      this.ws.send(A.encodeSyncMessage({ type: 'message', heads: [], need: msg.heads, have: [{ lastSync: [], bloom: EMPTY_BLOOM }], changes: [] }))
    }
  }
}

/**
 * A full Automerge peer: applies everything, types into a file, and can report its text.
 * `onChange(decoded, receivedAt)` sees each live change as its frame arrives; `onApplied(ms,
 * changes)` how long applying that frame took (receiveSyncMessage, the client's own work).
 */
export class FullPeer extends Peer {
  /**
   * `batch`: frames that arrive while the peer is busy are applied together as one sync message
   * (the last frame's heads and `have`, every frame's changes), as the product's document worker
   * does (packages/elements replica.ts); `onApplied(ms)` then counts from each frame's arrival.
   */
  constructor(url, sid, token, { file = 'main.js', batch = false, ...options } = {}) {
    super(url, sid, token, options)
    this.batch = batch
    this.frames = []
    this.file = file
    this.doc = A.init()
    this.syncState = A.initSyncState()
    this.typed = []
    this.cursor = 0
  }

  binary(bytes) {
    if (!this.batch) return this.apply(bytes)
    this.frames.push({ bytes, at: performance.now() })
    if (this.frames.length === 1) setTimeout(() => this.applyFrames(), 0)
  }

  applyFrames() {
    const frames = this.frames.splice(0)
    if (!frames.length) return
    if (frames.length === 1) return this.apply(frames[0].bytes, frames[0].at)
    const decoded = frames.map((f) => A.decodeSyncMessage(f.bytes))
    this.apply(A.encodeSyncMessage({ ...decoded[decoded.length - 1], changes: decoded.flatMap((m) => m.changes) }), frames[0].at)
  }

  /** Apply one sync message; `since`: when its (first) frame arrived, if it waited. */
  apply(bytes, since) {
    // Live changes only: the first sync can carry the whole document as one entry, not a change.
    let live = 0
    if ((this.onChange || this.onApplied) && this.synced) {
      // A batch's changes count from its first frame's arrival (the client's part, if anything, overstated).
      const at = since === undefined ? now() : performance.timeOrigin + since
      const changes = A.decodeSyncMessage(bytes).changes
      live = changes.length
      if (this.onChange) for (const c of changes) this.onChange(A.decodeChange(c), at)
    }
    const t0 = since ?? performance.now()
    ;[this.doc, this.syncState] = A.receiveSyncMessage(this.doc, this.syncState, bytes)
    if (live) this.onApplied?.(performance.now() - t0, live)
    this.flush()
    if (!this.synced && this.doc.files?.[this.file] !== undefined) {
      this.synced = true
      this.cursor = Math.floor(Math.random() * this.text().length)
      this.checkReady()
    }
  }

  flush() {
    const [state, msg] = A.generateSyncMessage(this.doc, this.syncState)
    this.syncState = state
    if (!msg || !this.open) return
    // Protocol 2, live: only an answer with changes of ours or a `need` is worth a frame.
    if (this.synced && this.pushOnly && !carriesSomething(msg)) return
    this.ws.send(msg)
  }

  text(file = this.file) {
    const t = this.doc.files?.[file]
    return t === undefined ? undefined : String(t)
  }

  /** Insert `text` at `at` as one change; returns the change's hash. */
  insert(text, at = 0) {
    this.doc = A.change(this.doc, { message: String(now()) }, (d) => A.splice(d, ['files', this.file], at, 0, text))
    const hash = A.decodeChange(A.getLastLocalChange(this.doc)).hash
    this.typed.push(hash)
    this.flush()
    return hash
  }

  /**
   * One typed character at the cursor, never a deletion (the lecture benchmark counts characters
   * to know which keystroke a viewer's splice carries); `message` travels in the change.
   */
  typeChar(message = String(now())) {
    const len = this.text().length
    this.cursor = Math.min(this.cursor, len)
    const ch = Math.random() < 0.1 ? '\n' : String.fromCharCode(97 + Math.floor(Math.random() * 26))
    this.doc = A.change(this.doc, { message }, (d) => A.splice(d, ['files', this.file], this.cursor++, 0, ch))
    this.flush()
  }

  /** One keystroke at the cursor (now and then a backspace or a new line); returns the change's hash. */
  keystroke() {
    const len = this.text().length
    this.cursor = Math.min(this.cursor, len)
    const r = Math.random()
    this.doc = A.change(this.doc, { message: String(now()) }, (d) => {
      if (r < 0.06 && this.cursor > 0) A.splice(d, ['files', this.file], --this.cursor, 1)
      else A.splice(d, ['files', this.file], this.cursor++, 0, r < 0.12 ? '\n' : String.fromCharCode(97 + Math.floor(Math.random() * 26)))
    })
    const hash = A.decodeChange(A.getLastLocalChange(this.doc)).hash
    this.typed.push(hash)
    this.flush()
    return hash
  }
}

/** Whether a sync message carries changes or asks for some (else it only tells heads). */
export function carriesSomething(msg) {
  const m = A.decodeSyncMessage(msg)
  return m.changes.length > 0 || m.need.length > 0
}

/**
 * A light viewer (protocol 2, `mode: "view"`): no Automerge at all. It receives every file's text
 * (`text`), then `splices` frames, and applies each splice to its strings — O(splice), as a
 * viewer's page would. `onSplices(splices, receivedAt)` sees each frame before it is applied;
 * `onApplied(ms)` how long applying it took. `refused` says why the server did not make it a
 * viewer (an older server: the hello refused, or `welcome.mode` not "view").
 */
export class ViewPeer extends Peer {
  constructor(url, sid, token, options = {}) {
    super(url, sid, token, { ...options, protocol: 2, mode: 'view' })
    this.files = null
    this.texts = 0
    this.refused = null
  }

  event(e) {
    if (e.type === 'welcome' && e.mode !== 'view') {
      this.refused = `the server answered a view hello with ${e.mode ? `mode "${e.mode}"` : 'no mode (it does not speak protocol 2 yet)'}`
      this.rejectReady(new Error(this.refused))
      this.close()
    } else if (e.type === 'text') {
      this.files = { ...e.files }
      this.heads = e.heads
      this.texts++
      this.synced = true
    } else if (e.type === 'splices' && this.files) {
      this.onSplices?.(e.splices, now())
      const t0 = performance.now()
      for (const s of e.splices) {
        const text = this.files[s.file] ?? ''
        this.files[s.file] = text.slice(0, s.index) + s.insert + text.slice(s.index + s.delete)
      }
      this.heads = e.heads
      this.onApplied?.(performance.now() - t0)
    }
    super.event(e)
  }

  binary() {
    this.refused ??= 'the server sent Automerge frames to a viewer'
  }
}

/** Type into `client` (anything with `keystroke()`) at a human rhythm: exponential gaps around `rate` keys/s. */
export function startTyping(client, rate) {
  const tick = () => {
    if (client.stopped || client.closed) return
    client.keystroke()
    client.timer = setTimeout(tick, Math.min(2000, -Math.log(1 - Math.random()) * (1000 / rate)))
  }
  client.timer = setTimeout(tick, Math.random() * (1000 / rate))
}

export function stopTyping(client) {
  client.stopped = true
  clearTimeout(client.timer)
}

/** Wait for `promise`, or give up after `ms` (resolves to undefined then). */
export function within(promise, ms) {
  let timer
  return Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer))
}

/** The soft limit on open files of this process (`ulimit -n`), from /proc. */
export function openFileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
  const soft = line?.split(/\s{2,}/)[1]
  return soft === 'unlimited' ? Infinity : Number(soft)
}

/**
 * Whether the server at `url` speaks protocol 2 for a full peer: one connection says hello with
 * `protocol: 2, mode: "full"`. Resolves to `{ ok: true }` when welcome confirms the mode, else to
 * `{ ok: false, why }` (the hello refused, or a welcome without `mode`: an older server).
 */
export async function speaksProtocol2(url, sid, token) {
  const peer = new LightPeer(url, sid, token, { protocol: 2 })
  const t0 = Date.now()
  while (!peer.welcome && !peer.closed && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20))
  const welcome = peer.welcome
  peer.close()
  await peer.whenClosed(2000)
  if (welcome?.mode === 'full') return { ok: true }
  if (welcome) return { ok: false, why: 'its welcome carries no mode (this build does not speak protocol 2 yet)' }
  return { ok: false, why: `it refused the hello (${peer.closed?.code ?? 'no answer'} ${peer.closed?.reason ?? ''})`.trim() }
}
