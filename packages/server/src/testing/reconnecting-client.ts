import * as A from '@automerge/automerge'
import WebSocket from 'ws'
import { PROTOCOL_VERSION, retryPolicy } from '@session-kit/core'
import type { DocShape } from './client.js'

export interface ReconnectingClientOptions {
  /** Milliseconds before reconnect attempt `n` (0-based): pass the browser client's own policy. */
  backoff: (attempt: number) => number
  actor?: string
}

/**
 * A protocol client that lives through outages the way the browser's room client does: it keeps
 * its replica and keeps taking edits while disconnected, reconnects with the backoff it is given
 * (reset by each welcome), and on every new connection starts a fresh sync state so the handshake
 * uploads whatever the server lacks — its unacknowledged edits included.
 */
export class ReconnectingClient {
  doc: A.Doc<DocShape>
  /** This client's own changes, in the order they were made. */
  readonly mine: string[] = []
  /** Hashes the server acknowledged as durable (`ack` events). */
  readonly acked = new Set<string>()
  /** When each welcome arrived: one per successful connection. */
  readonly welcomes: number[] = []
  readonly closes: { code: number; reason: string; at: number }[] = []
  /** When each connection attempt started. */
  readonly attempts: number[] = []
  /** A close after which the browser would not simply reconnect with backoff: this client stopped. */
  failed: { code: number; reason: string } | null = null
  #ws: WebSocket | null = null
  #sync = A.initSyncState()
  #attempt = 0
  #timer?: NodeJS.Timeout
  #stopped = false
  #live = false

  constructor(
    readonly base: string,
    readonly sid: string,
    readonly token: string,
    readonly opts: ReconnectingClientOptions,
  ) {
    this.doc = A.init<DocShape>(opts.actor ? { actor: opts.actor } : undefined)
    this.#open()
  }

  /** Welcomed on the current connection. */
  get live() {
    return this.#live
  }

  /** Whether the replica has the session's document yet. */
  get synced() {
    return this.doc.files !== undefined
  }

  get unacked(): string[] {
    return this.mine.filter((h) => !this.acked.has(h))
  }

  heads(): string[] {
    return A.getHeads(this.doc).sort()
  }

  text(file: string): string | undefined {
    const t = this.doc.files?.[file]
    return t === undefined ? undefined : String(t)
  }

  /** Type at the end of a file, connected or not (as a person keeps typing through a blip). */
  type(file: string, text: string): string {
    this.doc = A.change(this.doc, (d) => A.splice(d, ['files', file], String(d.files[file] ?? '').length, 0, text))
    const hash = A.decodeChange(A.getLastLocalChange(this.doc)!).hash
    this.mine.push(hash)
    this.#flush()
    return hash
  }

  stop() {
    this.#stopped = true
    clearTimeout(this.#timer)
    const ws = this.#ws
    this.#ws = null
    this.#live = false
    ws?.close(1000, 'left')
  }

  async waitFor(pred: () => boolean, ms = 10_000): Promise<boolean> {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      if (pred()) return true
      await new Promise((r) => setTimeout(r, 20))
    }
    return pred()
  }

  #open() {
    if (this.#stopped) return
    this.attempts.push(Date.now())
    const ws = new WebSocket(this.base.replace(/^http/, 'ws') + `/v1/sessions/${encodeURIComponent(this.sid)}/sync`)
    ws.binaryType = 'nodebuffer'
    this.#ws = ws
    this.#sync = A.initSyncState()
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', token: this.token, protocol: PROTOCOL_VERSION, sync: true })))
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.#ws !== ws) return
      if (isBinary) {
        ;[this.doc, this.#sync] = A.receiveSyncMessage(this.doc, this.#sync, new Uint8Array(data))
        this.#flush()
        return
      }
      const m = JSON.parse(data.toString()) as { type: string; changes?: string[] }
      if (m.type === 'welcome') {
        this.#live = true
        this.#attempt = 0
        this.welcomes.push(Date.now())
      } else if (m.type === 'ack') for (const h of m.changes!) this.acked.add(h)
    })
    ws.on('error', () => {})
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.#ws !== ws) return
      this.#ws = null
      this.#live = false
      this.closes.push({ code, reason: reason.toString(), at: Date.now() })
      if (this.#stopped) return
      const policy = retryPolicy(code)
      // 'now' means a refused write or lost permission, after which the browser rebuilds its
      // replica from the server; an outage never causes one, so this client just stops.
      if (policy !== 'backoff') {
        this.failed = { code, reason: reason.toString() }
        return
      }
      this.#timer = setTimeout(() => this.#open(), this.opts.backoff(this.#attempt++))
    })
  }

  /** One message per received message or local change, as the protocol needs. */
  #flush() {
    const ws = this.#ws
    if (!ws || ws.readyState !== WebSocket.OPEN) return
    const [sync, msg] = A.generateSyncMessage(this.doc, this.#sync)
    this.#sync = sync
    if (msg) ws.send(msg)
  }
}
