import * as A from '@automerge/automerge'
import type { DocShape } from '@session-kit/core'
import WebSocket from 'ws'

export type { DocShape }

/** A raw protocol client (what any Automerge peer can do), for server tests. */
export class RawClient {
  doc: A.Doc<DocShape>
  sync = A.initSyncState()
  events: any[] = []
  welcome: any = null
  closed: { code: number; reason: string } | null = null
  acked = new Set<string>()
  binaryReceived = 0
  /** The last sync message the server sent. */
  lastBinary: Uint8Array | null = null
  /** Sync resets this client had to send (the server should never cause one). */
  resets = 0
  /** Protocol 2, view: the files as the `text` and `splices` frames built them. */
  view: Record<string, string> | null = null
  /** Every text frame exactly as received (to compare bytes between clients). */
  rawText: string[] = []
  readonly ws: WebSocket
  readonly opened: Promise<RawClient>

  constructor(
    base: string,
    sid: string,
    token: string | null,
    opts: { sync?: boolean; protocol?: number; mode?: 'full' | 'view' | 'events'; allowView?: boolean; actor?: string; autoReply?: boolean; hello?: boolean; headers?: Record<string, string> } = {},
  ) {
    this.doc = A.init<DocShape>(opts.actor ? { actor: opts.actor } : undefined)
    this.ws = new WebSocket(base.replace(/^http/, 'ws') + `/v1/sessions/${sid}/sync`, opts.headers ? { headers: opts.headers } : undefined)
    this.ws.binaryType = 'nodebuffer'
    this.opened = new Promise((resolve) => {
      this.ws.on('open', () => {
        const p2 = opts.mode || opts.allowView ? { mode: opts.mode, allowView: opts.allowView } : {}
        if (opts.hello !== false && token !== null) this.ws.send(JSON.stringify({ type: 'hello', token, protocol: opts.protocol ?? (opts.mode ? 2 : 1), sync: opts.sync ?? true, ...p2 }))
        if (opts.hello === false) resolve(this)
      })
      this.ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) {
          this.binaryReceived++
          this.lastBinary = new Uint8Array(data)
          ;[this.doc, this.sync] = A.receiveSyncMessage(this.doc, this.sync, new Uint8Array(data))
          if (opts.autoReply !== false) this.flush()
          return
        }
        const text = data.toString()
        this.rawText.push(text)
        const m = JSON.parse(text)
        this.events.push(m)
        if (m.type === 'text') this.view = { ...m.files }
        if (m.type === 'splices' && this.view) {
          for (const sp of m.splices) {
            const t = this.view[sp.file]
            if (t !== undefined) this.view[sp.file] = t.slice(0, sp.index) + sp.insert + t.slice(sp.index + sp.delete)
          }
        }
        // Switched to a viewer: the replica is dropped, as a page does.
        if (m.type === 'mode' && m.mode === 'view') {
          this.doc = A.init<DocShape>()
          this.sync = A.initSyncState()
        }
        if (m.type === 'mode' && m.mode === 'full') this.view = null
        if (m.type === 'welcome') {
          this.welcome = m
          resolve(this)
        }
        if (m.type === 'ack') for (const h of m.changes) this.acked.add(h)
      })
      this.ws.on('close', (code: number, reason: Buffer) => {
        this.closed = { code, reason: reason.toString() }
        resolve(this)
      })
      this.ws.on('error', () => {})
    })
  }

  static connect(base: string, sid: string, token: string | null, opts: ConstructorParameters<typeof RawClient>[3] = {}) {
    return new RawClient(base, sid, token, opts).opened
  }

  /** Answer the server: one message per received message (or local change) is all the protocol needs. */
  flush() {
    const [s, m] = A.generateSyncMessage(this.doc, this.sync)
    this.sync = s
    if (!m) return
    const have = A.decodeSyncMessage(m).have
    // A reset (empty lastSync after we held a document) means the server named heads we lack.
    if (have.length === 1 && have[0]!.lastSync.length === 0 && A.getHeads(this.doc).length && this.binaryReceived > 1) this.resets++
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(m)
  }

  edit(fn: (d: DocShape) => void) {
    this.doc = A.change(this.doc, fn)
    this.flush()
    return A.decodeChange(A.getLastLocalChange(this.doc)!).hash
  }

  type(file: string, at: number, text: string) {
    return this.edit((d) => A.splice(d, ['files', file], at, 0, text))
  }

  text(file?: string): string | undefined {
    const files = this.doc.files ?? {}
    const name = file ?? Object.keys(files)[0]
    return name === undefined ? undefined : files[name] === undefined ? undefined : String(files[name])
  }

  send(obj: unknown) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj))
  }

  async waitFor(pred: () => boolean, ms = 10_000): Promise<boolean> {
    const t0 = Date.now()
    while (Date.now() - t0 < ms) {
      if (pred()) return true
      await new Promise((r) => setTimeout(r, 15))
    }
    return pred()
  }

  async waitClosed(ms = 10_000) {
    await this.waitFor(() => this.closed !== null, ms)
    return this.closed
  }

  event(type: string) {
    return this.events.find((e) => e.type === type)
  }

  close() {
    try {
      this.ws.close()
    } catch {}
  }
}
