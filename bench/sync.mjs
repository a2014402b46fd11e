// Sync benchmark: N rooms × M clients typing at human speed into files of realistic size.
// A few full Automerge clients (one in every tenth room, in a worker thread of their own) apply
// everything they receive and measure keystroke → remote-apply latency; the other clients are
// light senders that type but do not apply what they receive, so the load generator does not
// drown the server on two cores. Each keystroke carries its send time in the change's message.
// Reports latency p50/p95/p99, server CPU per keystroke at several file sizes (it should stay flat
// as the file grows), server RSS and memory per room.
//
//   npm run bench -- sync [--rooms 20] [--clients 10] [--rate 3] [--sizes 2000,10000,40000] [--seconds 20]
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import * as A from '@automerge/automerge'
import WebSocket from 'ws'
import { createSession, machineTicks, processStats, sleep, startServer, summarize, table, writeResult } from './lib.mjs'
import { mintToken } from '@session-kit/server'
import { SECRET } from './lib.mjs'

const FULL_EVERY = 10
const now = () => performance.timeOrigin + performance.now()

class Client {
  constructor({ url, sid, token, full, tracker, rate }) {
    this.full = full
    this.tracker = tracker
    this.rate = rate
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

  start() {
    const tick = () => {
      if (this.stopped || this.closed) return
      this.keystroke()
      // Human rhythm: exponential gaps around the mean rate.
      this.timer = setTimeout(tick, Math.min(2000, -Math.log(1 - Math.random()) * (1000 / this.rate)))
    }
    this.timer = setTimeout(tick, Math.random() * (1000 / this.rate))
  }

  stop() {
    this.stopped = true
    clearTimeout(this.timer)
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

function starter(size) {
  const line = 'const value = compute(input, options) // a line of typical code\n'
  return line.repeat(Math.ceil(size / line.length)).slice(0, size)
}

/** The measuring clients, in a worker thread so their applies do not stall the light senders. */
function startMeasurers(specs, rate) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { specs, rate } })
  const ask = (type) =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.postMessage(type)
    })
  return { ready: ask('ready'), ask, stop: () => worker.terminate() }
}

if (!isMainThread) {
  const tracker = { latencies: [], measuring: false }
  const clients = workerData.specs.map((spec) => new Client({ ...spec, full: true, tracker, rate: workerData.rate }))
  parentPort.on('message', async (type) => {
    if (type === 'ready') {
      await Promise.all(clients.map((c) => c.ready))
      parentPort.postMessage('ok')
    } else if (type === 'start') {
      for (const c of clients) c.start()
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

async function runSize({ rooms, clients, rate, size, seconds }) {
  const server = await startServer()
  const tracker = { latencies: [], measuring: false }
  const base = processStats(server.pid)
  const light = []
  const measuring = []
  for (let r = 0; r < rooms; r++) {
    const sid = `bench-${size}-${r}`
    await createSession(server.url, sid, { 'main.js': starter(size) })
    for (let c = 0; c < clients; c++) {
      const token = await mintToken({ sid, role: c === 0 ? 'instructor' : 'learner', sub: `u${r}-${c}`, name: `User ${c}` }, SECRET, { ttl: '2h' })
      if (c === 0 && r % FULL_EVERY === 0) measuring.push({ url: server.url, sid, token })
      else light.push(new LightSender({ url: server.url, sid, token, tracker, rate }))
    }
  }
  const measurers = startMeasurers(measuring, rate)
  await Promise.all([...light.map((c) => c.ready), measurers.ready])
  const loaded = processStats(server.pid)
  for (const c of light) c.start()
  await measurers.ask('start')
  await sleep(3000) // warm-up
  await measurers.ask('measure')
  const before = processStats(server.pid)
  const machineBefore = machineTicks()
  const genBefore = process.cpuUsage()
  const typedBefore = light.reduce((n, c) => n + c.typed, 0)
  let lagMax = 0
  let lagAt = performance.now()
  const lagTimer = setInterval(() => {
    const t = performance.now()
    lagMax = Math.max(lagMax, t - lagAt - 100)
    lagAt = t
  }, 100)
  await sleep(seconds * 1000)
  const after = processStats(server.pid)
  const machineAfter = machineTicks()
  const gen = process.cpuUsage(genBefore)
  clearInterval(lagTimer)
  const keystrokes = light.reduce((n, c) => n + c.typed, 0) - typedBefore
  const report = await measurers.ask('report')
  const closed = light.filter((c) => c.closed && c.closed !== 1005).length + report.closed
  for (const c of light) c.stop()
  await measurers.stop()
  await server.stop()
  const lat = summarize(report.latencies)
  const keys = keystrokes + Math.round((report.typed * seconds) / (seconds + 3))
  return {
    size,
    keystrokes: keys,
    keysPerSecond: +(keys / seconds).toFixed(1),
    latency: lat,
    cpuPerKeystrokeMs: +(((after.cpu - before.cpu) * 1000) / keys).toFixed(3),
    serverCpuPercent: +(((after.cpu - before.cpu) / seconds) * 100).toFixed(1),
    rssMB: +(after.rss / 2 ** 20).toFixed(1),
    memoryPerRoomMB: +((loaded.rss - base.rss) / 2 ** 20 / rooms).toFixed(2),
    loadGeneratorMaxLagMs: Math.round(lagMax),
    loadGeneratorCpuPercent: +(((gen.user + gen.system) / 1e6 / seconds) * 100).toFixed(1),
    machineBusyPercent: +(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(1),
    unexpectedCloses: closed,
  }
}

export async function run(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'sync'),
    options: { rooms: { type: 'string', default: '20' }, clients: { type: 'string', default: '10' }, rate: { type: 'string', default: '3' }, sizes: { type: 'string', default: '2000,10000,40000' }, seconds: { type: 'string', default: '20' } },
    strict: false,
  })
  const cfg = { rooms: Number(values.rooms), clients: Number(values.clients), rate: Number(values.rate), seconds: Number(values.seconds) }
  const sizes = String(values.sizes).split(',').map(Number)
  console.log(`${cfg.rooms} rooms × ${cfg.clients} clients at ${cfg.rate} keys/s, ${cfg.seconds} s per file size; full clients in every ${FULL_EVERY}th room measure latency; database: ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`)
  const results = []
  for (const size of sizes) results.push(await runSize({ ...cfg, size }))
  table(
    results.map((r) => ({
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
  const file = writeResult('sync', { config: cfg, database: process.env.DATABASE_URL ? 'postgres' : 'pglite', results })
  console.log(`\nwritten to ${file}`)
}
