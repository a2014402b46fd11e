// Sync benchmark: N rooms × M clients typing at human speed into files of realistic size, against
// Session Kit and — the same workload in the same run — against Hocuspocus + Yjs.
//
// Who does what:
// - Measuring clients are full peers (a real Automerge or Yjs document that applies everything it
//   receives); they type like everyone else and measure keystroke → applied latency of the other
//   clients' keystrokes in their room. How many there are follows from what applying costs at the
//   file size (its CPU cost calibrated at start, see measuringPlan): half the rooms at
//   2,000 characters, fewer as a remote apply grows with the text (≈ 10 ms at 40,000 characters
//   in Automerge: one client, which alone keeps about 40 % of a thread busy). `--measurers N`
//   overrides the plan.
// - The other clients are light senders: they type valid changes without keeping a document, so
//   the load generator does not drown the server on two cores.
// - Both kinds live in worker threads (light senders over --sender-threads, measuring clients
//   packed so that each thread is predicted below 20 % of a CPU); the main thread only orchestrates.
//   Every thread's event-loop utilisation (ELU: the share of wall time its loop was busy) is
//   measured over the window, and a run where any generator thread — or the main thread — is
//   above 50 % is marked INVALID: its latencies would measure the generator's queue.
// - A Session Kit keystroke carries its send time in the Automerge change's message; how the Yjs
//   side learns send times is described in hocuspocus.mjs.
//
// Each system runs --runs times per file size, alternating (SK, HP, SK, HP, …), so a busy spell on
// a shared machine hits both; before each run the bench waits up to --quiet-wait seconds for the
// machine to be quiet (< 25 % busy), and a run on a machine over 90 % busy carries a warning with
// the CPU used outside the server and the generator. The summary gives medians over runs of p50/p95/p99 and server CPU
// per keystroke, and the Session Kit / Hocuspocus ratios of those medians beside the targets of
// DESIGN.md (p50 and p99 ≤ 3×, server CPU per keystroke ≤ 1.0×).
//
// Latency is broken down per sample where the client can see it:
// - total: keystroke sent → change applied in a measuring client;
// - client: from the frame's arrival until it was applied — Session Kit's client applies frames
//   that arrived while it was busy together, as one sync message, as the product's document
//   worker does (so this includes waiting for the batch); Yjs applies each update at once
//   (Y.applyUpdate's time);
// - to client = total − client: keystroke sent → frame in the client's hands;
// - server: frame received → relay written, from the server process itself (Session Kit when run
//   with SESSION_KIT_TRACE=1 and the build keeps timings; Hocuspocus through a hook in
//   hocuspocus-server.mjs), over every change of every room — not joined to the samples, so
//   network (and queueing) ≈ to client − server is given by medians.
//
// Protocol (Session Kit): --protocol 2 (default) says hello with `mode: "full"`: the server pushes
// without waiting for answers and clients answer a push only with changes or a need. A server that
// does not speak protocol 2 yet is detected before the first run and protocol 1 is used instead
// (said in the output and the JSON).
//
// Hocuspocus runs in memory only (its best case) while Session Kit persists every change before
// acknowledging it: see hocuspocus-server.mjs for its configuration.
//
//   npm run bench -- sync [--rooms 20] [--clients 10] [--rate 3] [--sizes 2000,10000,40000] [--seconds 15]
//                         [--runs 3] [--protocol 1|2] [--measurers N] [--sender-threads 2] [--quiet-wait 5]
//                         [--systems session-kit,hocuspocus]
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import * as A from '@automerge/automerge'
import WebSocket from 'ws'
import { cpus } from 'node:os'
import { askWorkers, createSession, databaseBackends, ELU_LIMIT, machineTicks, overloaded, processStats, SECRET, sleep, starterText, startServer, summarize, table, threadCpuMs, threadLoadSince, threadLoadStart, waitForQuiet, writeResult } from './lib.mjs'
import { mintToken } from '@session-kit/server'
import { stampBuffer, startHocuspocus, YjsClient, YjsLightSender } from './hocuspocus.mjs'
import { carriesSomething, speaksProtocol2, startTyping, stopTyping } from './clients.mjs'

const now = () => performance.timeOrigin + performance.now()
/**
 * CPU the measuring clients may use together (cores), and what one measuring thread is planned to:
 * a thread's event-loop utilisation runs 1.5–2× its CPU on two busy cores (it is preempted while
 * active), so 20 % of CPU keeps it clear of the 50 % ELU limit.
 */
const MEASURING_BUDGET = 0.4
const THREAD_PLAN = 0.2
/**
 * A measuring client in a run costs more than the calibrated apply (its document carries a
 * history, it types and answers, and it decodes what it measures) — and less when frames that
 * arrived while it was busy are applied together. Planned at 1.5×; the ELU and CPU columns show
 * what it really was.
 */
const REAL_COST = 1.5
/** Above this share of busy CPU the machine itself is saturated (other work on it, or ours). */
const MACHINE_BUSY_WARNING = 90
const WARM_UP_MS = 3000
/** After the window, how long measuring clients keep receiving what was sent inside it. */
const DRAIN_MS = 1500

class Client {
  constructor({ url, sid, token, full = true, tracker, protocol = 2 }) {
    this.full = full
    this.tracker = tracker
    this.doc = A.init()
    this.sync = A.initSyncState()
    this.synced = false
    this.closed = null
    this.welcome = null
    this.typed = 0
    /** Sync frames received and not yet applied (see applyFrames). */
    this.frames = []
    this.ws = new WebSocket(url.replace('http', 'ws') + `/v1/sessions/${sid}/sync`)
    this.ws.binaryType = 'nodebuffer'
    const hello = protocol === 1 ? { type: 'hello', token, protocol: 1, sync: true } : { type: 'hello', token, protocol: 2, mode: 'full' }
    this.ready = new Promise((resolve, reject) => {
      this.ws.on('open', () => this.ws.send(JSON.stringify(hello)))
      this.ws.on('message', (data, isBinary) => {
        if (!isBinary) {
          if (!this.welcome) this.welcome = JSON.parse(String(data))
          return
        }
        // Light senders apply nothing once they hold the document.
        if (this.synced && !this.full) return
        this.frames.push({ bytes: new Uint8Array(data), received: now() })
        if (this.frames.length === 1) setTimeout(() => this.applyFrames(resolve), 0)
      })
      this.ws.on('close', (code) => {
        this.closed = code
        reject(new Error(`closed ${code}`))
      })
      this.ws.on('error', () => {})
    })
  }

  /**
   * Apply every frame received so far as one sync message — the last frame's heads and `have`,
   * the changes of them all — as the product's document worker does (packages/elements
   * replica.ts): one Automerge call costs about as much for fifty changes as for one. Each change
   * measured is sampled with its own frame's arrival time; "client" time is from that arrival
   * until the batch was applied (waiting in the client, then applying).
   */
  applyFrames(resolve) {
    const frames = this.frames.splice(0)
    if (!frames.length) return
    const decoded = frames.map((f) => A.decodeSyncMessage(f.bytes))
    const last = decoded[decoded.length - 1]
    const message = frames.length === 1 ? frames[0].bytes : A.encodeSyncMessage({ ...last, changes: decoded.flatMap((m) => m.changes) })
    ;[this.doc, this.sync] = A.receiveSyncMessage(this.doc, this.sync, message)
    const applied = now()
    if (this.synced && this.tracker?.measuring) {
      frames.forEach((f, i) => {
        for (const entry of decoded[i].changes) {
          const sent = Number(A.decodeChange(entry).message)
          // Keystrokes sent inside the measured window, however late they arrive.
          if (!sent || sent < this.tracker.from || sent > this.tracker.to) continue
          this.tracker.latencies.push(applied - sent)
          this.tracker.arrivals.push(f.received - sent)
          this.tracker.applies.push(applied - f.received)
        }
      })
    }
    this.flush()
    if (!this.synced && this.doc.files && String(this.doc.files['main.js'] ?? '').length > 0) {
      this.synced = true
      this.cursor = Math.floor(Math.random() * String(this.doc.files['main.js']).length)
      resolve()
    }
  }

  /** The server confirmed protocol 2's full mode: it pushes without waiting for answers. */
  get pushOnly() {
    return this.welcome?.mode === 'full'
  }

  flush() {
    const [s, m] = A.generateSyncMessage(this.doc, this.sync)
    this.sync = s
    if (!m || this.ws.readyState !== WebSocket.OPEN) return
    // Protocol 2, live: heads alone are not answered (only changes or a need are worth a frame).
    if (this.synced && this.pushOnly && !carriesSomething(m)) return
    this.ws.send(m)
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
 * keeping a document or applying what it receives (nor answering it: under protocol 1 the server
 * then pushes to it at most every 300 ms, under protocol 2 at once). Costs the load generator
 * almost nothing.
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

/**
 * What differs between the systems: how a server starts, how a room is made and what a client
 * needs to join it. Everything else — workload, sampling, measures — is shared.
 */
const SYSTEMS = {
  'session-kit': {
    label: 'Session Kit',
    short: 'SK',
    Full: Client,
    Light: LightSender,
    // The probe answers trace() with the server's per-change timings (when this build keeps them).
    start: () => startServer({ probe: true, env: { SESSION_KIT_TRACE: '1' } }),
    room: (server, sid, size) => createSession(server.url, sid, { 'main.js': starterText(size) }),
    async client(server, sid, r, c, _slot, _stamps, protocol) {
      const token = await mintToken({ sid, role: c === 0 ? 'instructor' : 'learner', sub: `u${r}-${c}`, name: `User ${c}` }, SECRET, { ttl: '2h' })
      return { url: server.url, sid, token, protocol }
    },
  },
  hocuspocus: {
    label: 'Hocuspocus',
    short: 'HP',
    Full: YjsClient,
    Light: YjsLightSender,
    start: (size) => startHocuspocus({ starterSize: size, trace: true }),
    // A document is made, with its starter text, when its first client connects.
    room: async () => {},
    client: async (server, sid, r, c, slot, stamps) => ({ url: server.url, room: sid, slot, stamps }),
  },
}

// ---- the load generator's threads ----------------------------------------------------------------

if (!isMainThread && workerData?.bench === 'sync') {
  const { system, rate, full, light } = workerData
  const tracker = { latencies: [], arrivals: [], applies: [], measuring: false, from: Infinity, to: Infinity }
  const clients = [...full.map((spec) => new SYSTEMS[system].Full({ ...spec, tracker })), ...light.map((spec) => new SYSTEMS[system].Light(spec))]
  const typed = () => clients.reduce((n, c) => n + c.typed, 0)
  let load0
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
      tracker.from = now()
      tracker.to = Infinity
      tracker.measuring = true
      load0 = threadLoadStart()
      typed0 = typed()
      parentPort.postMessage({ ok: true })
    } else if (type === 'stop-measure') {
      tracker.to = now()
      parentPort.postMessage({ ...threadLoadSince(load0), typed: typed() - typed0 })
    } else if (type === 'report') {
      await sleep(DRAIN_MS) // let changes sent inside the window arrive
      tracker.measuring = false
      const { latencies, arrivals, applies } = tracker
      parentPort.postMessage({ latencies, arrivals, applies, closed: clients.filter((c) => c.closed && c.closed !== 1005).length })
      for (const c of clients) c.stop()
    }
  })
}

/** Worker threads holding the clients; `ask(type)` sends every thread a step and gathers the replies. */
function startThreads(system, rate, threads) {
  const workers = threads.map((t) => new Worker(new URL(import.meta.url), { workerData: { bench: 'sync', system, rate, full: t.full, light: t.light } }))
  return askWorkers(workers)
}

/**
 * How long one full Automerge client spends on one remote keystroke at this file size
 * (receiveSyncMessage of a one-change message as the server pushes it, then generateSyncMessage):
 * this thread's CPU time over a few hundred milliseconds of such applies, divided by their number
 * — CPU time, not wall time, so other work on a shared machine does not inflate it.
 */
function calibrateApply(size) {
  let doc = A.from({ files: { 'main.js': starterText(size) } })
  let other = A.clone(doc)
  let state = A.initSyncState()
  let typed = 0
  // The pushes, made beforehand so that only the receiving side is timed.
  const pushes = (n) =>
    Array.from({ length: n }, () => {
      other = A.change(other, (d) => A.splice(d, ['files', 'main.js'], (typed++ * 37) % size, 0, 'x'))
      // As the server pushes: the change, and its heads as what it last synced.
      const heads = A.getHeads(other)
      return A.encodeSyncMessage({ type: 'message', heads, need: [], have: [{ lastSync: heads, bloom: new Uint8Array(0) }], changes: [A.getLastLocalChange(other)] })
    })
  const receive = (msgs) => {
    for (const msg of msgs) {
      ;[doc, state] = A.receiveSyncMessage(doc, state, msg)
      ;[state] = A.generateSyncMessage(doc, state)
    }
  }
  // A first guess by wall time (warming up too), then enough pushes for ≈ 400 ms of CPU.
  const first = pushes(10)
  const t0 = performance.now()
  receive(first)
  const guess = Math.max(0.05, (performance.now() - t0) / first.length)
  const measured = pushes(Math.min(4000, Math.max(20, Math.ceil(400 / guess))))
  const cpu0 = threadCpuMs()
  receive(measured)
  return (threadCpuMs() - cpu0) / measured.length
}

/**
 * How many measuring clients, and how many per thread, at this file size: each receives the other
 * (clients − 1) typists of its room, one apply per keystroke in the worst case (protocol 2 pushes
 * every change at once), so it keeps `load` of a core busy. All of them together stay within
 * MEASURING_BUDGET, each thread near THREAD_PLAN — far from the 50 % that invalidates a run.
 * The same plan serves both systems (Automerge's cost sets it; Yjs applies are far cheaper).
 */
function measuringPlan({ rooms, clients, rate, size, measurers }) {
  const applyMs = calibrateApply(size)
  const load = ((clients - 1) * rate * applyMs * REAL_COST) / 1000
  const count = measurers ?? Math.max(1, Math.min(rooms, Math.floor(MEASURING_BUDGET / load)))
  const perThread = Math.max(1, Math.min(count, Math.floor(THREAD_PLAN / load)))
  // One client alone above the limit: no spreading helps, the client's own applies are the limit.
  const warning = load > ELU_LIMIT ? `one full Automerge client applying every keystroke alone would be ${Math.round(load * 100)} % busy at this size (above the ${ELU_LIMIT * 100} % limit); it applies what arrived while it was busy together, which should keep it lower — the ELU column tells` : undefined
  return { applyMs: +applyMs.toFixed(2), loadPerClient: +load.toFixed(3), count, perThread, warning }
}

async function runSize({ system, rooms, clients, rate, size, seconds, plan, senderThreads, protocol, run, quietWaitMs }) {
  const sys = SYSTEMS[system]
  const quiet = quietWaitMs > 0 ? await waitForQuiet({ maxMs: quietWaitMs }) : undefined
  const server = await sys.start(size)
  const base = processStats(server.pid)
  const stamps = system === 'hocuspocus' ? stampBuffer(rooms * clients) : undefined
  // Measuring clients in rooms spread evenly over all rooms; everyone else a light sender.
  const measuredRooms = new Set(Array.from({ length: plan.count }, (_, k) => Math.floor((k * rooms) / plan.count)))
  const measuring = []
  const light = []
  // Rooms are made (and tokens minted) in parallel: setting up is not what is measured.
  const specs = await Promise.all(
    Array.from({ length: rooms }, async (_, r) => {
      const sid = `bench-${size}-${r}`
      await sys.room(server, sid, size)
      return Promise.all(Array.from({ length: clients }, (_, c) => sys.client(server, sid, r, c, r * clients + c, stamps, protocol)))
    }),
  )
  specs.forEach((room, r) => room.forEach((spec, c) => (c === 0 && measuredRooms.has(r) ? measuring : light).push(spec)))
  // As many measuring threads as the plan needs, the measuring clients dealt evenly over them.
  const threads = []
  const measuringThreads = Math.ceil(measuring.length / plan.perThread)
  for (let t = 0; t < measuringThreads; t++) threads.push({ name: `measure ${t + 1}`, full: measuring.filter((_, i) => i % measuringThreads === t), light: [] })
  for (let t = 0; t < senderThreads; t++) threads.push({ name: `send ${t + 1}`, full: [], light: light.filter((_, i) => i % senderThreads === t) })
  const gen = startThreads(system, rate, threads)
  const ready = await gen.ask('ready')
  const failed = ready.find((r) => r.error)
  if (failed) {
    await gen.stop()
    await server.stop()
    throw new Error(`${sys.label}: a client could not join: ${failed.error}`)
  }
  const loaded = processStats(server.pid)
  await gen.ask('start')
  await sleep(WARM_UP_MS)
  await server.trace?.() // timings of the warm-up are dropped
  await gen.ask('measure')
  const before = processStats(server.pid)
  // Session Kit's PostgreSQL backends: the database's share of the work, beside the server's.
  const db = databaseBackends(server.databaseUrl)
  const dbBefore = db?.cpu()
  const machineBefore = machineTicks()
  const genBefore = process.cpuUsage()
  const mainLoad = threadLoadStart()
  const t0 = performance.now()
  await sleep(seconds * 1000)
  const windowS = (performance.now() - t0) / 1000
  const stopped = await gen.ask('stop-measure')
  const after = processStats(server.pid)
  const dbAfter = db?.cpu()
  const machineAfter = machineTicks()
  const genCpu = process.cpuUsage(genBefore)
  const mainUtil = threadLoadSince(mainLoad)
  const trace = await server.trace?.()
  const reports = await gen.ask('report')
  await gen.stop()
  await server.stop()
  const keys = stopped.reduce((n, s) => n + s.typed, 0)
  const threadLoad = threads.map((t, i) => ({ name: t.name, clients: t.full.length + t.light.length, elu: +stopped[i].elu.toFixed(3), cpu: +stopped[i].cpu.toFixed(3) }))
  threadLoad.push({ name: 'main', clients: 0, elu: +mainUtil.elu.toFixed(3), cpu: +mainUtil.cpu.toFixed(3) })
  const invalid = threadLoad.map(overloaded).filter(Boolean)
  const all = (k) => reports.flatMap((r) => r[k])
  const latency = summarize(all('latencies'))
  if (!latency.n) invalid.push('no latency samples')
  // Each measuring client should see every keystroke its room's other typists sent in the window;
  // those still missing after the drain are not in the percentiles, which then understate.
  const expectedSamples = Math.round((keys * (clients - 1) * measuring.length) / (rooms * clients))
  // (Typists type at random: a shortfall within three standard deviations of a Poisson count is chance.)
  const receivedShare = expectedSamples ? latency.n / expectedSamples : 1
  const missing = receivedShare < 0.95 && latency.n < expectedSamples - 3 * Math.sqrt(expectedSamples) ? [`only ${Math.round(receivedShare * 100)} % of the measured keystrokes arrived within ${DRAIN_MS / 1000} s of the window: the percentiles understate`] : []
  const machineBusyPercent = +(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(1)
  const serverCpuPercent = +(((after.cpu - before.cpu) / windowS) * 100).toFixed(1)
  const loadGeneratorCpuPercent = +(((genCpu.user + genCpu.system) / 1e6 / windowS) * 100).toFixed(1)
  // CPU (% of one core) used by neither the server, its database backends nor the generator: anyone else's work.
  const databaseCpuPercent = db ? +(((dbAfter - dbBefore) / windowS) * 100).toFixed(1) : 0
  const otherCpuPercent = +Math.max(0, machineBusyPercent * cpus().length - serverCpuPercent - loadGeneratorCpuPercent - databaseCpuPercent).toFixed(1)
  // Not a verdict on the generator, but a reason to distrust the run: the CPUs were all busy.
  const warnings = machineBusyPercent > MACHINE_BUSY_WARNING ? [`machine ${machineBusyPercent} % busy, ${otherCpuPercent} % of a core used by other work`] : []
  warnings.push(...missing)
  if (quiet && !quiet.quiet) warnings.push(`the machine was still ${quiet.busyPercent} % busy after waiting ${Math.round(quiet.waitedMs / 1000)} s for quiet`)
  return {
    system,
    size,
    run,
    keystrokes: keys,
    keysPerSecond: +(keys / windowS).toFixed(1),
    latency,
    expectedSamples,
    breakdown: {
      toClient: summarize(all('arrivals')),
      apply: summarize(all('applies')),
      // Frame received → relay written on the server, every change of every room (undefined: not reported).
      server: trace ? summarize(trace.map((t) => t.relayedAt - t.receivedAt)) : undefined,
    },
    cpuPerKeystrokeMs: +(((after.cpu - before.cpu) * 1000) / keys).toFixed(3),
    serverCpuPercent,
    databaseCpuPerKeystrokeMs: db ? +(((dbAfter - dbBefore) * 1000) / keys).toFixed(3) : undefined,
    rssMB: +(after.rss / 2 ** 20).toFixed(1),
    memoryPerRoomMB: +((loaded.rss - base.rss) / 2 ** 20 / rooms).toFixed(2),
    measuringClients: measuring.length,
    threads: threadLoad,
    // process.cpuUsage() counts every thread of the generator process.
    loadGeneratorCpuPercent,
    machineBusyPercent,
    otherCpuPercent,
    waitedForQuietMs: quiet?.waitedMs,
    unexpectedCloses: reports.reduce((n, r) => n + r.closed, 0),
    invalid,
    warnings,
  }
}

const ratio = (a, b) => (b > 0 ? +(a / b).toFixed(2) : NaN)
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (!s.length) return NaN
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–')

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

/** Before the first run: does this server build speak protocol 2? If not, protocol 1 is used. */
async function effectiveProtocol(requested) {
  if (requested === 1) return { protocol: 1, note: 'protocol 1 (asked for)' }
  const server = await startServer()
  try {
    const sid = 'bench-protocol-check'
    await createSession(server.url, sid, { 'main.js': 'x' })
    const token = await mintToken({ sid, role: 'learner', sub: 'protocol-check', name: 'Check' }, SECRET, { ttl: '1h' })
    const check = await speaksProtocol2(server.url, sid, token)
    if (check.ok) return { protocol: 2, note: 'protocol 2, full mode (pushes without waiting; no heads-only answers)' }
    return { protocol: 1, note: `protocol 1: protocol 2 was asked for but the server does not speak it — ${check.why}` }
  } finally {
    await server.stop()
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
      runs: { type: 'string', default: '3' },
      protocol: { type: 'string', default: '2' },
      measurers: { type: 'string' },
      'sender-threads': { type: 'string', default: '2' },
      'quiet-wait': { type: 'string', default: '5' },
      systems: { type: 'string', default: 'session-kit,hocuspocus' },
    },
    strict: false,
  })
  const cfg = { rooms: Number(values.rooms), clients: Number(values.clients), rate: Number(values.rate), seconds: Number(values.seconds) }
  const runs = Number(values.runs)
  const senderThreads = Number(values['sender-threads'])
  const quietWaitMs = Number(values['quiet-wait']) * 1000
  const sizes = String(values.sizes).split(',').map(Number)
  const systems = String(values.systems).split(',')
  for (const s of systems) if (!SYSTEMS[s]) throw new Error(`unknown system "${s}"; available: ${Object.keys(SYSTEMS).join(', ')}`)
  if (!['1', '2'].includes(String(values.protocol))) throw new Error('--protocol is 1 or 2')
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
  const proto = systems.includes('session-kit') ? await effectiveProtocol(Number(values.protocol)) : { protocol: Number(values.protocol), note: '' }
  console.log(`${cfg.rooms} rooms × ${cfg.clients} clients at ${cfg.rate} keys/s, ${cfg.seconds} s measured per run, ${runs} alternating runs per file size and system`)
  if (systems.includes('session-kit')) {
    console.log(`Session Kit: every change verified and persisted to ${database === 'postgres' ? 'PostgreSQL' : 'PGlite'} before it is acknowledged; signed token checked at join, role on every message`)
    console.log(`Session Kit clients speak ${proto.note}`)
  }
  if (hocuspocus) console.log(`Hocuspocus ${hocuspocus.server} + Yjs ${hocuspocus.yjs}: in memory, no persistence (its best case), no authentication hook, library defaults (debounce ${hocuspocus.settings.debounce} ms, maxDebounce ${hocuspocus.settings.maxDebounce} ms, Yjs gc ${hocuspocus.settings.gc ? 'on' : 'off'})`)
  console.log(`Load generator: light senders over ${senderThreads} threads, measuring clients planned at ≤ ${THREAD_PLAN * 100} % of a thread; a run is INVALID when any generator thread or the main thread is > ${ELU_LIMIT * 100} % busy (event-loop utilisation)`)
  const results = []
  const plans = {}
  for (const size of sizes) {
    const plan = measuringPlan({ ...cfg, size, measurers: values.measurers ? Number(values.measurers) : undefined })
    plans[size] = plan
    console.log(`\n${size} characters: one remote keystroke costs an Automerge client ≈ ${plan.applyMs} ms (×${REAL_COST} in a run) → ${plan.count} measuring client(s), ${plan.perThread} per thread (≈ ${Math.round(plan.loadPerClient * 100)} % of a thread each)`)
    if (plan.warning) console.log(`  note: ${plan.warning}`)
    // Systems alternate within each size, so a busy spell on a shared machine hits both alike.
    for (let run = 1; run <= runs; run++) {
      for (const system of systems) {
        const r = await runSize({ ...cfg, system, size, plan, senderThreads, protocol: proto.protocol, run, quietWaitMs })
        results.push(r)
        const busiest = r.threads.reduce((a, b) => (b.elu > a.elu ? b : a))
        console.log(`  run ${run} ${SYSTEMS[system].short}: p50 ${ms(r.latency.p50)} p99 ${ms(r.latency.p99)} ms (${r.latency.n} samples), server ${r.cpuPerKeystrokeMs} ms CPU/key, busiest thread ${busiest.name} ${(busiest.elu * 100).toFixed(0)} % (CPU ${(busiest.cpu * 100).toFixed(0)} %), machine ${r.machineBusyPercent} % busy${r.invalid.length ? `  INVALID: ${r.invalid.join('; ')}` : ''}${r.warnings.length ? `  (warning: ${r.warnings.join('; ')})` : ''}`)
      }
    }
  }

  console.log('\nEvery run\n')
  table(
    results.map((r) => ({
      system: SYSTEMS[r.system].label,
      'file chars': r.size,
      run: r.run,
      'keys/s': r.keysPerSecond,
      'p50 ms': ms(r.latency.p50),
      'p95 ms': ms(r.latency.p95),
      'p99 ms': ms(r.latency.p99),
      samples: r.latency.n,
      'server CPU/key ms': r.cpuPerKeystrokeMs,
      'server CPU %': r.serverCpuPercent,
      'DB CPU/key ms': r.databaseCpuPerKeystrokeMs ?? '–',
      'RSS MB': r.rssMB,
      'MB/room': r.memoryPerRoomMB,
      'threads ELU/CPU %': r.threads.map((t) => `${Math.round(t.elu * 100)}:${Math.round(t.cpu * 100)}`).join(' '),
      'gen CPU %': r.loadGeneratorCpuPercent,
      'machine busy %': r.machineBusyPercent,
      'other CPU %': r.otherCpuPercent,
      closes: r.unexpectedCloses,
      valid: r.invalid.length ? 'INVALID' : 'ok',
    })),
  )
  console.log('(threads ELU/CPU %: event-loop utilisation and the thread\'s own CPU — measuring threads, then sender threads, then the main thread; other CPU: % of one core used by neither the server, its database backends nor the generator — anything else on the machine, PostgreSQL\'s shared processes included)')

  // Medians over runs, per size and system.
  const summary = []
  for (const size of sizes) {
    for (const system of systems) {
      const rs = results.filter((r) => r.size === size && r.system === system)
      const m = (f) => median(rs.map(f))
      summary.push({
        system,
        size,
        runs: rs.length,
        validRuns: rs.filter((r) => !r.invalid.length).length,
        warnedRuns: rs.filter((r) => r.warnings.length).length,
        p50: m((r) => r.latency.p50),
        p95: m((r) => r.latency.p95),
        p99: m((r) => r.latency.p99),
        cpuPerKeystrokeMs: m((r) => r.cpuPerKeystrokeMs),
        serverCpuPercent: m((r) => r.serverCpuPercent),
        databaseCpuPerKeystrokeMs: rs.every((r) => r.databaseCpuPerKeystrokeMs !== undefined) ? m((r) => r.databaseCpuPerKeystrokeMs) : undefined,
        toClientP50: m((r) => r.breakdown.toClient.p50),
        toClientP99: m((r) => r.breakdown.toClient.p99),
        applyP50: m((r) => r.breakdown.apply.p50),
        applyP99: m((r) => r.breakdown.apply.p99),
        serverP50: rs.every((r) => r.breakdown.server) ? m((r) => r.breakdown.server.p50) : undefined,
        serverP99: rs.every((r) => r.breakdown.server) ? m((r) => r.breakdown.server.p99) : undefined,
      })
    }
  }
  console.log(`\nMedians of ${runs} runs\n`)
  table(
    summary.map((s) => ({
      system: SYSTEMS[s.system].label,
      'file chars': s.size,
      'valid runs': `${s.validRuns}/${s.runs}`,
      'runs with warnings': s.warnedRuns,
      'p50 ms': ms(s.p50),
      'p95 ms': ms(s.p95),
      'p99 ms': ms(s.p99),
      'server CPU/key ms': s.cpuPerKeystrokeMs.toFixed(3),
      'server CPU %': s.serverCpuPercent.toFixed(1),
      'DB CPU/key ms': s.databaseCpuPerKeystrokeMs?.toFixed(3) ?? '–',
    })),
  )

  console.log('\nWhere the time goes (medians of runs; p50 / p99 ms)\n')
  table(
    summary.map((s) => ({
      system: SYSTEMS[s.system].label,
      'file chars': s.size,
      total: `${ms(s.p50)} / ${ms(s.p99)}`,
      'server (received → relayed)': s.serverP50 === undefined ? 'not reported by this build' : `${ms(s.serverP50)} / ${ms(s.serverP99)}`,
      'network + queues ≈ p50': s.serverP50 === undefined ? `≤ ${ms(s.toClientP50)} (server part unknown)` : s.toClientP50 >= s.serverP50 ? ms(s.toClientP50 - s.serverP50) : '– (server median above; see note)',
      'sent → in client': `${ms(s.toClientP50)} / ${ms(s.toClientP99)}`,
      'client (wait + apply)': `${ms(s.applyP50)} / ${ms(s.applyP99)}`,
    })),
  )
  console.log('(total = sent → in client + client, per sample; the server part comes from the server process over every accepted batch, so network is the difference of medians — meaningless when the server is overloaded and late keystrokes fall out of the client samples)')
  if (summary.some((s) => s.system === 'session-kit' && s.serverP50 === undefined)) console.log('Session Kit server part: not reported by this build (it keeps no timings with SESSION_KIT_TRACE=1 yet)')

  const ratios = []
  for (const size of sizes) {
    const sk = summary.find((s) => s.system === 'session-kit' && s.size === size)
    const hp = summary.find((s) => s.system === 'hocuspocus' && s.size === size)
    if (!sk || !hp) continue
    const q = { size, p50: ratio(sk.p50, hp.p50), p95: ratio(sk.p95, hp.p95), p99: ratio(sk.p99, hp.p99), cpuPerKeystroke: ratio(sk.cpuPerKeystrokeMs, hp.cpuPerKeystrokeMs), valid: sk.validRuns === sk.runs && hp.validRuns === hp.runs, warned: sk.warnedRuns + hp.warnedRuns }
    q.meetsTargets = q.p50 <= 3 && q.p99 <= 3 && q.cpuPerKeystroke <= 1
    ratios.push(q)
  }
  if (ratios.length) {
    const mark = (x, limit) => `${x}× ${x <= limit ? 'ok' : 'OVER'}`
    console.log('\nSession Kit / Hocuspocus, ratios of the medians (Hocuspocus in memory, Session Kit persisting)\n')
    table(
      ratios.map((q) => ({
        'file chars': q.size,
        'p50 (≤ 3×)': mark(q.p50, 3),
        'p95': `${q.p95}×`,
        'p99 (≤ 3×)': mark(q.p99, 3),
        'server CPU/key (≤ 1.0×)': mark(q.cpuPerKeystroke, 1),
        runs: `${q.valid ? 'all valid' : 'INVALID runs included'}${q.warned ? `, ${q.warned} with warnings` : ''}`,
      })),
    )
  }
  const file = writeResult('sync', {
    config: { ...cfg, runs, systems, senderThreads, protocolRequested: Number(values.protocol), protocol: proto.protocol, protocolNote: proto.note, eluLimit: ELU_LIMIT },
    targets: { p50Ratio: 3, p99Ratio: 3, cpuPerKeystrokeRatio: 1 },
    database,
    hocuspocus,
    plans,
    results,
    summary,
    ratios,
    valid: results.every((r) => !r.invalid.length),
  })
  console.log(`\nwritten to ${file}`)
}
