// Load benchmark: open rooms whose documents have 50,000 changes, and prove the "cold room" targets
// of DESIGN.md ("Numbers we hold ourselves to"): code visible < 300 ms and a live editor < 700 ms
// from the elements being defined, also in a cold room, without stalling other rooms.
//
// The histories are typed through the real protocol — real Automerge changes of one character each
// (with a backspace now and then), encoded directly and sent many to a frame as a fast or
// reconnecting writer sends them — so the server verifies, commits, folds and compacts them as it
// does live edits. Several rooms get the same history, so that one server restart gives several
// cold rooms (a room is cold when the server has to load it from storage). Then:
//
// A. The first person, raw protocol (Node), cold (just after a restart) and hot, --runs times each:
//    - protocol 1 full peer and protocol 2 `{protocol:2, mode:"full"}` peer (a real Automerge
//      replica): socket open → welcome → first sync frame → the whole document applied;
//    - protocol 2 light viewer `{protocol:2, mode:"view"}` (an observer): open → welcome → the
//      `text` frame;
//    - GET …/document (the plain-text path; it does not load the room);
//    and the server's CPU for a cold load + first sync. Each cold measure gets a room of its own
//    and starts only once the document thread has finished the one before (see `settle`): how
//    long that took after each first sync says what the room's load still had to do.
// B. Other rooms while cold rooms load (one server, no restart in between): --busy-rooms rooms ×
//    --busy-clients clients type --rate keys/s into files of --busy-size characters (one full
//    Automerge peer per room measures keystroke → applied of the others, who are light typists
//    sending real changes without a replica; all in worker threads). Meanwhile --cold-loads cold
//    rooms are opened one after another, --gap seconds apart, by a writer (protocol 2 full; it
//    takes the document without applying it, so the load generator's CPU stays out of the
//    server's way), who then types one character: the load is "in progress" from its socket
//    opening until that character is acknowledged (writes wait for the room's index, so the ack
//    marks the end of the index build). The busy rooms' latency is reported for keystrokes sent
//    while a load is in progress against keystrokes sent with none (same run), beside the server's
//    own part (frame received → relay written, SESSION_KIT_TRACE=1) and its event-loop lag in the
//    same windows (a timer in the server process, loaded with NODE_OPTIONS=--import).
// C. Chromium with <session-room> + <session-editor> from the server's /cdn/, on a course page of
//    another origin with the strict CSP docs/guides/security.md asks for: navigation start →
//    elements defined → code visible → live editor (a writer — a learner — holds the synced
//    replica in its Web Worker, editable; an observer the light view) → a character typed,
//    acknowledged; warm and cold HTTP cache, hot and cold room. The breakdown follows the socket
//    that carried the document and the replica's worker.
//
// Every phase first waits (up to --quiet-wait seconds) for a quiet machine and says how busy it was.
//
//   npm run bench -- load [--changes 50000] [--runs 5] [--per-frame 250] [--rooms 3]
//                         [--busy-rooms 10] [--busy-clients 5] [--rate 3] [--busy-size 10000]
//                         [--cold-loads 3] [--gap 5] [--browser-runs 3] [--no-browser]
//                         [--quiet-wait 3] [--only raw,busy,browser]
//
// BENCH_PROFILE=<dir> writes CPU profiles of every server process (each thread its own file) there;
// DEBUG_BENCH=1 prints progress.
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer as httpServer } from 'node:http'
import { cpus, loadavg } from 'node:os'
import { join as joinPath } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import * as A from '@automerge/automerge'
import WebSocket from 'ws'
import { mintToken } from '@session-kit/server'
import { askWorkers, ELU_LIMIT, createSession, lagMeter, machineTicks, processStats, SECRET, sleep, starterText, startServer, summarize, table, tempDir, waitForQuiet, writeResult } from './lib.mjs'
import { FullPeer, LightPeer, now, startTyping, stopTyping } from './clients.mjs'

const CHROME_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
const WARMUP_SID = 'load-warmup'
/** DESIGN.md: from the elements being defined; "live" also in a cold room. */
const TARGETS = { visibleMs: 300, liveMs: 700 }
const step = (what) => process.env.DEBUG_BENCH && console.log(`[${new Date().toISOString()}] ${what}`)
const EMPTY = new Uint8Array(0)
/** A keystroke of a busy room counts as "during a load" when sent from a load's start to this long after its end. */
const LOAD_TAIL_MS = 500
/** …and as "no load in progress" when sent at least this long before any load starts (and after LOAD_TAIL_MS past its end). */
const LOAD_LEAD_MS = 200
/** The busy rooms type this long before anything is measured (measuring then runs --gap seconds before the first load). */
const WARM_UP_MS = 3000
/** After the last keystroke counted, how long the measuring clients keep receiving. */
const DRAIN_MS = 1500
/** Worker threads holding the busy rooms' clients. */
const GENERATOR_THREADS = 3
/** The server-side lag timer's period. */
const LAG_EVERY_MS = 10

// ---- the busy rooms' clients (worker threads) --------------------------------------------------

/**
 * A light typist: joins like any protocol-2 full peer (the real handshake, the whole document
 * received), keeps only what it needs to write — the text's object id, the heads it joined at, the
 * highest op counter — and types real Automerge changes (encodeChange) at the end of its own run
 * of characters, stamped with the send time in the change's message, without applying anything
 * it receives. It costs the load generator almost nothing.
 */
class Typist extends LightPeer {
  constructor(url, sid, token, file = 'main.js') {
    super(url, sid, token, { protocol: 2, mode: 'full' })
    this.file = file
    this.typed = 0
    this.actor = randomBytes(16).toString('hex')
    this.seq = 0
    /** Element ids of this typist's own visible characters, in order (it only appends and backspaces). */
    this.mine = []
  }

  binary(bytes) {
    // Protocol 2 pushes without waiting for answers: once it holds the document, nothing it receives needs one.
    if (this.synced && this.pushOnly) return
    if (!this.synced) {
      const msg = A.decodeSyncMessage(bytes)
      if (msg.changes.length) {
        let doc = A.init()
        for (const c of msg.changes) doc = A.loadIncremental(doc, c)
        this.textObj = A.getObjectId(doc.files, this.file)
        this.deps = A.getHeads(doc)
        this.maxOp = Math.max(0, ...A.getAllChanges(doc).map((c) => {
          const d = A.decodeChange(c)
          return d.startOp + d.ops.length - 1
        }))
        // Start somewhere in the middle of the file, as a person editing does.
        const len = String(doc.files[this.file]).length
        this.anchor = len ? A.getCursor(doc, ['files', this.file], Math.floor(Math.random() * len)) : '_head'
      }
    }
    super.binary(bytes)
  }

  keystroke() {
    if (!this.open || !this.textObj) return
    const startOp = this.maxOp + 1
    const del = this.mine.length > 0 && Math.random() < 0.06
    const last = this.mine.at(-1) ?? this.anchor
    const ops = del
      ? [{ action: 'del', obj: this.textObj, elemId: last, pred: [last] }]
      : [{ action: 'set', obj: this.textObj, elemId: last, insert: true, value: Math.random() < 0.1 ? '\n' : String.fromCharCode(97 + Math.floor(Math.random() * 26)), pred: [] }]
    const bytes = A.encodeChange({ actor: this.actor, seq: ++this.seq, startOp, time: 0, message: String(now()), deps: this.deps, ops })
    const hash = A.decodeChange(bytes).hash
    this.maxOp = startOp
    if (del) this.mine.pop()
    else this.mine.push(`${startOp}@${this.actor}`)
    this.deps = [hash]
    this.typed++
    this.ws.send(A.encodeSyncMessage({ type: 'message', heads: [hash], need: [], have: [{ lastSync: [hash], bloom: EMPTY }], changes: [bytes] }))
  }
}

if (!isMainThread && workerData?.bench === 'load') {
  const { rate, measuring, typists } = workerData
  /** One sample per remote keystroke a measuring client applied: [sent, arrived, applied] (ms, shared clock). */
  const samples = []
  let measureFrom = Infinity
  let measureTo = Infinity
  const full = measuring.map(({ url, sid, token }) => {
    const peer = new FullPeer(url, sid, token, { protocol: 2, mode: 'full', batch: true })
    const pending = []
    peer.onChange = (change, at) => {
      const sent = Number(change.message)
      if (sent >= measureFrom && sent <= measureTo) pending.push([sent, at])
    }
    // `at` of a batch is its first frame's arrival, and applied = at + ms.
    peer.onApplied = (ms) => {
      for (const [sent, at] of pending.splice(0)) samples.push([sent, at, at + ms])
    }
    return peer
  })
  const light = typists.map(({ url, sid, token }) => new Typist(url, sid, token))
  const clients = [...full, ...light]
  const typed = () => full.reduce((n, c) => n + c.typed.length, 0) + light.reduce((n, c) => n + c.typed, 0)
  let elu0
  let typed0 = 0
  parentPort.on('message', async (type) => {
    if (type === 'ready') {
      try {
        await Promise.all(clients.map((c) => c.ready))
        parentPort.postMessage({ ok: true })
      } catch (e) {
        parentPort.postMessage({ error: e.message })
      }
    } else if (type === 'start') {
      for (const c of clients) startTyping(c, rate)
      parentPort.postMessage({ ok: true })
    } else if (type === 'measure') {
      measureFrom = now()
      elu0 = performance.eventLoopUtilization()
      typed0 = typed()
      parentPort.postMessage({ ok: true })
    } else if (type === 'stop') {
      measureTo = now()
      const elu = performance.eventLoopUtilization(elu0).utilization
      const keys = typed() - typed0
      for (const c of clients) stopTyping(c)
      await sleep(DRAIN_MS)
      const closed = clients.filter((c) => c.closed && !c.closed.expected).length
      const errors = clients.flatMap((c) => c.errors.map((e) => e.code))
      for (const c of clients) c.close()
      parentPort.postMessage({ samples, elu, keys, closed, errors })
    }
  })
}

/** Worker threads holding the busy rooms' clients; `ask(type)` sends each a step and gathers the replies. */
function startThreads(rate, threads) {
  const workers = threads.map((t) => new Worker(new URL(import.meta.url), { workerData: { bench: 'load', rate, ...t } }))
  return askWorkers(workers)
}

// ---- the server's event-loop lag ---------------------------------------------------------------

/**
 * Loaded into the server process (NODE_OPTIONS=--import): a timer every LAG_EVERY_MS on the main
 * thread; each tick later than its period is kept as [when it ran (shared clock), how late (ms)].
 * The bench asks for them over the probe's IPC channel ({probe: "lag"}). Costs the server ~100
 * timer callbacks a second.
 */
const LAG_MODULE = `
import { isMainThread } from 'node:worker_threads'
if (isMainThread && process.send) {
  const every = ${LAG_EVERY_MS}
  const samples = []
  let at = performance.now()
  const timer = setInterval(() => {
    const t = performance.now()
    const late = t - at - every
    at = t
    if (late > 1 && samples.length < 200000) samples.push([performance.timeOrigin + t, late])
  }, every)
  timer.unref()
  process.on('message', (m) => {
    if (m && m.probe === 'lag') process.send({ probe: 'lag', id: m.id, samples: samples.splice(0) })
  })
  process.channel?.unref()
  setImmediate(() => process.channel?.unref())
}
`

let lagAsks = 0
/** The server's late ticks since the last ask: [[at, lateMs]…]; [] when it does not answer in 2 s. */
function askLag(server) {
  const id = `lag-${++lagAsks}`
  return new Promise((resolve) => {
    const timer = setTimeout(() => (server.child.off('message', onMessage), resolve(null)), 2000)
    const onMessage = (m) => {
      if (m?.probe !== 'lag' || m.id !== id) return
      clearTimeout(timer)
      server.child.off('message', onMessage)
      resolve(m.samples)
    }
    server.child.on('message', onMessage)
    server.child.send({ probe: 'lag', id })
  })
}

/** The largest lag of a tick whose lateness overlaps [from, to]. */
function maxLagIn(samples, from, to) {
  let max = 0
  for (const [at, late] of samples) if (at >= from && at - late - LAG_EVERY_MS <= to) max = Math.max(max, late)
  return max
}

// ---- the server's threads --------------------------------------------------------------------

/** CPU ticks (1/100 s) of each thread of a process, from /proc/<pid>/task. */
function threadTicks(pid) {
  const ticks = new Map()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')
      ticks.set(tid, Number(stat[11]) + Number(stat[12]))
    } catch {} // the thread ended
  }
  return ticks
}

/**
 * CPU (ms) the server used between two readings: its main thread (the event loop), the busiest
 * other thread — in a cold load, the document thread — and all of them. Against wall time, it
 * tells work from waiting for a CPU on a busy machine.
 */
function threadCpu(pid, before, after) {
  let main = 0
  let other = 0
  let total = 0
  for (const [tid, t] of after) {
    const d = (t - (before.get(tid) ?? 0)) * 10
    total += d
    if (tid === String(pid)) main = d
    else other = Math.max(other, d)
  }
  return { main, busiestOther: other, total }
}

// ---- histories ---------------------------------------------------------------------------------

/** Code as a student types it: lines of a few kinds, with names and numbers that vary (seeded). */
function sourceText(length) {
  let seed = 7
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
  const words = ['value', 'count', 'total', 'index', 'result', 'items', 'name', 'data', 'list', 'sum', 'node', 'left', 'right', 'key']
  const word = () => words[rnd(words.length)]
  let text = ''
  while (text.length < length) {
    const a = word() + rnd(100)
    const b = word()
    text += [
      `function ${a}(${b}, options) {\n`,
      `  const ${a} = ${b}.map((x) => x * ${rnd(1000)})\n`,
      `  if (${a} > ${rnd(500)}) return ${b}[${rnd(10)}]\n`,
      `  console.log('${b} is', ${a})\n`,
      `}\n\n`,
    ][rnd(5)]
  }
  return text
}

/** Open a full sync connection (protocol 1) and complete the handshake; resolves with the socket and the replica. */
function join(url, sid, token) {
  const ws = new WebSocket(url.replace('http', 'ws') + `/v1/sessions/${sid}/sync`)
  ws.binaryType = 'nodebuffer'
  const state = { ws, doc: A.init(), sync: A.initSyncState(), acked: 0, closed: null }
  return new Promise((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', token, protocol: 1, sync: true })))
    ws.on('message', (data, binary) => {
      if (!binary) {
        const e = JSON.parse(data.toString())
        if (e.type === 'ack') state.acked += e.changes.length
        if (e.type === 'error') reject(new Error(`${e.code}: ${e.message}`))
        return
      }
      if (state.live) return // from here on only our own pushes matter
      ;[state.doc, state.sync] = A.receiveSyncMessage(state.doc, state.sync, new Uint8Array(data))
      const [s, m] = A.generateSyncMessage(state.doc, state.sync)
      state.sync = s
      if (m) ws.send(m)
      else if (state.doc.files?.['main.js'] !== undefined) {
        state.live = true
        resolve(state)
      }
    })
    ws.on('close', (code, reason) => {
      state.closed = code
      reject(new Error(`writer closed ${code} ${reason}`))
    })
  })
}

/**
 * Type `count` single-character changes into an empty main.js: the source code, line after line,
 * with a typo taken back by a backspace every so often (the next change types the character
 * again). The changes are encoded directly (one actor, each change depending on the one before),
 * exactly what A.change would make for the same keystrokes, without a replica to keep. Frames of
 * `perFrame` changes, within the server's frame rate, a bounded number unacknowledged. Resolves
 * with what the room then holds and what a later writer needs to add to it.
 */
async function typeHistory(url, sid, token, count, perFrame) {
  const w = await join(url, sid, token)
  const textObj = A.getObjectId(w.doc.files, 'main.js')
  let heads = A.getHeads(w.doc)
  let maxOp = Math.max(...A.getAllChanges(w.doc).map((c) => {
    const d = A.decodeChange(c)
    return d.startOp + d.ops.length - 1
  }))
  const actor = A.getActorId(w.doc)
  const source = sourceText(count)
  const elems = [] // element ids of the visible characters, in order
  let text = ''
  let typed = 0
  let frame = []
  let sent = 0
  let frameAt = 0
  let deps = heads
  for (let i = 0; i < count; i++) {
    const startOp = ++maxOp
    let ops
    if (i % 23 === 22 && elems.length) {
      const last = elems.pop()
      ops = [{ action: 'del', obj: textObj, elemId: last, pred: [last] }]
      text = text.slice(0, -1)
      typed--
    } else {
      const ch = source[typed++]
      ops = [{ action: 'set', obj: textObj, elemId: elems.at(-1) ?? '_head', insert: true, value: ch, pred: [] }]
      elems.push(`${startOp}@${actor}`)
      text += ch
    }
    const bytes = A.encodeChange({ actor, seq: i + 1, startOp, time: 0, message: null, deps, ops })
    deps = [A.decodeChange(bytes).hash]
    frame.push(bytes)
    if (frame.length < perFrame && i !== count - 1) continue
    // What the server's own pushes look like: our changes, our heads, and what we know it has.
    const msg = A.encodeSyncMessage({ type: 'message', heads: deps, need: [], have: [{ lastSync: heads, bloom: EMPTY }], changes: frame })
    heads = deps
    sent += frame.length
    frame = []
    const gap = frameAt + 1000 / 80 - performance.now()
    if (gap > 0) await sleep(gap)
    frameAt = performance.now()
    w.ws.send(msg)
    while (sent - w.acked > Math.max(3000, perFrame * 8) && !w.closed) await sleep(5)
    if (sent % 10000 < perFrame) step(`${sid}: typed ${sent}, acknowledged ${w.acked}`)
  }
  while (w.acked < count && !w.closed) await sleep(20)
  w.ws.removeAllListeners('close')
  w.ws.close()
  return { sid, text, heads, textObj, maxOp, slashes: 0 }
}

// ---- the first person, raw protocol ------------------------------------------------------------

/**
 * A raw full peer's first sync (protocol 1, or protocol 2 `mode: "full"`): open → welcome → first
 * sync frame → the whole document applied (its heads reached), with what applying cost the client.
 */
function rawFirstSync(url, sid, token, expect, protocol = 1) {
  const t0 = performance.now()
  const ws = new WebSocket(url.replace('http', 'ws') + `/v1/sessions/${sid}/sync`)
  ws.binaryType = 'nodebuffer'
  let doc = A.init()
  let sync = A.initSyncState()
  const r = { frames: 0, bytes: 0, applyMs: 0 }
  const hello = protocol === 1 ? { type: 'hello', token, protocol: 1, sync: true } : { type: 'hello', token, protocol: 2, mode: 'full' }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('first sync did not finish in 60 s')), 60_000)
    ws.on('open', () => {
      r.open = performance.now()
      r.connectMs = r.open - t0
      ws.send(JSON.stringify(hello))
    })
    ws.on('message', (data, binary) => {
      const at = performance.now()
      if (!binary) {
        const e = JSON.parse(data.toString())
        if (e.type === 'welcome') {
          r.welcomeMs = at - r.open
          r.mode = e.mode
        }
        if (e.type === 'error') reject(new Error(`${e.code}: ${e.message}`))
        return
      }
      r.frames++
      r.bytes += data.length
      r.firstBinaryMs ??= at - r.open
      ;[doc, sync] = A.receiveSyncMessage(doc, sync, new Uint8Array(data))
      const [s, m] = A.generateSyncMessage(doc, sync)
      sync = s
      r.applyMs += performance.now() - at
      if (m) ws.send(m)
      const heads = A.getHeads(doc)
      if (expect.heads.every((h) => heads.includes(h))) {
        r.fullMs = performance.now() - r.open
        r.matches = String(doc.files?.['main.js']) === expect.text
        clearTimeout(timer)
        ws.removeAllListeners('close')
        ws.close()
        resolve(r)
      }
    })
    ws.on('close', (code) => reject(new Error(`closed ${code} before the first sync finished`)))
    ws.on('error', reject)
  })
}

/** A light viewer's first text (protocol 2, `mode: "view"`): open → welcome → the `text` frame. */
function rawFirstView(url, sid, token, expect) {
  const ws = new WebSocket(url.replace('http', 'ws') + `/v1/sessions/${sid}/sync`)
  const r = { bytes: 0 }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no text in 60 s')), 60_000)
    ws.on('open', () => {
      r.open = performance.now()
      ws.send(JSON.stringify({ type: 'hello', token, protocol: 2, mode: 'view' }))
    })
    ws.on('message', (data, binary) => {
      const at = performance.now()
      if (binary) return reject(new Error('a viewer received an Automerge frame'))
      const e = JSON.parse(data.toString())
      if (e.type === 'welcome') {
        r.welcomeMs = at - r.open
        r.mode = e.mode
        if (e.mode !== 'view') reject(new Error(`the server answered a view hello with mode ${e.mode}`))
      } else if (e.type === 'error') reject(new Error(`${e.code}: ${e.message}`))
      else if (e.type === 'text') {
        r.textMs = at - r.open
        r.bytes = data.length
        r.matches = e.files?.['main.js'] === expect.text
        clearTimeout(timer)
        ws.removeAllListeners('close')
        ws.close()
        resolve(r)
      }
    })
    ws.on('close', (code) => reject(new Error(`closed ${code} before the text came`)))
    ws.on('error', reject)
  })
}

async function getDocument(url, sid, token) {
  const t0 = performance.now()
  const res = await fetch(`${url}/v1/sessions/${sid}/document`, { headers: { authorization: `Bearer ${token}` } })
  const body = await res.json()
  return { ms: performance.now() - t0, text: body.files?.['main.js'] }
}

// ---- a cold room under load --------------------------------------------------------------------

/**
 * The first writer into a cold room, without a replica: a protocol-2 full peer that does the real
 * handshake (the whole document arrives) without applying it, then types one character (a real
 * change, encoded against what the bench knows the room holds) and waits for its ack. Times on
 * the shared clock: start (before the socket), welcome, document received, acknowledged.
 * The peer stays connected (so the room does not unload) until the caller closes it.
 */
async function coldWriter(url, room, token) {
  const t = { start: now() }
  const peer = new LightPeer(url, room.sid, token, { protocol: 2, mode: 'full' })
  let acked
  const ack = new Promise((r) => (acked = r))
  peer.onEvent = (e) => {
    if (e.type === 'welcome') t.welcome = now()
    if (e.type === 'ack') acked(now())
  }
  await peer.ready
  t.document = peer.readyAt
  const actor = randomBytes(16).toString('hex')
  const startOp = room.maxOp + 1
  const bytes = A.encodeChange({ actor, seq: 1, startOp, time: 0, message: null, deps: room.heads, ops: [{ action: 'set', obj: room.textObj, elemId: '_head', insert: true, value: 'x', pred: [] }] })
  const hash = A.decodeChange(bytes).hash
  t.sent = now()
  peer.ws.send(A.encodeSyncMessage({ type: 'message', heads: [hash], need: [], have: [{ lastSync: room.heads, bloom: EMPTY }], changes: [bytes] }))
  t.acked = await Promise.race([ack, sleep(30_000).then(() => NaN)])
  if (Number.isNaN(t.acked)) throw new Error(`${room.sid}: the cold writer's character was not acknowledged in 30 s`)
  room.heads = [hash]
  room.maxOp = startOp
  room.text = 'x' + room.text
  return { t, peer }
}

// ---- the browser -------------------------------------------------------------------------------

/** Records, in the page, when the code shows, when the editor is live and when an edit is acknowledged. */
function pageProbe(firstLine) {
  const b = (window.__bench = { ws: [], firstLine })
  const Native = window.WebSocket
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args)
      const rec = { created: performance.now(), frames: 0, bytes: 0, arrivals: [] }
      b.ws.push(rec)
      this.addEventListener('open', () => (rec.open = performance.now()))
      this.addEventListener('message', (e) => {
        const at = performance.now()
        if (typeof e.data === 'string') {
          if (e.data.startsWith('{"type":"welcome"')) {
            rec.welcome = at
            rec.mode = /"mode":"(\w+)"/.exec(e.data)?.[1]
          }
          // A light viewer's document: the text frame.
          if (e.data.startsWith('{"type":"text"')) {
            rec.text ??= at
            rec.bytes += e.data.length
            rec.arrivals.push([Math.round(at), e.data.length])
          }
          return
        }
        rec.frames++
        rec.bytes += e.data.byteLength
        rec.firstBinary ??= at
        rec.arrivals.push([Math.round(at), e.data.byteLength])
      })
      this.addEventListener('close', (e) => {
        rec.closed = performance.now()
        rec.closeCode = e.code
        rec.closeReason = e.reason
      })
    }
  }
  // A writer's replica lives in a Web Worker: when it was made, when its Automerge had loaded, when
  // the document's frames went to it, and when it answered that it holds the whole document.
  const NativeWorker = window.Worker
  window.Worker = class extends NativeWorker {
    constructor(...args) {
      super(...args)
      const rec = (b.worker = { created: performance.now() })
      this.addEventListener('message', (e) => {
        const at = performance.now()
        if (e.data?.type === 'loaded') rec.loaded ??= at
        if (e.data?.type === 'ready') rec.ready ??= at
      })
      const post = this.postMessage.bind(this)
      this.postMessage = (msg, transfer) => {
        if (msg?.type === 'receive' && msg.frames?.some((f) => f.byteLength > 1000)) rec.documentPosted ??= performance.now()
        return post(msg, transfer)
      }
    }
  }
  const poll = () => {
    const root = document.querySelector('session-editor')?.shadowRoot
    const content = root?.querySelector('.cm-content')
    if (content && b.editorShown === undefined) b.editorShown = performance.now()
    if (b.plain === undefined && root?.querySelector('.editor.plain')) b.plain = performance.now()
    if (content && b.visible === undefined && content.textContent.includes(b.firstLine)) {
      b.visible = performance.now()
      b.visiblePhase = root.querySelector('.editor')?.className
    }
    // Live: the editor follows the room's document (a writer's replica, or an observer's light view).
    if (b.liveAny === undefined && root?.querySelector('.editor.live') && content) b.liveAny = performance.now()
    // A writer's live editor also takes keystrokes.
    if (b.live === undefined && root?.querySelector('.editor.live') && content?.getAttribute('contenteditable') === 'true') b.live = performance.now()
    const save = root?.querySelector('[part=save-state]')?.textContent
    if (b.typedAt !== undefined && save?.includes('Saving')) b.sawSaving = true
    if (b.sawSaving && b.saved === undefined && save?.includes('All changes saved')) b.saved = performance.now()
    if (b.saved === undefined && !b.stop) requestAnimationFrame(poll)
  }
  requestAnimationFrame(poll)
  // When the page's script has defined the elements: the room starts here.
  void Promise.all([customElements.whenDefined('session-room'), customElements.whenDefined('session-editor')]).then(() => (b.defined = performance.now()))
  document.addEventListener('keydown', () => (b.typedAt ??= performance.now()), true)
}

/** One page load: navigation start → code visible → live → (a writer) an edit acknowledged. */
async function pageLoad(context, pageUrl, { writer }) {
  const page = await context.newPage()
  let noWorker = false
  let typed = false
  const messages = []
  page.on('console', (m) => {
    if (/document worker could not start/.test(m.text())) noWorker = true
    if ((m.type() === 'error' || m.type() === 'warning') && messages.length < 20) messages.push(`${m.type()}: ${m.text().slice(0, 300)}`)
  })
  page.on('pageerror', (e) => messages.length < 20 && messages.push(`pageerror: ${e.message.slice(0, 300)}`))
  try {
    await page.goto(pageUrl, { waitUntil: 'commit' })
    await page.waitForFunction((w) => (w ? window.__bench?.live : window.__bench?.liveAny) !== undefined, writer, { timeout: 30_000, polling: 10 })
    if (writer) {
      await page.evaluate(() => document.querySelector('session-editor').focus())
      typed = true
      await page.keyboard.type('/')
      await page.waitForFunction(() => window.__bench.saved !== undefined, null, { timeout: 15_000, polling: 10 })
    } else await page.evaluate(() => (window.__bench.stop = true))
    const measured = await page.evaluate(() => {
      const b = window.__bench
      const res = performance.getEntriesByType('resource').map((e) => ({ name: e.name.replace(/^.*\/(cdn|v1)\//, '$1/'), start: e.startTime, end: e.responseEnd, transfer: e.transferSize }))
      const nav = performance.getEntriesByType('navigation')[0]
      const editable = document.querySelector('session-editor')?.shadowRoot?.querySelector('.cm-content')?.getAttribute('contenteditable') === 'true'
      return { worker: b.worker, defined: b.defined, editorShown: b.editorShown, plain: b.plain, visible: b.visible, visiblePhase: b.visiblePhase, live: b.live ?? b.liveAny, editable, editToAck: b.saved - b.typedAt, domContentLoaded: nav.domContentLoadedEventEnd, ws: b.ws, resources: res }
    })
    return { ...measured, noWorker, typed, messages }
  } catch (e) {
    // What the page showed when it gave up: the editor's phase and status, its sockets, its worker.
    const state = await page
      .evaluate(() => {
        const b = window.__bench ?? {}
        const root = document.querySelector('session-editor')?.shadowRoot
        return {
          editor: root?.querySelector('.editor')?.className,
          saveState: root?.querySelector('[part=save-state]')?.textContent,
          banner: root?.querySelector('[part=banner]')?.textContent?.trim().slice(0, 300),
          editable: root?.querySelector('.cm-content')?.getAttribute('contenteditable'),
          worker: b.worker,
          ws: (b.ws ?? []).map((w) => ({ created: Math.round(w.created), open: Math.round(w.open), welcome: Math.round(w.welcome), mode: w.mode, frames: w.frames, bytes: w.bytes, closed: Math.round(w.closed), closeCode: w.closeCode, closeReason: w.closeReason })),
          defined: b.defined,
          visible: b.visible,
        }
      })
      .catch((err) => ({ error: err.message }))
    return { failed: e.message.split('\n')[0], state, messages, typed, noWorker, ws: [], resources: [] }
  } finally {
    await page.close()
  }
}

/**
 * A course page on another origin than the Session Kit server: /course?sid=…&token=…, with the
 * strict Content-Security-Policy docs/guides/security.md asks of such a host — `worker-src blob:`
 * and the server's origin included, so a writer's replica runs in its Web Worker (without it the
 * replica falls back to the page's main thread, and the console says so).
 */
function hostPage(serverUrl) {
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)
  const server = httpServer((req, res) => {
    const q = new URL(req.url, 'http://x').searchParams
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Course page</title>
<script type="module" src="${serverUrl}/cdn/session-kit.js"></script></head>
<body><main><h1>Week 3: recursion</h1>
<session-room server="${serverUrl}" session="${esc(q.get('sid'))}" token="${esc(q.get('token'))}"><session-editor file="main.js"></session-editor></session-room>
</main></body></html>`
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store', 'content-security-policy': `default-src 'self'; script-src 'self' ${serverUrl} 'wasm-unsafe-eval'; style-src 'self'; connect-src *; img-src 'self' data:; worker-src blob: ${serverUrl}` })
    res.end(html)
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${server.address().port}/course`
      resolve({ url: (sid, token) => `${base}?sid=${encodeURIComponent(sid)}&token=${encodeURIComponent(token)}`, close: () => new Promise((r) => (server.closeAllConnections?.(), server.close(r))) })
    }),
  )
}

// ---- reporting ---------------------------------------------------------------------------------

const ms = (n) => (Number.isFinite(n) ? n.toFixed(0) : '–')
const ms1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '–')
const stat = (values) => {
  const s = summarize(values.filter(Number.isFinite))
  return { n: s.n, p50: s.p50, p95: s.p95, max: s.max }
}
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (!s.length) return NaN
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** The socket that carried the document (the last one: a page may open one for events first). */
const docSocket = (l) => l.ws.at(-1)
/** When the frame carrying the document arrived: the last sizeable one before the editor went live. */
const docFrameAt = (l) => Math.max(...(docSocket(l)?.arrivals ?? []).filter(([at, bytes]) => bytes > 1000 && at <= l.live).map(([at]) => at))

/** Median of each phase of the page loads, as offsets from navigation start. */
function breakdown(loads) {
  const med = (f) => median(loads.map(f))
  const res = (l, re) => l.resources.find((r) => re.test(r.name))
  return {
    'session-kit.js loaded': med((l) => res(l, /session-kit\.js/)?.end),
    'elements defined (the room starts)': med((l) => l.defined),
    'first WebSocket created': med((l) => l.ws[0]?.created),
    'WebSocket that carried the document: created': med((l) => docSocket(l)?.created),
    '  open': med((l) => docSocket(l)?.open),
    '  welcome': med((l) => docSocket(l)?.welcome),
    '  first sync frame (writer) / text frame (observer)': med((l) => docSocket(l)?.firstBinary ?? docSocket(l)?.text),
    '  document frame arrived': med(docFrameAt),
    'GET /document started': med((l) => res(l, /\/document$/)?.start),
    'GET /document done': med((l) => res(l, /\/document$/)?.end),
    'editor chunk loaded': med((l) => res(l, /editor-view-/)?.end),
    'code visible': med((l) => l.visible),
    'automerge.wasm fetched': med((l) => res(l, /\.wasm$/)?.end),
    'replica worker (writers): created': med((l) => l.worker?.created),
    '  Automerge loaded in it': med((l) => l.worker?.loaded),
    '  document frame posted to it': med((l) => l.worker?.documentPosted),
    '  it holds the whole document (ready)': med((l) => l.worker?.ready),
    'live editor': med((l) => l.live),
  }
}

// ---- the run -----------------------------------------------------------------------------------

export async function run(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'load'),
    options: {
      changes: { type: 'string', default: '50000' },
      runs: { type: 'string', default: '5' },
      'per-frame': { type: 'string', default: '250' },
      rooms: { type: 'string', default: '3' },
      'busy-rooms': { type: 'string', default: '10' },
      'busy-clients': { type: 'string', default: '5' },
      rate: { type: 'string', default: '3' },
      'busy-size': { type: 'string', default: '10000' },
      'cold-loads': { type: 'string', default: '3' },
      'quiet-wait': { type: 'string', default: '3' },
      gap: { type: 'string', default: '5' },
      'browser-runs': { type: 'string', default: '3' },
      'no-browser': { type: 'boolean', default: false },
      only: { type: 'string', default: 'raw,busy,browser' },
    },
    strict: false,
  })
  const changes = Number(values.changes)
  const runs = Number(values.runs)
  const perFrame = Number(values['per-frame'])
  const busy = { rooms: Number(values['busy-rooms']), clients: Number(values['busy-clients']), rate: Number(values.rate), size: Number(values['busy-size']) }
  const coldLoads = Number(values['cold-loads'])
  const gapMs = Number(values.gap) * 1000
  const browserRuns = Number(values['browser-runs'])
  const phases = new Set(String(values.only).split(','))
  if (values['no-browser']) phases.delete('browser')
  const quietWaitMs = Number(values['quiet-wait']) * 1000
  // Cold rooms per restart: the raw phase needs three (p2 full, p1 full, view; GET …/document does
  // not load a room), the busy phase one per load, the browser three.
  const heavyCount = Math.max(Number(values.rooms), phases.has('raw') ? 3 : 1, phases.has('busy') ? coldLoads : 1, phases.has('browser') ? 3 : 1)
  const database = process.env.DATABASE_URL ? 'postgres' : 'pglite'
  const started = performance.now()
  // Storage the bench owns, so the server can be restarted on it (rooms loaded from storage).
  const { freshDataDir, freshPostgres, removeDir } = await import('@session-kit/server/testing')
  const dataDir = await freshDataDir()
  const pg = process.env.DATABASE_URL ? await freshPostgres() : undefined
  const lagDir = tempDir('sk-load-lag-')
  const lagFile = joinPath(lagDir, 'lag.mjs')
  writeFileSync(lagFile, LAG_MODULE)
  // One writer types each history as fast as the protocol takes it: far beyond a person's edit
  // allowance, which is not what this measures.
  const env = {
    SESSION_KIT_EDIT_RATE: '100000000',
    SESSION_KIT_MAX_DOCUMENT_CHARS: '100000000',
    // Per-batch server timings (frame received → relay written), read through the probe.
    SESSION_KIT_TRACE: '1',
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(lagFile).href}`.trim(),
  }
  let server = await startServer({ dataDir, databaseUrl: pg?.url, env, probe: true })
  let restarts = 0
  const token = (sid, role, sub) => mintToken({ sid, role, sub, name: sub }, SECRET, { ttl: '2h' })
  /** Warm a fresh server process on another session (JIT, database connections, the document thread), so a cold room measures loading that room. */
  const warmUp = async () => {
    const t = await token(WARMUP_SID, 'learner', 'warm')
    const o = await token(WARMUP_SID, 'observer', 'warm-observer')
    for (let i = 0; i < 2; i++) {
      await rawFirstSync(server.url, WARMUP_SID, t, { heads: [] }, 1 + (i % 2))
      await rawFirstView(server.url, WARMUP_SID, o, { text: null })
      await getDocument(server.url, WARMUP_SID, t)
    }
  }
  /**
   * Wait until the document thread has done everything asked of it so far (a room's index build
   * after a cold load, say): it answers requests in order, so a handshake in the small warm-up
   * room completes only after them. Cold measures are taken one at a time, never queued behind
   * another room's load.
   */
  const settle = async () => {
    const t = await token(WARMUP_SID, 'learner', 'settle')
    const t0 = performance.now()
    await rawFirstSync(server.url, WARMUP_SID, t, { heads: [] }, 1)
    return performance.now() - t0
  }
  /** Before each phase: wait (up to --quiet-wait) for a quiet machine, and say how busy it was. */
  const phaseStart = async (name) => {
    const q = quietWaitMs > 0 ? await waitForQuiet({ maxMs: quietWaitMs }) : undefined
    if (q && !q.quiet) console.log(`(${name}: the machine was still ${q.busyPercent} % busy after waiting ${Math.round(q.waitedMs / 1000)} s for quiet)`)
    return { ticks: machineTicks(), quiet: q }
  }
  const phaseBusy = (p) => {
    const t = machineTicks()
    return +(((t.busy - p.ticks.busy) / (t.total - p.ticks.total)) * 100).toFixed(1)
  }
  // The same port after a restart: for the browser it is the same origin, with the same cache.
  const restart = async () => {
    await server.stop()
    server = await startServer({ dataDir, databaseUrl: pg?.url, port: server.port, env, probe: true })
    restarts++
    await warmUp()
    await askLag(server) // what the start-up and warm-up left
  }
  let browser
  let host
  const result = { changes, runs, perFrame, database, targets: TARGETS, cores: cpus().length }
  const rows = []
  const add = (what, values, target, targetNote = '') => {
    const s = stat(values)
    rows.push({ measure: what, runs: s.n, 'p50 ms': ms(s.p50), 'p95 ms': ms(s.p95), 'max ms': ms(s.max), target: target ? `< ${target}${targetNote}` : '', met: target ? (s.p95 < target ? 'yes' : s.p50 < target ? 'p50 only' : 'NO') : '' })
    return s
  }
  const machineBefore = machineTicks()
  const loadBefore = loadavg()[0]
  try {
    console.log(`documents of ${changes} changes (${heavyCount} rooms with the same history); database: ${database}; ${cpus().length} cores, 1-minute load average ${loadBefore.toFixed(2)}`)
    const heavy = Array.from({ length: heavyCount }, (_, i) => `load-bench-${i}`)
    for (const sid of heavy) await createSession(server.url, sid, { 'main.js': '' })
    await createSession(server.url, WARMUP_SID, { 'main.js': sourceText(2000) })
    const busySids = Array.from({ length: busy.rooms }, (_, i) => `load-busy-${i}`)
    if (phases.has('busy')) for (const sid of busySids) await createSession(server.url, sid, { 'main.js': starterText(busy.size) })
    const t0 = performance.now()
    const rooms = await Promise.all(heavy.map(async (sid) => typeHistory(server.url, sid, await token(sid, 'instructor', 'writer'), changes, perFrame)))
    const typedS = (performance.now() - t0) / 1000
    result.typedSeconds = +typedS.toFixed(1)
    result.fileChars = rooms[0].text.length
    console.log(`typed ${changes} changes into each of ${rooms.length} rooms in ${typedS.toFixed(1)} s (${perFrame} to a frame); each file has ${rooms[0].text.length} characters`)
    const tokens = {}
    for (const r of rooms) {
      tokens[r.sid] = { learner: await token(r.sid, 'learner', 'reader'), observer: await token(r.sid, 'observer', 'observer'), instructor: await token(r.sid, 'instructor', 'cold-writer') }
    }
    // The stored form after a quiet spell: the server compacts on shutdown (and when a room unloads).
    await restart()

    // ---- A. the first person, raw protocol ----
    let allMatch = true
    if (phases.has('raw')) {
      const phase = await phaseStart('raw protocol')
      const raw = { cold: { p1: [], p2: [], view: [], get: [] }, hot: { p1: [], p2: [], view: [], get: [] } }
      const serverCpu = { coldLoadAndSync: [], hotSync: [], threads: [] }
      const settled = []
      for (let i = 0; i < runs; i++) {
        if (i > 0) await restart()
        // Three cold rooms, one per measure, rotating so that no measure always gets the same room.
        const [a, b, c] = [0, 1, 2].map((k) => rooms[(i + k) % rooms.length])
        // GET …/document answers from the stored text, without loading the room: a stays cold.
        const gc = await getDocument(server.url, a.sid, tokens[a.sid].learner)
        raw.cold.get.push({ ms: gc.ms, matches: gc.text === a.text })
        const c0 = processStats(server.pid).cpu
        const th0 = threadTicks(server.pid)
        raw.cold.p2.push(await rawFirstSync(server.url, a.sid, tokens[a.sid].learner, a, 2))
        serverCpu.coldLoadAndSync.push((processStats(server.pid).cpu - c0) * 1000)
        serverCpu.threads.push(threadCpu(server.pid, th0, threadTicks(server.pid)))
        settled.push(await settle())
        raw.cold.p1.push(await rawFirstSync(server.url, b.sid, tokens[b.sid].learner, b, 1))
        settled.push(await settle())
        raw.cold.view.push(await rawFirstView(server.url, c.sid, tokens[c.sid].observer, c))
        settled.push(await settle())
        // Hot: room a, loaded and indexed.
        const h0 = processStats(server.pid).cpu
        raw.hot.p2.push(await rawFirstSync(server.url, a.sid, tokens[a.sid].learner, a, 2))
        serverCpu.hotSync.push((processStats(server.pid).cpu - h0) * 1000)
        raw.hot.p1.push(await rawFirstSync(server.url, a.sid, tokens[a.sid].learner, a, 1))
        raw.hot.view.push(await rawFirstView(server.url, a.sid, tokens[a.sid].observer, a))
        const gh = await getDocument(server.url, a.sid, tokens[a.sid].learner)
        raw.hot.get.push({ ms: gh.ms, matches: gh.text === a.text })
        step(`raw run ${i + 1}: cold p2 ${ms(raw.cold.p2.at(-1).fullMs)} (first frame ${ms(raw.cold.p2.at(-1).firstBinaryMs)}), p1 ${ms(raw.cold.p1.at(-1).fullMs)} (first frame ${ms(raw.cold.p1.at(-1).firstBinaryMs)}), view ${ms(raw.cold.view.at(-1).textMs)}, GET ${ms(gc.ms)}; hot p2 ${ms(raw.hot.p2.at(-1).fullMs)} (first frame ${ms(raw.hot.p2.at(-1).firstBinaryMs)}), p1 ${ms(raw.hot.p1.at(-1).fullMs)}, view ${ms(raw.hot.view.at(-1).textMs)}; settling after each cold load ${settled.slice(-3).map(ms).join('/')} ms`)
      }
      allMatch &&= Object.values(raw).every((m) => Object.values(m).every((list) => list.every((r) => r.matches)))
      const R = (result.raw = { machineBusyPercent: phaseBusy(phase), settleAfterColdLoadMs: stat(settled), syncBytes: median(raw.hot.p2.map((r) => r.bytes)), syncFrames: median(raw.hot.p2.map((r) => r.frames)), viewBytes: median(raw.hot.view.map((r) => r.bytes)) })
      for (const temp of ['cold', 'hot']) {
        const x = raw[temp]
        R[temp] = {
          p2Full: {
            welcome: add(`raw p2 full, ${temp} room: open → welcome`, x.p2.map((r) => r.welcomeMs)),
            firstFrame: add(`  open → first sync frame`, x.p2.map((r) => r.firstBinaryMs)),
            welcomeToFirstFrame: add(`    welcome → first sync frame`, x.p2.map((r) => r.firstBinaryMs - r.welcomeMs)),
            whole: add(`  open → whole document applied`, x.p2.map((r) => r.fullMs), TARGETS.liveMs, ' (live)'),
            clientApply: add(`    of which the client applying it`, x.p2.map((r) => r.applyMs)),
          },
          p1Full: {
            welcome: add(`raw p1 full, ${temp} room: open → welcome`, x.p1.map((r) => r.welcomeMs)),
            firstFrame: add(`  open → first sync frame`, x.p1.map((r) => r.firstBinaryMs)),
            welcomeToFirstFrame: add(`    welcome → first sync frame`, x.p1.map((r) => r.firstBinaryMs - r.welcomeMs)),
            whole: add(`  open → whole document applied`, x.p1.map((r) => r.fullMs), TARGETS.liveMs, ' (live)'),
            clientApply: add(`    of which the client applying it`, x.p1.map((r) => r.applyMs)),
          },
          view: {
            welcome: add(`raw p2 view (observer), ${temp} room: open → welcome`, x.view.map((r) => r.welcomeMs)),
            text: add(`  open → text frame`, x.view.map((r) => r.textMs), TARGETS.visibleMs, ' (visible)'),
          },
          getDocument: add(`GET …/document, ${temp} room`, x.get.map((r) => r.ms), TARGETS.visibleMs, ' (visible)'),
        }
      }
      // What the document thread still had to do once a cold room's first peer had what it came for.
      R.documentThreadAfter = {
        p2FullFirstSync: add('document thread busy after a cold first sync (p2 full)', settled.filter((_, k) => k % 3 === 0)),
        p1FullFirstSync: add('document thread busy after a cold first sync (p1 full)', settled.filter((_, k) => k % 3 === 1)),
        viewFirstText: add("document thread busy after a cold viewer's text (its index build)", settled.filter((_, k) => k % 3 === 2)),
      }
      R.serverCpuMs = {
        hotSync: add('server CPU: one first sync (p2 full), hot room', serverCpu.hotSync),
        coldLoadAndSync: add('server CPU: load the room + first sync (p2 full)', serverCpu.coldLoadAndSync),
        coldMainThread: add('  of which its main thread (the event loop)', serverCpu.threads.map((t) => t.main)),
        coldBusiestOtherThread: add('  of which its busiest other thread (the document thread)', serverCpu.threads.map((t) => t.busiestOther)),
      }
    }

    // ---- B. other rooms while cold rooms load ----
    if (phases.has('busy')) {
      await restart()
      const phase = await phaseStart('busy rooms')
      const specs = []
      for (const [r, sid] of busySids.entries()) {
        for (let c = 0; c < busy.clients; c++) specs.push({ url: server.url, sid, token: await token(sid, c === 0 ? 'instructor' : 'learner', `busy-${r}-${c}`), measuring: c === 0 })
      }
      // Rooms spread over GENERATOR_THREADS threads, each with its rooms' measuring clients and typists.
      const threads = Array.from({ length: GENERATOR_THREADS }, (_, t) => ({ measuring: specs.filter((s, i) => s.measuring && Math.floor(i / busy.clients) % GENERATOR_THREADS === t), typists: specs.filter((s, i) => !s.measuring && Math.floor(i / busy.clients) % GENERATOR_THREADS === t) }))
      const gen = startThreads(busy.rate, threads)
      const ready = await gen.ask('ready')
      if (ready.some((r) => r.error)) throw new Error(`a busy room's client could not join: ${ready.find((r) => r.error).error}`)
      await gen.ask('start')
      await sleep(WARM_UP_MS)
      await askLag(server)
      await server.trace() // the warm-up's timings are dropped
      await gen.ask('measure')
      const mainLag = lagMeter(20)
      const cpu0 = processStats(server.pid).cpu
      const m0 = machineTicks()
      const w0 = now()
      await sleep(gapMs)
      const loads = []
      const writers = []
      for (let i = 0; i < coldLoads; i++) {
        const room = rooms[i % rooms.length]
        const th0 = threadTicks(server.pid)
        const { t, peer } = await coldWriter(server.url, room, tokens[room.sid].instructor)
        t.cpu = threadCpu(server.pid, th0, threadTicks(server.pid))
        writers.push(peer)
        loads.push(t)
        step(`cold load ${i + 1} under load (${room.sid}): welcome ${ms(t.welcome - t.start)}, document ${ms(t.document - t.start)}, write acknowledged ${ms(t.acked - t.start)} ms`)
        await sleep(gapMs)
      }
      const w1 = now()
      const serverCpuS = processStats(server.pid).cpu - cpu0
      const m1 = machineTicks()
      const replies = await gen.ask('stop')
      const generatorLagMs = mainLag()
      const lag = (await askLag(server)) ?? null
      const trace = (await server.trace()) ?? []
      await gen.stop()
      for (const p of writers) p.close()
      const samples = replies.flatMap((r) => r.samples)
      const inLoad = (sent) => loads.some((l) => sent >= l.start && sent <= l.acked + LOAD_TAIL_MS)
      const nearLoad = (sent) => loads.some((l) => sent >= l.start - LOAD_LEAD_MS && sent <= l.acked + LOAD_TAIL_MS)
      const during = samples.filter(([sent]) => inLoad(sent))
      const quiet = samples.filter(([sent]) => sent >= w0 && !nearLoad(sent))
      // Quiet spells one by one: how much the p99 of a few seconds varies by itself (the noise).
      const edges = [w0, ...loads.flatMap((l) => [l.start - LOAD_LEAD_MS, l.acked + LOAD_TAIL_MS]), w1]
      const spells = []
      for (let k = 0; k < edges.length; k += 2) spells.push([edges[k], edges[k + 1]])
      const spellStats = spells.map(([from, to]) => summarize(samples.filter(([sent]) => sent >= from && sent < to).map(([s, , applied]) => applied - s)))
      const lat = (list) => summarize(list.map(([s, , applied]) => applied - s))
      const toClient = (list) => summarize(list.map(([s, arrived]) => arrived - s))
      const d = lat(during)
      const q = lat(quiet)
      const noiseP99 = spellStats.filter((s) => s.n >= 50).map((s) => s.p99)
      // The noise, measured: windows as long as a load's (the median), slid over the no-load
      // spells a quarter of their length at a time; how their p99 (and the server's max lag)
      // spread says how far a window's tail moves with no load at all. Each load window is placed
      // in that spread.
      const p99Of = (from, to) => summarize(samples.filter(([sent]) => sent >= from && sent <= to).map(([s, , applied]) => applied - s))
      const loadWindows = loads.map((l) => {
        const st = p99Of(l.start, l.acked + LOAD_TAIL_MS)
        return { ms: l.acked + LOAD_TAIL_MS - l.start, n: st.n, p99: st.p99, maxLag: lag ? maxLagIn(lag, l.start, l.acked + LOAD_TAIL_MS) : undefined }
      })
      const L = median(loadWindows.map((w) => w.ms))
      const quietWindows = []
      for (const [from, to] of spells) {
        for (let a = from; a + L <= to; a += L / 4) {
          const st = p99Of(a, a + L)
          if (st.n >= 20) quietWindows.push({ p99: st.p99, maxLag: lag ? maxLagIn(lag, a, a + L) : undefined })
        }
      }
      const qp99 = quietWindows.map((w) => w.p99).sort((a, b) => a - b)
      const above = (x, sorted) => (sorted.length ? sorted.filter((v) => v < x).length / sorted.length : NaN)
      for (const w of loadWindows) w.aboveQuietWindows = above(w.p99, qp99)
      const noiseCeiling = summarize(qp99).p95 // the 90th–95th percentile of no-load windows
      const qLag = summarize(quietWindows.map((w) => w.maxLag).filter(Number.isFinite))
      // The server's own part, frame received → relay written (every accepted batch of every room), by when the frame came.
      const serverPart = (pick) => summarize(trace.filter((x) => pick(x.receivedAt)).map((x) => x.relayedAt - x.receivedAt))
      const serverDuring = serverPart((at) => inLoad(at))
      const serverQuiet = serverPart((at) => at >= w0 && at <= w1 && !nearLoad(at))
      const lagIn = lag ? loads.map((l) => maxLagIn(lag, l.start, l.acked + LOAD_TAIL_MS)) : []
      const lagOut = lag ? spells.map(([from, to]) => maxLagIn(lag, from, to)) : []
      const elu = replies.map((r) => +r.elu.toFixed(3))
      const invalid = elu.filter((e) => e > ELU_LIMIT).map((e) => `a measuring thread was ${(e * 100).toFixed(0)} % busy (limit ${ELU_LIMIT * 100} %)`)
      const windowS = (w1 - w0) / 1000
      const B = (result.busy = {
        config: { ...busy, coldLoads, gapMs, loadTailMs: LOAD_TAIL_MS, loadLeadMs: LOAD_LEAD_MS },
        loads: loads.map((t) => ({ welcomeMs: t.welcome - t.start, documentMs: t.document - t.start, indexedMs: t.acked - t.start, writeToAckMs: t.acked - t.sent, serverCpuMs: t.cpu })),
        duringLoad: { ...d, toClient: toClient(during), server: serverDuring },
        noLoad: { ...q, toClient: toClient(quiet), server: serverQuiet },
        noLoadSpellsP99: noiseP99,
        serverLagMs: lag ? { duringLoads: lagIn, noLoadSpells: lagOut, maxDuringLoads: Math.max(0, ...lagIn), maxNoLoad: Math.max(0, ...lagOut) } : 'not available',
        keysPerSecond: +(replies.reduce((n, r) => n + r.keys, 0) / windowS).toFixed(1),
        serverCpuPercent: +((serverCpuS / windowS) * 100).toFixed(1),
        machineBusyPercent: +(((m1.busy - m0.busy) / (m1.total - m0.total)) * 100).toFixed(1),
        machineBusyPercentPhase: phaseBusy(phase),
        measuringThreadsElu: elu,
        generatorMainLagMs: generatorLagMs,
        unexpectedCloses: replies.reduce((n, r) => n + r.closed, 0),
        errors: replies.flatMap((r) => r.errors),
        invalid,
      })
      B.windows = { lengthMs: L, load: loadWindows, noLoad: { count: quietWindows.length, p99: summarize(qp99), maxLag: qLag } }
      // Unchanged within noise: the p99 of every keystroke sent during a load is no higher than the
      // p99 of 95 % of the equally long windows without one (with no effect, the pooled p99 — more
      // samples, less spread — sits near the middle of those).
      B.p99Unchanged = quietWindows.length >= 5 ? d.p99 <= noiseCeiling : d.p99 <= Math.max(q.p99, ...noiseP99)
      B.verdict = B.p99Unchanged
        ? `unchanged within noise (${ms1(d.p99)} ms during loads vs ${ms1(q.p99)} ms without, ≤ ${ms1(noiseCeiling)} ms, the p95 of no-load windows' p99; per load window ${loadWindows.map((w) => ms1(w.p99)).join(' / ')} ms against ${quietWindows.length} no-load windows' p50 ${ms1(summarize(qp99).p50)}, p95 ${ms1(noiseCeiling)} ms)`
        : `RAISED: ${ms1(d.p99)} ms during loads vs ${ms1(q.p99)} ms without, above ${ms1(noiseCeiling)} ms, the p95 of no-load windows' p99; per load window ${loadWindows.map((w) => `${ms1(w.p99)} (above ${Math.round(w.aboveQuietWindows * 100)} % of no-load windows)`).join(' / ')} against ${quietWindows.length} equally long no-load windows' p50 ${ms1(summarize(qp99).p50)}, p95 ${ms1(noiseCeiling)} ms`
      if (invalid.length) B.verdict += ` (run INVALID: ${invalid.join('; ')})`
      if (B.machineBusyPercent > 90) B.verdict += ` (machine ${B.machineBusyPercent} % busy: other work on it was in the way)`
      console.log(`\nOther rooms while cold rooms load: ${busy.rooms} rooms × ${busy.clients} clients at ${busy.rate} keys/s into ${busy.size}-character files (${B.keysPerSecond} keys/s in all), ${coldLoads} cold loads of ${changes}-change rooms, ${gapMs / 1000} s apart; server ${B.serverCpuPercent} % CPU, machine ${B.machineBusyPercent} % busy`)
      table(
        loads.map((t, i) => ({ 'cold load': i + 1, 'welcome ms': ms(t.welcome - t.start), 'document received ms': ms(t.document - t.start), 'first write acknowledged (indexed) ms': ms(t.acked - t.start), 'server CPU meanwhile: main / document thread / all, ms': `${t.cpu.main} / ${t.cpu.busiestOther} / ${t.cpu.total}`, 'server max lag ms': lag ? ms1(lagIn[i]) : '–' })),
      )
      console.log('')
      const latRow = (what, s, tc, sv, lagMax, target) => ({ 'busy rooms, keystroke → applied': what, samples: s.n, 'p50 ms': ms1(s.p50), 'p95 ms': ms1(s.p95), 'p99 ms': ms1(s.p99), 'max ms': ms1(s.max), 'to client p99': ms1(tc.p99), 'server received → relayed p50 / p99': `${ms1(sv.p50)} / ${ms1(sv.p99)}`, 'server max lag ms': lag ? ms1(lagMax) : '–', target })
      table([
        latRow('no load in progress', q, B.noLoad.toClient, serverQuiet, Math.max(0, ...lagOut), ''),
        latRow('a cold load in progress', d, B.duringLoad.toClient, serverDuring, Math.max(0, ...lagIn), `p99 unchanged within noise: ${B.p99Unchanged ? 'yes' : 'NO'}`),
      ])
      console.log(`(noise: ${quietWindows.length} no-load windows of ${ms(L)} ms (a load's length) have p99 ${ms1(summarize(qp99).p50)} ms at the median, ${ms1(noiseCeiling)} at p95, and server max lag ${ms1(qLag.p50)} / ${ms1(qLag.p95)}; the load windows' p99 ${loadWindows.map((w) => `${ms1(w.p99)} (above ${Math.round(w.aboveQuietWindows * 100)} %)`).join(', ')}; p99 of each no-load spell alone ${noiseP99.map(ms1).join(' / ')} ms; measuring threads ${elu.map((e) => Math.round(e * 100)).join('/')} % busy${invalid.length ? ` — INVALID: ${invalid.join('; ')}` : ''}; the bench's own main thread at most ${generatorLagMs} ms late; unexpected closes ${B.unexpectedCloses}${B.errors.length ? `; errors ${B.errors.join(', ')}` : ''})`)
    }

    // ---- C. the browser ----
    if (phases.has('browser')) {
      const phase = await phaseStart('browser')
      browser = await (await import('playwright-core')).chromium.launch({ executablePath: process.env.CHROME_PATH || '/usr/bin/chromium', args: CHROME_ARGS })
      host = await hostPage(server.url)
      const firstLine = rooms[0].text.split('\n')[0].replace(/^x+/, '')
      step(`the pages look for the first line: ${JSON.stringify(firstLine)}`)
      const probed = async (context) => {
        await context.addInitScript(pageProbe, firstLine)
        return context
      }
      // Writers (learners: they may edit, so they hold a replica) and observers (a light view), each in rooms of their own.
      const [wRoom, oRoom, wRoom2] = rooms
      const writerUrl = (r) => host.url(r.sid, tokens[r.sid].learner)
      const observerUrl = (r) => host.url(r.sid, tokens[r.sid].observer)
      const loads = {}
      const put = (name, l) => {
        ;(loads[name] ??= []).push(l)
        if (l.failed) console.log(`FAILED page load (${name}): ${l.failed}\n  page state: ${JSON.stringify(l.state)}\n  console: ${JSON.stringify(l.messages)}`)
      }
      const warm = await probed(await browser.newContext())
      // The first visits fill the HTTP cache and load the rooms.
      if ((await pageLoad(warm, writerUrl(wRoom), { writer: true })).typed) wRoom.slashes++
      await pageLoad(warm, observerUrl(oRoom), { writer: false })
      await settle()
      for (let i = 0; i < browserRuns; i++) {
        const ctx = await probed(await browser.newContext())
        put('writer, cold cache, hot room', await pageLoad(ctx, writerUrl(wRoom), { writer: true }))
        wRoom.slashes += loads['writer, cold cache, hot room'].at(-1).typed ? 1 : 0
        put('observer, cold cache, hot room', await pageLoad(ctx, observerUrl(oRoom), { writer: false }))
        await ctx.close()
        put('writer, warm cache, hot room', await pageLoad(warm, writerUrl(wRoom), { writer: true }))
        wRoom.slashes += loads['writer, warm cache, hot room'].at(-1).typed ? 1 : 0
        put('observer, warm cache, hot room', await pageLoad(warm, observerUrl(oRoom), { writer: false }))
        step(`page run ${i + 1}: writer cold cache visible ${ms(loads['writer, cold cache, hot room'].at(-1).visible)} live ${ms(loads['writer, cold cache, hot room'].at(-1).live)}`)
      }
      for (let i = 0; i < browserRuns; i++) {
        // A restart: the timed loads find their rooms in storage only.
        await restart()
        const ctx = await probed(await browser.newContext())
        put('writer, cold cache, cold room', await pageLoad(ctx, writerUrl(wRoom2), { writer: true }))
        wRoom2.slashes += loads['writer, cold cache, cold room'].at(-1).typed ? 1 : 0
        await ctx.close()
        await settle()
        put('writer, warm cache, cold room', await pageLoad(warm, writerUrl(wRoom), { writer: true }))
        wRoom.slashes += loads['writer, warm cache, cold room'].at(-1).typed ? 1 : 0
        await settle()
        put('observer, warm cache, cold room', await pageLoad(warm, observerUrl(oRoom), { writer: false }))
        step(`cold page run ${i + 1}: writer visible ${ms(loads['writer, warm cache, cold room'].at(-1).visible - loads['writer, warm cache, cold room'].at(-1).defined)} live ${ms(loads['writer, warm cache, cold room'].at(-1).live - loads['writer, warm cache, cold room'].at(-1).defined)} from defined`)
      }
      result.browserMachineBusyPercent = phaseBusy(phase)
      result.browser = {}
      for (const [name, list] of Object.entries(loads)) {
        const writer = name.startsWith('writer')
        result.browser[name] = {
          visibleFromNavigation: add(`browser, ${name}: code visible (from navigation start)`, list.map((l) => l.visible)),
          visible: add(`  from the elements being defined`, list.map((l) => l.visible - l.defined), TARGETS.visibleMs),
          liveFromNavigation: add(`  live ${writer ? 'editor' : 'view'} (from navigation start)`, list.map((l) => l.live)),
          live: add(`  live ${writer ? 'editor' : 'view'} from the elements being defined`, list.map((l) => l.live - l.defined), TARGETS.liveMs),
          documentToLive: add(`    of which: document frame arrived → live`, list.map((l) => l.live - docFrameAt(l))),
          ...(writer ? { editToAck: add(`  typed → acknowledged`, list.map((l) => l.editToAck)) } : {}),
          visiblePhases: [...new Set(list.map((l) => l.visiblePhase))],
          modes: [...new Set(list.map((l) => docSocket(l)?.mode))],
          editable: [...new Set(list.map((l) => l.editable))],
          ...(writer ? { replicaInWorker: list.filter((l) => l.worker?.ready !== undefined && !l.noWorker).length + '/' + list.length } : {}),
          sockets: median(list.map((l) => l.ws.length)),
          breakdown: breakdown(list),
          documentBytes: median(list.map((l) => docSocket(l)?.bytes ?? 0)),
          failures: list.filter((l) => l.failed).map((l) => ({ error: l.failed, state: l.state, console: l.messages })),
        }
      }
    }

    const machineAfter = machineTicks()
    result.machine = { busyPercent: +(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(1), loadAverage: [+loadBefore.toFixed(2), +loadavg()[0].toFixed(2)] }
    // Every room holds what the bench typed into it: the history, the cold writers' characters, the pages' slashes.
    let editsArrived = true
    for (const r of rooms) {
      const text = (await getDocument(server.url, r.sid, tokens[r.sid].learner)).text ?? ''
      editsArrived &&= text.replaceAll('/', '') === r.text && text.length === r.text.length + r.slashes
    }

    console.log('')
    if (rows.length) table(rows)
    if (result.browser) {
      for (const [name, b] of Object.entries(result.browser)) {
        if (b.failures.length) console.log(`\n${name}: ${b.failures.length} page load(s) FAILED (see above and the JSON)`)
        console.log(`\n${name}: median offsets from navigation start (mode ${b.modes.join(', ')}; editable ${b.editable.join(', ')}; ${b.sockets} socket(s)${b.replicaInWorker ? `; replica in its Web Worker in ${b.replicaInWorker} loads` : ''}; code first shown as: ${b.visiblePhases.join(', ')})`)
        table(Object.entries(b.breakdown).map(([phase, t]) => ({ phase, ms: ms(t) })))
      }
    }
    if (result.raw) console.log(`\nfirst sync: ${result.raw.syncFrames} binary frame(s), ${(result.raw.syncBytes / 1024).toFixed(0)} kB to a raw full peer; the text frame ${(result.raw.viewBytes / 1024).toFixed(0)} kB to a viewer`)
    if (result.busy) console.log(`other rooms during cold loads: p99 ${ms1(result.busy.duringLoad.p99)} ms vs ${ms1(result.busy.noLoad.p99)} ms without — ${result.busy.verdict}`)
    console.log(`machine busy ${result.machine.busyPercent} % while measuring (every process, not only these); 1-minute load average ${result.machine.loadAverage[0]} → ${result.machine.loadAverage[1]}; ${restarts} server restarts; the bench took ${((performance.now() - started) / 1000).toFixed(0)} s`)
    console.log(`every client got the whole document: ${allMatch}; every edit the bench made reached the server: ${editsArrived}`)
    result.allMatch = allMatch
    result.editsArrived = editsArrived
    result.restarts = restarts
    result.seconds = +((performance.now() - started) / 1000).toFixed(0)
    const file = writeResult('load', result)
    console.log(`written to ${file}`)
  } finally {
    await browser?.close()
    await host?.close()
    await server.stop()
    removeDir(dataDir)
    removeDir(lagDir)
    await pg?.drop()
  }
}
