// Protocol clients for the connection benchmark and the soak run: a full Automerge peer that holds
// the document and types into it, and a light peer that does the real handshake — hello, welcome,
// the whole document over the sync protocol — and then only answers and counts what it receives,
// so a load generator can hold thousands of them in one process.
import { readFileSync } from 'node:fs'
import * as A from '@automerge/automerge'
import WebSocket from 'ws'

export const now = () => performance.timeOrigin + performance.now()
const EMPTY_BLOOM = new Uint8Array(0)

/** What both kinds share: the socket, the hello, JSON events, and how the connection ended. */
class Peer {
  constructor(url, sid, token) {
    this.sid = sid
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
    this.ws.on('open', () => this.ws.send(JSON.stringify({ type: 'hello', token, protocol: 1, sync: true })))
    this.ws.on('message', (data, binary) => (binary ? this.binary(new Uint8Array(data)) : this.event(JSON.parse(String(data)))))
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
  constructor(url, sid, token) {
    super(url, sid, token)
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
      }
      this.ws.send(A.encodeSyncMessage({ type: 'message', heads: msg.heads, need: [], have: [{ lastSync: msg.heads, bloom: EMPTY_BLOOM }], changes: [] }))
      this.checkReady()
    } else if (!this.synced && msg.heads.length) {
      this.ws.send(A.encodeSyncMessage({ type: 'message', heads: [], need: msg.heads, have: [{ lastSync: [], bloom: EMPTY_BLOOM }], changes: [] }))
    }
  }
}

/** A full Automerge peer: applies everything, types into a file, and can report its text. */
export class FullPeer extends Peer {
  constructor(url, sid, token, { file = 'main.js' } = {}) {
    super(url, sid, token)
    this.file = file
    this.doc = A.init()
    this.syncState = A.initSyncState()
    this.typed = []
    this.cursor = 0
  }

  binary(bytes) {
    // Live changes only: the first sync can carry the whole document as one entry, not a change.
    if (this.onChange && this.synced) {
      const at = now()
      for (const c of A.decodeSyncMessage(bytes).changes) this.onChange(A.decodeChange(c), at)
    }
    ;[this.doc, this.syncState] = A.receiveSyncMessage(this.doc, this.syncState, bytes)
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
    if (msg && this.open) this.ws.send(msg)
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
