// Sync benchmark: N rooms × M clients typing at human speed into files of realistic size, against
// Session Kit and — the same workload in the same run — against Hocuspocus + Yjs.
// A few full clients (one in every tenth room, in a worker thread of their own) apply everything
// they receive and measure keystroke → remote-apply latency; the other clients are light senders
// that type but do not apply what they receive, so the load generator does not drown the server on
// two cores. A Session Kit keystroke carries its send time in the Automerge change's message; how
// the Yjs side learns send times is described in hocuspocus.mjs.
// Reports latency p50/p95/p99, server CPU per keystroke at several file sizes (it should stay flat
// as the file grows), server RSS and memory per room, and Session Kit / Hocuspocus ratios.
// Hocuspocus runs in memory only (its best case) while Session Kit persists every change before
// acknowledging it: see hocuspocus-server.mjs for its configuration.
//
//   npm run bench -- sync [--rooms 20] [--clients 10] [--rate 3] [--sizes 2000,10000,40000] [--seconds 15]
//                         [--systems session-kit,hocuspocus]
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import * as A from '@automerge/automerge'
import WebSocket from 'ws'
import { createSession, lagMeter, machineTicks, processStats, SECRET, sleep, starterText, startServer, summarize, table, writeResult } from './lib.mjs'
import { mintToken } from '@session-kit/server'
import { stampBuffer, startHocuspocus, YjsClient, YjsLightSender } from './hocuspocus.mjs'
import { startTyping, stopTyping } from './clients.mjs'

const FULL_EVERY = 10
const now = () => performance.timeOrigin + performance.now()

class Client {
  constructor({ url, sid, token, full = true, tracker }) {
    this.full = full
    this.tracker = tracker
    this.doc = A.init()
    this.sync = A.initSyncState()
    this.synced = false
    this.closed = null
    this.typed = 0
    this.ws = new WebSocket(url.replace('http', 'ws') + `/v1/sessions/${sid}/sync`)
    this.ws.binaryType = 'nodebuffer'
    this.ready = new Promise((resolve, reject) => {
      this.ws.on('open', () => this.ws.send(JSON.stringify({ type: 'hello', token, protocol: 1, sync: true })))
      this.ws.on('message', (data, isBinary) => {
        if (!isBinary) return
        // Light senders apply nothing once they hold the document.
        if (this.synced && !this.full) return
        const msg = new Uint8Array(data)
        ;[this.doc, this.sync] = A.receiveSyncMessage(this.doc, this.sync, msg)
        const at = now()
        if (this.synced && this.full && this.tracker.measuring) {
          for (const entry of A.decodeSyncMessage(msg).changes) {
            const sent = Number(A.decodeChange(entry).message)
            if (sent) this.tracker.latencies.push(at - sent)
          }
        }
        this.flush()
        if (!this.synced && this.doc.files && String(this.doc.files['main.js'] ?? '').length > 0) {
          this.synced = true
          this.cursor = Math.floor(Math.random() * String(this.doc.files['main.js']).length)
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

  flush() {
    const [s, m] = A.generateSyncMessage(this.doc, this.sync)
    this.sync = s
    if (m && this.ws.readyState === WebSocket.OPEN) this.ws.send(m)
  }

  /** One keystroke: mostly a character at the cursor, sometimes a backspace or a new line. */
  keystroke() {
    const len = String(this.doc.files['main.js']).length
    this.cursor = Math.min(this.cursor, len)
    const r = Math.random()
    this.doc = A.change(this.doc, { message: String(now()) }, (d) => {
      if (r < 0.06 && this.cursor > 0) A.splice(d, ['files', 'main.js'], --this.cursor, 1)
      else A.splice(d, ['files', 'main.js'], this.cursor++, 0, r < 0.1 ? '\n' : String.fromCharCode(97 + Math.floor(Math.random() * 26)))
    })
    this.typed++
    this.flush()
  }

  stop() {
    stopTyping(this)
    this.ws.close()
  }
}

/**
 * A light sender: joins like any Automerge peer (handshake included), then types by encoding its
 * own changes directly — valid Automerge changes the server verifies like any other — without
 * keeping a document or applying what it receives. Costs the load generator almost nothing.
 */
class LightSender extends Client {
  constructor(opts) {
    super({ ...opts, full: false })
    this.ready = this.ready.then(() => {
      const doc = this.doc
      this.textObj = A.getObjectId(doc.files, 'main.js')
      this.deps = A.getHeads(doc)
      this.maxOp = Math.max(...A.getAllChanges(doc).map((c) => {
        const d = A.decodeChange(c)
        return d.startOp + d.ops.length - 1
      }))
      this.actor = A.getActorId(doc)
      this.seq = 0
      this.last = '_head'
      this.doc = null // nothing more is applied
    })
  }

  keystroke() {
    const startOp = this.maxOp + 1
    const del = this.last !== '_head' && Math.random() < 0.06
    const ops = del
      ? [{ action: 'del', obj: this.textObj, elemId: this.last, pred: [this.last] }]
      : [{ action: 'set', obj: this.textObj, elemId: this.last, insert: true, value: Math.random() < 0.1 ? '\n' : String.fromCharCode(97 + Math.floor(Math.random() * 26)), pred: [] }]
    const bytes = A.encodeChange({ actor: this.actor, seq: ++this.seq, startOp, time: 0, message: String(now()), deps: this.deps, ops })
    const hash = A.decodeChange(bytes).hash
    this.maxOp = startOp
    if (!del) this.last = `${startOp}@${this.actor}`
    else this.last = '_head'
    this.deps = [hash]
    this.typed++
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(A.encodeSyncMessage({ type: 'message', heads: [hash], need: [], have: [{ lastSync: [hash], bloom: new Uint8Array(0) }], changes: [bytes] }))
  }
}

/** Either system's clients typing at human rhythm: exponential gaps around the mean rate. */
/**
 * What differs between the systems: how a server starts, how a room is made and what a client
 * needs to join it. Everything else — workload, sampling, measures — is shared.
 */
const SYSTEMS = {
  'session-kit': {
    label: 'Session Kit',
    Full: Client,
    Light: LightSender,
    start: () => startServer(),
    room: (server, sid, size) => createSession(server.url, sid, { 'main.js': starterText(size) }),
    async client(server, sid, r, c) {
      const token = await mintToken({ sid, role: c === 0 ? 'instructor' : 'learner', sub: `u${r}-${c}`, name: `User ${c}` }, SECRET, { ttl: '2h' })
      return { url: server.url, sid, token }
    },
  },
  hocuspocus: {
    label: 'Hocuspocus',
    Full: YjsClient,
    Light: YjsLightSender,
    start: (size) => startHocuspocus({ starterSize: size }),
    // A document is made, with its starter text, when its first client connects.
    room: async () => {},
    client: async (server, sid, r, c, slot, stamps) => ({ url: server.url, room: sid, slot, stamps }),
  },
}

/**
 * The measuring clients, each in a worker thread of its own — as each would be in its own browser
 * tab — so one client's applies neither stall the light senders nor queue behind another's.
 */
function startMeasurers(system, specs, rate) {
  const workers = specs.map((spec) => new Worker(new URL(import.meta.url), { workerData: { system, specs: [spec], rate } }))
  const askOne = (worker, type) =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.postMessage(type)
    })
  const ask = async (type) => {
    const replies = await Promise.all(workers.map((w) => askOne(w, type)))
    if (type !== 'report') return 'ok'
    return { latencies: replies.flatMap((r) => r.latencies), typed: replies.reduce((n, r) => n + r.typed, 0), closed: replies.reduce((n, r) => n + r.closed, 0) }
  }
  return { ready: ask('ready'), ask, stop: () => Promise.all(workers.map((w) => w.terminate())) }
}

if (!isMainThread) {
  const tracker = { latencies: [], measuring: false }
  const clients = workerData.specs.map((spec) => new SYSTEMS[workerData.system].Full({ ...spec, tracker }))
  parentPort.on('message', async (type) => {
    if (type === 'ready') {
      await Promise.all(clients.map((c) => c.ready))
      parentPort.postMessage('ok')
    } else if (type === 'start') {
      for (const c of clients) startTyping(c, workerData.rate)
      parentPort.postMessage('ok')
    } else if (type === 'measure') {
      tracker.measuring = true
      parentPort.postMessage('ok')
    } else if (type === 'report') {
      tracker.measuring = false
      await sleep(1500) // let the last measured changes arrive
      parentPort.postMessage({ latencies: tracker.latencies, typed: clients.reduce((n, c) => n + c.typed, 0), closed: clients.filter((c) => c.closed && c.closed !== 1005).length })
      for (const c of clients) c.stop()
    }
  })
}

async function runSize({ system, rooms, clients, rate, size, seconds }) {
  const sys = SYSTEMS[system]
  const server = await sys.start(size)
  const base = processStats(server.pid)
  const stamps = system === 'hocuspocus' ? stampBuffer(rooms * clients) : undefined
  const light = []
  const measuring = []
  for (let r = 0; r < rooms; r++) {
    const sid = `bench-${size}-${r}`
    await sys.room(server, sid, size)
    for (let c = 0; c < clients; c++) {
      const spec = await sys.client(server, sid, r, c, r * clients + c, stamps)
      if (c === 0 && r % FULL_EVERY === 0) measuring.push(spec)
      else light.push(new sys.Light(spec))
    }
  }
  const measurers = startMeasurers(system, measuring, rate)
  await Promise.all([...light.map((c) => c.ready), measurers.ready])
  const loaded = processStats(server.pid)
  for (const c of light) startTyping(c, rate)
  await measurers.ask('start')
  await sleep(3000) // warm-up
  await measurers.ask('measure')
  const before = processStats(server.pid)
  const machineBefore = machineTicks()
  const genBefore = process.cpuUsage()
  const typedBefore = light.reduce((n, c) => n + c.typed, 0)
  const stopLag = lagMeter()
  await sleep(seconds * 1000)
  const after = processStats(server.pid)
  const machineAfter = machineTicks()
  const gen = process.cpuUsage(genBefore)
  const lagMax = stopLag()
  const keystrokes = light.reduce((n, c) => n + c.typed, 0) - typedBefore
  const report = await measurers.ask('report')
  const closed = light.filter((c) => c.closed && c.closed !== 1005).length + report.closed
  for (const c of light) c.stop()
  await measurers.stop()
  await server.stop()
  const lat = summarize(report.latencies)
  const keys = keystrokes + Math.round((report.typed * seconds) / (seconds + 3))
  return {
    system,
    size,
    keystrokes: keys,
    keysPerSecond: +(keys / seconds).toFixed(1),
    latency: lat,
    cpuPerKeystrokeMs: +(((after.cpu - before.cpu) * 1000) / keys).toFixed(3),
    serverCpuPercent: +(((after.cpu - before.cpu) / seconds) * 100).toFixed(1),
    rssMB: +(after.rss / 2 ** 20).toFixed(1),
    memoryPerRoomMB: +((loaded.rss - base.rss) / 2 ** 20 / rooms).toFixed(2),
    loadGeneratorMaxLagMs: lagMax,
    loadGeneratorCpuPercent: +(((gen.user + gen.system) / 1e6 / seconds) * 100).toFixed(1),
    machineBusyPercent: +(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(1),
    unexpectedCloses: closed,
  }
}

const ratio = (a, b) => (b > 0 ? +(a / b).toFixed(2) : NaN)

function packageVersion(name) {
  // Some packages do not export their package.json: walk up from the entry point instead.
  let dir = dirname(fileURLToPath(import.meta.resolve(name)))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      if (pkg.name === name) return pkg.version
    } catch {}
    if (dir === dirname(dir)) return 'unknown'
    dir = dirname(dir)
  }
}

export async function run(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'sync'),
    options: {
      rooms: { type: 'string', default: '20' },
      clients: { type: 'string', default: '10' },
      rate: { type: 'string', default: '3' },
      sizes: { type: 'string', default: '2000,10000,40000' },
      seconds: { type: 'string', default: '15' },
      systems: { type: 'string', default: 'session-kit,hocuspocus' },
    },
    strict: false,
  })
  const cfg = { rooms: Number(values.rooms), clients: Number(values.clients), rate: Number(values.rate), seconds: Number(values.seconds) }
  const sizes = String(values.sizes).split(',').map(Number)
  const systems = String(values.systems).split(',')
  for (const s of systems) if (!SYSTEMS[s]) throw new Error(`unknown system "${s}"; available: ${Object.keys(SYSTEMS).join(', ')}`)
  const database = process.env.DATABASE_URL ? 'postgres' : 'pglite'
  let hocuspocus
  if (systems.includes('hocuspocus')) {
    const { defaultConfiguration: d } = await import('@hocuspocus/server')
    hocuspocus = {
      server: packageVersion('@hocuspocus/server'),
      yjs: packageVersion('yjs'),
      persistence: 'none (in memory)',
      authentication: 'none (any token accepted)',
      settings: { debounce: d.debounce, maxDebounce: d.maxDebounce, timeout: d.timeout, unloadImmediately: d.unloadImmediately, gc: d.yDocOptions.gc },
    }
  }
  console.log(`${cfg.rooms} rooms × ${cfg.clients} clients at ${cfg.rate} keys/s, ${cfg.seconds} s per file size and system; full clients in every ${FULL_EVERY}th room measure latency`)
  if (systems.includes('session-kit')) console.log(`Session Kit: every change verified and persisted to ${database === 'postgres' ? 'PostgreSQL' : 'PGlite'} before it is acknowledged; signed token checked at join, role on every message`)
  if (hocuspocus) console.log(`Hocuspocus ${hocuspocus.server} + Yjs ${hocuspocus.yjs}: in memory, no persistence (its best case), no authentication hook, library defaults (debounce ${hocuspocus.settings.debounce} ms, maxDebounce ${hocuspocus.settings.maxDebounce} ms, Yjs gc ${hocuspocus.settings.gc ? 'on' : 'off'})`)
  const results = []
  // Systems alternate within each size, so a busy spell on a shared machine hits both alike.
  for (const size of sizes) for (const system of systems) results.push(await runSize({ ...cfg, system, size }))
  console.log()
  table(
    results.map((r) => ({
      system: SYSTEMS[r.system].label,
      'file chars': r.size,
      'keys/s': r.keysPerSecond,
      'p50 ms': r.latency.p50.toFixed(1),
      'p95 ms': r.latency.p95.toFixed(1),
      'p99 ms': r.latency.p99.toFixed(1),
      samples: r.latency.n,
      'server CPU/key ms': r.cpuPerKeystrokeMs,
      'server CPU %': r.serverCpuPercent,
      'RSS MB': r.rssMB,
      'MB/room': r.memoryPerRoomMB,
      'gen lag ms': r.loadGeneratorMaxLagMs,
      'gen CPU %': r.loadGeneratorCpuPercent,
      'machine busy %': r.machineBusyPercent,
      closes: r.unexpectedCloses,
    })),
  )
  const ratios = []
  for (const size of sizes) {
    const sk = results.find((r) => r.system === 'session-kit' && r.size === size)
    const hp = results.find((r) => r.system === 'hocuspocus' && r.size === size)
    if (!sk || !hp) continue
    ratios.push({
      size,
      p50: ratio(sk.latency.p50, hp.latency.p50),
      p95: ratio(sk.latency.p95, hp.latency.p95),
      p99: ratio(sk.latency.p99, hp.latency.p99),
      cpuPerKeystroke: ratio(sk.cpuPerKeystrokeMs, hp.cpuPerKeystrokeMs),
      rss: ratio(sk.rssMB, hp.rssMB),
      memoryPerRoom: ratio(sk.memoryPerRoomMB, hp.memoryPerRoomMB),
    })
  }
  if (ratios.length) {
    console.log('\nSession Kit / Hocuspocus (below 1: Session Kit lower; Hocuspocus in memory, Session Kit persisting)\n')
    table(ratios.map((q) => ({ 'file chars': q.size, p50: `${q.p50}×`, p95: `${q.p95}×`, p99: `${q.p99}×`, 'server CPU/key': `${q.cpuPerKeystroke}×`, RSS: `${q.rss}×`, 'MB/room': `${q.memoryPerRoom}×` })))
  }
  const file = writeResult('sync', { config: { ...cfg, systems }, database, hocuspocus, results, ratios })
  console.log(`\nwritten to ${file}`)
}
