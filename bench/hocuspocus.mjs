// Hocuspocus + Yjs side of the comparison benchmarks: the server in a process of its own
// (bench/hocuspocus-server.mjs) and clients speaking its wire protocol over `ws`, as
// @hocuspocus/provider does: every message starts with the document name and a Hocuspocus message
// type, followed by a y-protocols sync or awareness message (see @hocuspocus/server's
// OutgoingMessage and MessageReceiver). A client sends its token, sync step 1 and its awareness
// state on open, answers the server's sync step 1, then sends one sync update per keystroke; the
// server applies it and broadcasts it to every connection of the document.
//
// Latency is measured without adding anything to the Yjs documents or messages: a light sender
// writes the send time of each keystroke into shared memory, keyed by its client id and the Yjs
// clock of the character it inserts (or deletes); a measuring client reads the ids and clocks of
// each applied update and looks the send times up. (Session Kit's senders carry the time in the
// Automerge change's message, a few bytes more per change for its server to verify and store.)
import { fileURLToPath } from 'node:url'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import { freePort, spawnServer } from './lib.mjs'
import { stopTyping } from './clients.mjs'

// @hocuspocus/server's MessageType and AuthMessageType.
const SYNC = 0
const AWARENESS = 1
const AUTH = 2
const SYNC_REPLY = 4
const AUTH_TOKEN = 0

const REMOTE = Symbol('remote')
const now = () => performance.timeOrigin + performance.now()

/**
 * Start Hocuspocus on a free port of 127.0.0.1; each document it loads starts with `starterSize`
 * characters. `trace`: the server keeps per-update timings, read with `server.trace()`.
 */
export async function startHocuspocus({ starterSize, trace = false }) {
  const port = await freePort()
  const script = fileURLToPath(new URL('./hocuspocus-server.mjs', import.meta.url))
  const server = await spawnServer([script, '--port', String(port), '--starter-size', String(starterSize), ...(trace ? ['--trace'] : [])], { port, ipc: true })
  return { ...server, url: `ws://127.0.0.1:${port}` }
}

// Client ids of the bench's Yjs clients: FIRST_ID + their slot, so a measuring client can tell a
// light sender's keystrokes apart and find their send times. The server's own document gets a
// random 32-bit id, so a clash is a one-in-millions event.
const FIRST_ID = 3_000_000_000
// Send times per slot: inserted characters by clock, then deleted characters by clock.
const CLOCKS = 8192

export function stampBuffer(slots) {
  return new SharedArrayBuffer(slots * 2 * CLOCKS * Float64Array.BYTES_PER_ELEMENT)
}

function message(room, type, write) {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, room)
  encoding.writeVarUint(e, type)
  write(e)
  return encoding.toUint8Array(e)
}

/**
 * A full Yjs client: keeps the document, applies every update it receives and, while the tracker
 * is measuring, records keystroke → remote-apply latency of the light senders' keystrokes
 * (`tracker.latencies`), and beside each sample the part spent before the client had the frame
 * (`tracker.arrivals`) and applying it (`tracker.applies`, Y.applyUpdate's time).
 * `consume: false` leaves send times in place once read (several clients measure the same
 * keystrokes: the lecture's viewers); `awareness: true` keeps its awareness to send cursors.
 */
export class YjsClient {
  constructor({ url, room, slot, stamps, full = true, tracker, consume = true, awareness: keepAwareness = false }) {
    this.room = room
    this.full = full
    this.tracker = tracker
    this.consume = consume
    this.stamps = new Float64Array(stamps)
    /** Payload bytes received: document (sync) frames and the rest (awareness, auth, acknowledgements). */
    this.bytesIn = { doc: 0, events: 0 }
    this.doc = new Y.Doc()
    this.doc.clientID = FIRST_ID + slot
    this.synced = false
    this.closed = null
    this.typed = 0
    this.doc.on('update', (update, origin) => {
      if (origin !== REMOTE) this.send(message(room, SYNC, (e) => syncProtocol.writeUpdate(e, update)))
    })
    this.ws = new WebSocket(url)
    this.ws.binaryType = 'nodebuffer'
    this.ready = new Promise((resolve, reject) => {
      this.ws.on('open', () => {
        this.send(message(room, AUTH, (e) => (encoding.writeVarUint(e, AUTH_TOKEN), encoding.writeVarString(e, 'bench'))))
        this.send(message(room, SYNC, (e) => syncProtocol.writeSyncStep1(e, this.doc)))
        // Announce this user once, as the provider does on connect; the workload sends no cursors.
        const awareness = new awarenessProtocol.Awareness(this.doc)
        awareness.setLocalState({ user: { name: `User ${slot}` } })
        this.send(message(room, AWARENESS, (e) => encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(awareness, [this.doc.clientID]))))
        if (keepAwareness) this.awareness = awareness
        else awareness.destroy()
      })
      this.ws.on('message', (data) => {
        // Light senders apply nothing once they hold the document.
        if (this.synced && !this.full) return
        const decoder = decoding.createDecoder(new Uint8Array(data))
        decoding.readVarString(decoder)
        const type = decoding.readVarUint(decoder)
        // Awareness, authentication and "saved" acknowledgements are not part of the workload.
        if (type !== SYNC && type !== SYNC_REPLY) {
          this.bytesIn.events += data.length
          return
        }
        this.bytesIn.doc += data.length
        const step = decoding.readVarUint(decoder)
        if (step === syncProtocol.messageYjsSyncStep1) {
          const vector = decoding.readVarUint8Array(decoder)
          this.send(message(room, SYNC, (e) => syncProtocol.writeSyncStep2(e, this.doc, vector)))
          return
        }
        const update = decoding.readVarUint8Array(decoder)
        const received = now()
        const t0 = performance.now()
        Y.applyUpdate(this.doc, update, REMOTE)
        const applyMs = performance.now() - t0
        if (this.synced && this.full && this.tracker.measuring) this.measure(update, received + applyMs, applyMs)
        if (!this.synced && this.text()?.length > 0) {
          this.synced = true
          this.cursor = Math.floor(Math.random() * this.text().length)
          resolve()
        }
      })
      this.ws.on('close', (code) => {
        this.closed = code
        reject(new Error(`closed ${code}`))
      })
      this.ws.on('error', () => {})
    })
  }

  text() {
    return this.doc.getMap('files').get('main.js')
  }

  send(bytes) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes)
  }

  /** Where a sent keystroke's time is kept: by slot, inserted or deleted, and Yjs clock. */
  static stampIndex(slot, clock, deleted = false) {
    return (slot * 2 + (deleted ? 1 : 0)) * CLOCKS + (clock % CLOCKS)
  }

  measure(update, at, applyMs) {
    const { structs, ds } = Y.decodeUpdate(update)
    // Consumed once read (unless several clients measure the same keystrokes), so a character
    // deleted by someone else too cannot be counted twice.
    const take = (client, clock, deleted) => {
      const slot = client - FIRST_ID
      if (client === this.doc.clientID || slot < 0 || (slot + 1) * 2 * CLOCKS > this.stamps.length) return
      const i = YjsClient.stampIndex(slot, clock, deleted)
      const sent = this.stamps[i]
      // Keystrokes sent inside the measured window (tracker.from … tracker.to), however late they arrive.
      // A tracker with sample() takes each one itself (the lecture keeps the slowest viewer per keystroke).
      if (sent && this.tracker.sample) this.tracker.sample(i, sent, at - applyMs, applyMs)
      else if (sent && sent >= (this.tracker.from ?? 0) && sent <= (this.tracker.to ?? Infinity)) {
        this.tracker.latencies.push(at - sent)
        this.tracker.arrivals?.push(at - applyMs - sent)
        this.tracker.applies?.push(applyMs)
      }
      if (this.consume) this.stamps[i] = 0
    }
    for (const s of structs) if (s instanceof Y.Item) take(s.id.client, s.id.clock, false)
    for (const [client, ranges] of ds.clients) for (const r of ranges) take(client, r.clock, true)
  }

  /** One keystroke: mostly a character at the cursor, sometimes a backspace or a new line. */
  keystroke() {
    const text = this.text()
    this.cursor = Math.min(this.cursor, text.length)
    const r = Math.random()
    if (r < 0.06 && this.cursor > 0) text.delete(--this.cursor, 1)
    else text.insert(this.cursor++, r < 0.1 ? '\n' : String.fromCharCode(97 + Math.floor(Math.random() * 26)))
    this.typed++
  }

  /** Move this client's cursor (Yjs awareness, as y-codemirror does: relative positions in the text). */
  moveCursor(index) {
    const text = this.text()
    const pos = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, Math.min(index, text.length)))
    this.awareness.setLocalStateField('cursor', { anchor: pos, head: pos })
    this.send(message(this.room, AWARENESS, (e) => encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(this.awareness, [this.doc.clientID]))))
  }

  stop() {
    stopTyping(this)
    this.awareness?.destroy()
    this.ws.close()
  }
}

/**
 * A light sender: joins like any provider (sync handshake included), then types into its own copy
 * of the document without applying anything it receives — its inserts and deletes are valid
 * against its own state, which the server holds too. Like Session Kit's light senders it types a
 * run from the start of the text and a backspace removes its own last character.
 */
export class YjsLightSender extends YjsClient {
  constructor(opts) {
    super({ ...opts, full: false })
    this.slot = opts.slot
    this.ready = this.ready.then(() => {
      this.cursor = 0
    })
  }

  keystroke() {
    const text = this.text()
    const del = this.cursor > 0 && Math.random() < 0.06
    const base = this.slot * 2 * CLOCKS
    if (del) {
      this.stamps[base + CLOCKS + (this.lastClock % CLOCKS)] = now()
      text.delete(--this.cursor, 1)
      this.cursor = 0
    } else {
      this.lastClock = Y.getState(this.doc.store, this.doc.clientID)
      this.stamps[base + (this.lastClock % CLOCKS)] = now()
      text.insert(this.cursor++, Math.random() < 0.1 ? '\n' : String.fromCharCode(97 + Math.floor(Math.random() * 26)))
    }
    this.typed++
  }
}
