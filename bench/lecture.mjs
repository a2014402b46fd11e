// Lecture benchmark: one room, one instructor typing into a 10,000-character file, 30 learners
// moving their cursors, and 300 viewers watching — the classroom DESIGN.md's "300 light viewers,
// p99 < 50 ms" target speaks of.
//
// Phases (each on a fresh server):
// - view (A): Session Kit, the 300 viewers are light viewers (protocol 2, `mode: "view"`): they
//   get the text as JSON (`text`, then `splices` frames) and apply splices to strings. A server
//   that does not offer view mode is detected with one viewer first; the phase is then skipped
//   with a message saying why.
// - full (B): Session Kit, the 300 viewers are full Automerge peers (protocol --protocol, full
//   mode). Every one of them takes part in the sync protocol as a real client does (protocol 1:
//   answers every push), but only --replicas of them keep an Automerge document and apply what
//   they receive: 300 replicas applying every keystroke (≈ 3 ms each at 10,000 characters) would
//   need several cores and measure the generator, not the server. The others decode each change
//   (to read its send time) without applying it.
// - hocuspocus: the same room on Hocuspocus + Yjs, all 331 as full Yjs peers (Yjs applies are
//   cheap enough for every viewer to keep a document); learners' cursors are Yjs awareness.
//
// Learners are peers that may edit but only move their cursors, a few times a second
// (`{type:'presence', cursor:{file, anchor:n, head:n}}`; on Hocuspocus an awareness update).
//
// How a viewer knows when a keystroke was sent — exactly, for every kind of viewer:
// - The instructor only ever inserts one character per keystroke (never deletes), and before each
//   keystroke writes its send time into a SharedArrayBuffer every thread of this process sees.
// - Light viewers: the instructor's k-th keystroke (from 0, counted from the start of typing) is
//   the k-th character inserted into main.js after the viewer's `text` frame, whether the server
//   sends one splice per keystroke or merges several: so a viewer counts inserted characters and
//   reads stamps[k]. Nobody else edits, so the count cannot drift; a splice that deletes anything
//   is counted as an anomaly and reported.
// - Full Automerge viewers: the change's message carries its send time (as in sync.mjs).
// - Yjs viewers: the instructor's k-th inserted character has Yjs clock k; stamps are kept by
//   clock and read without being consumed (all 300 viewers read each one).
// A sample is (keystroke, viewer); "last viewer" is, per keystroke, when the slowest viewer had it.
//
// Measures, over a window after a warm-up, for keystrokes sent inside it:
// - latency keystroke → applied in a viewer (p50/p95/p99), split into sent → in the viewer's hands
//   and the viewer's apply (splicing strings, receiveSyncMessage, Y.applyUpdate);
// - server CPU (%, and ms per keystroke) from /proc;
// - bytes: what the server process wrote (/proc/<pid>/io wchar: every socket, the database's
//   included) and what all clients received (WebSocket payloads, document frames vs events such
//   as presence), per keystroke;
// - every load-generator thread's event-loop utilisation; a run with a thread above 50 % is
//   INVALID (its latencies would measure the generator's queue).
//
//   npm run bench -- lecture [--viewers 300] [--learners 30] [--rate 5] [--size 10000] [--seconds 20]
//                            [--phases view,full,hocuspocus] [--protocol 1|2] [--replicas 30]
//                            [--viewer-threads 4] [--cursor-rate 3] [--quiet-wait 5]
//
// Before each phase the bench waits up to --quiet-wait seconds for the machine to be quiet; a
// phase on a machine over 90 % busy carries a warning with the CPU used outside the server and
// the generator (PostgreSQL included).
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import * as Y from 'yjs'
import { mintToken } from '@session-kit/server'
import { FullPeer, LightPeer, speaksProtocol2, ViewPeer, within } from './clients.mjs'
import { startHocuspocus, stampBuffer, YjsClient } from './hocuspocus.mjs'
import { askWorkers, createSession, databaseBackends, ELU_LIMIT, machineTicks, overloaded, processStats, processWrites, SECRET, sleep, starterText, startServer, summarize, table, threadLoadSince, threadLoadStart, waitForQuiet, writeResult } from './lib.mjs'

const now = () => performance.timeOrigin + performance.now()
const FILE = 'main.js'
const SID = 'lecture'
const WARM_UP_MS = 3000
const DRAIN_MS = 2000
/** Viewers joining at once per thread (300 hellos in one burst would measure the join, not the lecture). */
const JOIN_BATCH = 25
/** Target of DESIGN.md for light viewers. */
const TARGET_P99_MS = 50
/** Send times by keystroke number (Session Kit) or by the instructor's Yjs clock (Hocuspocus). */
const STAMPS = 8192

const expGap = (rate) => Math.min(2000, -Math.log(1 - Math.random()) * (1000 / rate))

// ---- the load generator's threads ------------------------------------------------------------------

/**
 * What one viewer thread measures: per sample the latency, its arrival part and apply part; per
 * keystroke (by its key) the slowest viewer of this thread.
 */
class Tracker {
  constructor() {
    this.latencies = []
    this.arrivals = []
    this.applies = []
    this.slowest = new Map()
    this.measuring = false
    this.from = Infinity
    this.to = Infinity
    this.anomalies = 0
  }

  inWindow(sent) {
    return this.measuring && sent >= this.from && sent <= this.to
  }

  /** A keystroke (`key`, sent at `sent`) arrived at `arrived` and was applied in `applyMs`. */
  sample(key, sent, arrived, applyMs) {
    if (!this.inWindow(sent)) return
    const total = arrived + applyMs - sent
    this.latencies.push(total)
    this.arrivals.push(arrived - sent)
    this.applies.push(applyMs)
    this.slowest.set(key, Math.max(this.slowest.get(key) ?? 0, total))
  }
}

/** A light viewer that maps the characters each splice inserts to the instructor's keystrokes. */
function lightViewer(spec, tracker, stamps) {
  const v = new ViewPeer(spec.url, SID, spec.token)
  let typed = 0 // characters the instructor inserted so far, as this viewer has seen them
  let pending = []
  v.onSplices = (splices, at) => {
    for (const s of splices) {
      if (s.file !== FILE) continue
      if (s.delete) tracker.anomalies++
      for (let i = 0; i < s.insert.length; i++, typed++) pending.push([typed, stamps[typed % STAMPS], at])
    }
    v.seen = typed
  }
  v.onApplied = (applyMs) => {
    for (const [k, sent, at] of pending) tracker.sample(k, sent, at, applyMs)
    pending = []
  }
  return v
}

/** A full Automerge viewer: a replica that applies everything, or a light one that only decodes. */
function fullViewer(spec, tracker, replica) {
  const options = { protocol: spec.protocol }
  if (replica) {
    const v = new FullPeer(spec.url, SID, spec.token, { ...options, batch: true })
    let pending = []
    v.onChange = (change, at) => pending.push([change.message, Number(change.message), at])
    v.onApplied = (applyMs) => {
      for (const [k, sent, at] of pending) tracker.sample(k, sent, at, applyMs)
      pending = []
    }
    return v
  }
  const v = new LightPeer(spec.url, SID, spec.token, options)
  v.onChange = (change, at) => tracker.sample(change.message, Number(change.message), at, 0)
  return v
}

/** A full Yjs viewer: applies every update; the instructor's characters are found by their clock. */
function hocuspocusViewer(spec, tracker) {
  return new YjsClient({ url: spec.url, room: SID, slot: spec.slot, stamps: spec.stamps, tracker, consume: false })
}

/** Joins `make(spec)` for every spec, `batch` at a time, each batch once the one before is ready. */
async function joinAll(specs, make, batch = JOIN_BATCH) {
  const clients = []
  for (let i = 0; i < specs.length; i += batch) {
    const group = specs.slice(i, i + batch).map(make)
    clients.push(...group)
    await Promise.all(group.map((c) => c.ready))
  }
  return clients
}

const bytesOf = (clients) => clients.reduce((b, c) => ({ doc: b.doc + c.bytesIn.doc, events: b.events + c.bytesIn.events }), { doc: 0, events: 0 })

if (!isMainThread && workerData?.bench === 'lecture') {
  const { role, phase, specs, rate, cursorRate, size } = workerData
  const stamps = new Float64Array(workerData.stamps)
  const tracker = new Tracker()
  let clients = []
  let typed = 0
  let timers = []
  let load0
  let typed0 = 0
  let bytes0 = { doc: 0, events: 0 }

  async function join() {
    if (role === 'instructor') {
      const [spec] = specs
      if (phase === 'hocuspocus') {
        const c = new YjsClient({ url: spec.url, room: SID, slot: 0, stamps: workerData.stamps, tracker: { measuring: false } })
        await c.ready
        c.cursor = Math.floor(c.text().length / 2)
        // One character at the cursor, its send time kept by the Yjs clock it will carry.
        c.type = () => {
          const clock = Y.getState(c.doc.store, c.doc.clientID)
          stamps[YjsClient.stampIndex(0, clock)] = now()
          c.text().insert(c.cursor++, Math.random() < 0.1 ? '\n' : String.fromCharCode(97 + Math.floor(Math.random() * 26)))
          typed++
        }
        clients = [c]
      } else {
        const c = new FullPeer(spec.url, SID, spec.token, { protocol: spec.protocol })
        await c.ready
        c.cursor = Math.floor(c.text().length / 2)
        c.type = () => {
          const at = now()
          stamps[typed % STAMPS] = at
          c.typeChar(String(at))
          typed++
        }
        clients = [c]
      }
    } else if (role === 'learners') {
      clients = await joinAll(specs, (spec) =>
        phase === 'hocuspocus' ? new YjsClient({ url: spec.url, room: SID, slot: spec.slot, stamps: spec.stamps, tracker: { measuring: false }, awareness: true }) : new LightPeer(spec.url, SID, spec.token, { protocol: spec.protocol }),
      )
    } else {
      clients = await joinAll(specs, (spec) => {
        if (phase === 'view') return lightViewer(spec, tracker, stamps)
        if (phase === 'full') return fullViewer(spec, tracker, spec.replica)
        return hocuspocusViewer(spec, tracker)
      })
    }
  }

  function start() {
    if (role === 'instructor') {
      const c = clients[0]
      const tick = () => {
        c.type()
        timers[0] = setTimeout(tick, expGap(rate))
      }
      timers[0] = setTimeout(tick, expGap(rate))
    } else if (role === 'learners') {
      clients.forEach((c, i) => {
        const tick = () => {
          const n = Math.floor(Math.random() * size)
          if (phase === 'hocuspocus') c.moveCursor(n)
          else c.send({ type: 'presence', cursor: { file: FILE, anchor: n, head: n } })
          timers[i] = setTimeout(tick, expGap(cursorRate))
        }
        timers[i] = setTimeout(tick, Math.random() * (1000 / cursorRate))
      })
    }
  }

  parentPort.on('message', async (type) => {
    if (type === 'ready') {
      try {
        await join()
        const refused = clients.find((c) => c.refused)
        parentPort.postMessage(refused ? { error: refused.refused } : { ok: true })
      } catch (e) {
        parentPort.postMessage({ error: clients.find((c) => c.refused)?.refused ?? e.message })
      }
    } else if (type === 'start') {
      start()
      parentPort.postMessage({ ok: true })
    } else if (type === 'measure') {
      Object.assign(tracker, { measuring: true, from: now(), to: Infinity })
      load0 = threadLoadStart()
      typed0 = typed
      bytes0 = bytesOf(clients)
      parentPort.postMessage({ ok: true })
    } else if (type === 'stop-measure') {
      tracker.to = now()
      const b = bytesOf(clients)
      parentPort.postMessage({ ...threadLoadSince(load0), typed: typed - typed0, bytes: { doc: b.doc - bytes0.doc, events: b.events - bytes0.events } })
    } else if (type === 'report') {
      await sleep(DRAIN_MS)
      for (const t of timers) clearTimeout(t)
      const { latencies, arrivals, applies, slowest, anomalies } = tracker
      // Light viewers: the most instructor characters any of them counted (never more than were typed).
      const seen = Math.max(0, ...clients.map((c) => c.seen ?? 0))
      parentPort.postMessage({ latencies, arrivals, applies, slowest: [...slowest], anomalies, seen, typed, closed: clients.filter((c) => (typeof c.closed === 'number' ? c.closed !== 1005 : c.closed && !c.closed.expected)).length })
      for (const c of clients) (c.stop ?? c.close).call(c)
    }
  })
}

function startThreads(phase, threads, common) {
  const workers = threads.map((t) => new Worker(new URL(import.meta.url), { workerData: { bench: 'lecture', phase, role: t.role, specs: t.specs, ...common } }))
  return askWorkers(workers)
}

// ---- one phase -------------------------------------------------------------------------------------

const PHASES = {
  view: { label: 'Session Kit, light viewers (protocol 2 view)', system: 'Session Kit' },
  full: { label: 'Session Kit, full Automerge viewers', system: 'Session Kit' },
  hocuspocus: { label: 'Hocuspocus + Yjs, full Yjs viewers', system: 'Hocuspocus' },
}

async function runPhase(phase, cfg) {
  const hp = phase === 'hocuspocus'
  const quiet = cfg.quietWaitMs > 0 ? await waitForQuiet({ maxMs: cfg.quietWaitMs }) : undefined
  const server = hp ? await startHocuspocus({ starterSize: cfg.size }) : await startServer()
  try {
    const token = (sub, role) => mintToken({ sid: SID, sub, role, name: sub }, SECRET, { ttl: '2h' })
    // Only the instructor's keystrokes are stamped (Yjs: slot 0).
    const stampsBuf = hp ? stampBuffer(1) : new SharedArrayBuffer(STAMPS * Float64Array.BYTES_PER_ELEMENT)
    let protocol = cfg.protocol
    let note = ''
    if (!hp) {
      await createSession(server.url, SID, { [FILE]: starterText(cfg.size) })
      // Is this phase possible on this build? One client first, with a clear message if not.
      if (phase === 'view') {
        const probe = new ViewPeer(server.url, SID, await token('view-check', 'observer'))
        const ok = await within(probe.ready.then(() => true, () => false), 10_000)
        const why = probe.refused ?? (probe.closed ? `the hello was refused (${probe.closed.code} ${probe.closed.reason})` : 'no text frame came')
        probe.close()
        if (!ok) return { phase, skipped: `this server does not offer light viewers yet: ${why}. Phase A needs the server side of protocol 2 (a commit "server: protocol 2"; rebuild with npm run build:ts).` }
        note = 'viewers: protocol 2, mode "view"'
      } else if (protocol === 2) {
        const check = await speaksProtocol2(server.url, SID, await token('protocol-check', 'observer'))
        if (!check.ok) {
          protocol = 1
          note = `protocol 1: protocol 2 was asked for but the server does not speak it — ${check.why}`
        } else note = 'protocol 2, full mode'
      } else note = 'protocol 1'
    } else note = 'Yjs peers, awareness cursors'
    // Specs: who each client is. Slots number the Yjs clients (instructor 0, then learners, then viewers).
    const spec = async (sub, role, slot) => (hp ? { url: server.url, slot, stamps: stampsBuf } : { url: server.url, token: await token(sub, role), protocol })
    const instructor = [await spec('bench-instructor', 'instructor', 0)]
    const learners = []
    for (let i = 0; i < cfg.learners; i++) learners.push(await spec(`learner-${i}`, 'learner', 1 + i))
    // Phase B: the viewers that keep a replica, the same number in every viewer thread (viewer i
    // goes to thread i % threads): the first `replicas` viewers.
    const viewers = []
    for (let i = 0; i < cfg.viewers; i++) viewers.push({ ...(await spec(`viewer-${i}`, 'observer', 1 + cfg.learners + i)), replica: phase === 'full' && i < cfg.replicas })
    const replicas = viewers.filter((v) => v.replica).length
    const threads = [
      { role: 'instructor', name: 'instructor', specs: instructor },
      { role: 'learners', name: 'learners', specs: learners },
      ...Array.from({ length: cfg.viewerThreads }, (_, t) => ({ role: 'viewers', name: `viewers ${t + 1}`, specs: viewers.filter((_, i) => i % cfg.viewerThreads === t) })),
    ]
    const gen = startThreads(phase, threads, { rate: cfg.rate, cursorRate: cfg.cursorRate, size: cfg.size, stamps: stampsBuf })
    try {
      // The instructor first (it holds the document the others watch), then everyone else.
      const ready = [...(await gen.ask('ready'))]
      const failed = ready.find((r) => r.error)
      if (failed) {
        if (phase === 'view') return { phase, skipped: `light viewers could not join: ${failed.error}` }
        throw new Error(`${PHASES[phase].label}: a client could not join: ${failed.error}`)
      }
      await gen.ask('start')
      await sleep(WARM_UP_MS)
      await gen.ask('measure')
      const before = processStats(server.pid)
      const wroteBefore = processWrites(server.pid)
      // Session Kit's PostgreSQL backends: the database's share of the work.
      const db = hp ? undefined : databaseBackends(server.databaseUrl)
      const dbBefore = db?.cpu()
      const machineBefore = machineTicks()
      const mainLoad = threadLoadStart()
      const genBefore = process.cpuUsage()
      const t0 = performance.now()
      await sleep(cfg.seconds * 1000)
      const windowS = (performance.now() - t0) / 1000
      const stopped = await gen.ask('stop-measure')
      const after = processStats(server.pid)
      const wrote = processWrites(server.pid) - wroteBefore
      const dbAfter = db?.cpu()
      const machineAfter = machineTicks()
      const mainUtil = threadLoadSince(mainLoad)
      const genCpu = process.cpuUsage(genBefore)
      const reports = await gen.ask('report')
      const keys = stopped[0].typed
      const threadLoad = threads.map((t, i) => ({ name: t.name, clients: t.specs.length, elu: +stopped[i].elu.toFixed(3), cpu: +stopped[i].cpu.toFixed(3) }))
      threadLoad.push({ name: 'main', clients: 0, elu: +mainUtil.elu.toFixed(3), cpu: +mainUtil.cpu.toFixed(3) })
      const invalid = threadLoad.map(overloaded).filter(Boolean)
      const viewerReports = reports.slice(2)
      const all = (k) => viewerReports.flatMap((r) => r[k])
      const latency = summarize(all('latencies'))
      if (!latency.n) invalid.push('no latency samples')
      // The slowest viewer per keystroke, over every viewer thread.
      const slowest = new Map()
      for (const r of viewerReports) for (const [k, v] of r.slowest) slowest.set(k, Math.max(slowest.get(k) ?? 0, v))
      const bytes = stopped.reduce((b, s) => ({ doc: b.doc + s.bytes.doc, events: b.events + s.bytes.events }), { doc: 0, events: 0 })
      const viewerBytes = stopped.slice(2).reduce((b, s) => ({ doc: b.doc + s.bytes.doc, events: b.events + s.bytes.events }), { doc: 0, events: 0 })
      const anomalies = reports.reduce((n, r) => n + (r.anomalies ?? 0), 0)
      const machineBusyPercent = +(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(1)
      const serverCpuPercent = +(((after.cpu - before.cpu) / windowS) * 100).toFixed(1)
      const loadGeneratorCpuPercent = +(((genCpu.user + genCpu.system) / 1e6 / windowS) * 100).toFixed(1)
      // CPU (% of one core) used by neither the server, its database backends nor the generator: anyone else's work.
      const databaseCpuPercent = db ? +(((dbAfter - dbBefore) / windowS) * 100).toFixed(1) : undefined
      const otherCpuPercent = +Math.max(0, machineBusyPercent * cpus().length - serverCpuPercent - loadGeneratorCpuPercent - (databaseCpuPercent ?? 0)).toFixed(1)
      const warnings = machineBusyPercent > 90 ? [`machine ${machineBusyPercent} % busy, ${otherCpuPercent} % of a core used by other work`] : []
      if (quiet && !quiet.quiet) warnings.push(`the machine was still ${quiet.busyPercent} % busy after waiting ${Math.round(quiet.waitedMs / 1000)} s for quiet`)
      // Every viewer should have every keystroke of the window; those missing after the drain are not in the percentiles.
      const receivedShare = keys ? latency.n / (keys * cfg.viewers) : 1
      if (receivedShare < 0.95 && keys) warnings.push(`only ${Math.round(receivedShare * 100)} % of keystroke × viewer samples arrived within ${DRAIN_MS / 1000} s of the window: the percentiles understate`)
      if (anomalies) invalid.push(`${anomalies} splices deleted text nobody typed away: the keystroke count of light viewers may be off`)
      // A light viewer that counted more characters than the instructor typed would map splices to the wrong keystrokes.
      const seen = Math.max(...viewerReports.map((r) => r.seen))
      if (seen > reports[0].typed) invalid.push(`a light viewer counted ${seen} typed characters, the instructor typed ${reports[0].typed}`)
      return {
        phase,
        label: PHASES[phase].label,
        protocol: hp ? undefined : phase === 'view' ? 2 : protocol,
        note,
        viewers: cfg.viewers,
        replicas: phase === 'full' ? replicas : undefined,
        keystrokes: keys,
        keysPerSecond: +(keys / windowS).toFixed(2),
        latency,
        lastViewer: slowest.size ? summarize([...slowest.values()]) : undefined,
        breakdown: { toViewer: summarize(all('arrivals')), apply: summarize(all('applies')) },
        serverCpuPercent,
        databaseCpuPercent,
        cpuPerKeystrokeMs: +(((after.cpu - before.cpu) * 1000) / keys).toFixed(2),
        serverWroteBytesPerKeystroke: Math.round(wrote / keys),
        clientsReceivedBytesPerKeystroke: { doc: Math.round(bytes.doc / keys), events: Math.round(bytes.events / keys) },
        docBytesPerViewerPerKeystroke: +(viewerBytes.doc / keys / cfg.viewers).toFixed(1),
        rssMB: +(after.rss / 2 ** 20).toFixed(1),
        threads: threadLoad,
        loadGeneratorCpuPercent,
        machineBusyPercent,
        otherCpuPercent,
        unexpectedCloses: reports.reduce((n, r) => n + r.closed, 0),
        invalid,
        warnings,
      }
    } finally {
      await gen.stop()
    }
  } finally {
    await server.stop()
  }
}

const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–')

export async function run(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'lecture'),
    options: {
      viewers: { type: 'string', default: '300' },
      learners: { type: 'string', default: '30' },
      rate: { type: 'string', default: '5' },
      'cursor-rate': { type: 'string', default: '3' },
      size: { type: 'string', default: '10000' },
      seconds: { type: 'string', default: '20' },
      phases: { type: 'string', default: 'view,full,hocuspocus' },
      protocol: { type: 'string', default: '2' },
      replicas: { type: 'string', default: '30' },
      'viewer-threads': { type: 'string', default: '4' },
      'quiet-wait': { type: 'string', default: '5' },
    },
    strict: false,
  })
  const cfg = {
    viewers: Number(values.viewers),
    learners: Number(values.learners),
    rate: Number(values.rate),
    cursorRate: Number(values['cursor-rate']),
    size: Number(values.size),
    seconds: Number(values.seconds),
    protocol: Number(values.protocol),
    replicas: Number(values.replicas),
    viewerThreads: Number(values['viewer-threads']),
    quietWaitMs: Number(values['quiet-wait']) * 1000,
  }
  const phases = String(values.phases).split(',')
  for (const p of phases) if (!PHASES[p]) throw new Error(`unknown phase "${p}"; available: ${Object.keys(PHASES).join(', ')}`)
  const database = process.env.DATABASE_URL ? 'postgres' : 'pglite'
  console.log(`Lecture: one instructor typing ${cfg.rate} keys/s into a ${cfg.size}-character file, ${cfg.learners} learners moving cursors ${cfg.cursorRate}×/s, ${cfg.viewers} viewers over ${cfg.viewerThreads} threads; ${cfg.seconds} s measured per phase (Session Kit on ${database})`)
  const results = []
  for (const phase of phases) {
    const r = await runPhase(phase, cfg)
    results.push(r)
    if (r.skipped) console.log(`\n${PHASES[phase].label}: SKIPPED — ${r.skipped}`)
    else console.log(`\n${r.label} (${r.note}${r.replicas !== undefined ? `; ${r.replicas} of them keep a replica and apply` : ''}): p50 ${ms(r.latency.p50)} p99 ${ms(r.latency.p99)} ms over ${r.latency.n} samples${r.invalid.length ? `  INVALID: ${r.invalid.join('; ')}` : ''}${r.warnings.length ? `  (warning: ${r.warnings.join('; ')})` : ''}`)
  }
  const done = results.filter((r) => !r.skipped)
  if (done.length) {
    console.log('\nKeystroke → every viewer\n')
    table(
      done.map((r) => ({
        phase: r.label,
        'keys/s': r.keysPerSecond,
        'p50 ms': ms(r.latency.p50),
        'p95 ms': ms(r.latency.p95),
        'p99 ms': ms(r.latency.p99),
        samples: r.latency.n,
        'last viewer p50/p99': r.lastViewer ? `${ms(r.lastViewer.p50)} / ${ms(r.lastViewer.p99)}` : '–',
        'sent → viewer p50/p99': `${ms(r.breakdown.toViewer.p50)} / ${ms(r.breakdown.toViewer.p99)}`,
        'viewer apply p50/p99': `${ms(r.breakdown.apply.p50)} / ${ms(r.breakdown.apply.p99)}`,
        target: r.phase === 'view' ? `p99 < ${TARGET_P99_MS} ms: ${r.latency.p99 < TARGET_P99_MS ? 'ok' : 'MISSED'}` : '',
        valid: r.invalid.length ? 'INVALID' : 'ok',
      })),
    )
    console.log('\nServer cost\n')
    table(
      done.map((r) => ({
        phase: r.label,
        'server CPU %': r.serverCpuPercent,
        'CPU/key ms': r.cpuPerKeystrokeMs,
        'DB CPU %': r.databaseCpuPercent ?? '–',
        'server wrote B/key': r.serverWroteBytesPerKeystroke,
        'clients got B/key (doc + events)': `${r.clientsReceivedBytesPerKeystroke.doc} + ${r.clientsReceivedBytesPerKeystroke.events}`,
        'doc B/viewer/key': r.docBytesPerViewerPerKeystroke,
        'RSS MB': r.rssMB,
        'threads ELU:CPU %': r.threads.map((t) => `${Math.round(t.elu * 100)}:${Math.round(t.cpu * 100)}`).join(' '),
        'gen CPU %': r.loadGeneratorCpuPercent,
        'machine busy %': r.machineBusyPercent,
        'other CPU %': r.otherCpuPercent,
        closes: r.unexpectedCloses,
      })),
    )
    console.log('(server wrote: /proc/<pid>/io wchar, database traffic included; DB CPU: the session\'s PostgreSQL backends; other CPU: anything else on the machine; events: presence and other JSON. threads ELU:CPU %: event-loop utilisation and own CPU of the instructor, learners, viewer threads, main)')
  }
  const file = writeResult('lecture', { config: { ...cfg, phases, eluLimit: ELU_LIMIT }, target: { lightViewersP99Ms: TARGET_P99_MS }, database, results })
  console.log(`\nwritten to ${file}`)
}
