// Classroom benchmark: the instructor's overview of an assignment (<session-classroom>) — 200
// learners' rooms, 30 learners typing at 3 keys/s. The product's target:
//   the instructor's page stays responsive (no long task > 50 ms from the stream), and the
//   server's CPU per keystroke does not grow with the number of overview panes open.
//
// Setup (each part on its own server): an assignment made with the API key (POST /v1/assignments,
// a starter main.js), 200 learners' rooms opened with learner tokens (POST …/open, tokens with an
// `assignment` claim minted with the bench secret), and 30 of those learners typing as full
// Automerge peers (protocol 2, full mode) in rooms spread over the class. Typists only insert
// characters (never delete), so a room's main.js is always the starter plus one character per
// keystroke.
//
// Part "server": the same typing with 0, 50, 200 and again 0 overview panes open (--panes), each
// pane a light viewer (protocol 2, `mode: "view"`) of one learner's room with an instructor's room
// token (POST …/rooms/:userId/open with the API key), panes spread evenly over all the rooms: at
// 200 every typed room has one, at 50 some do. The phases follow one another on one server, the
// typists typing throughout (from a warm-up before the first). Per phase, over a window of
// --seconds after a warm-up:
// - server CPU (%, and ms per keystroke) from /proc, bytes it wrote per keystroke, its database's
//   CPU when on PostgreSQL;
// - keystroke → pane latency (p50/p99) in the panes of typed rooms: a pane knows which keystroke a
//   splice carries from how many characters its room held when its `text` frame came (length −
//   starter length) and how many have been inserted since; the typist wrote each keystroke's send
//   time in a SharedArrayBuffer every thread reads;
// - every load-generator thread's event-loop utilisation: above ELU_LIMIT (lib.mjs) the phase is
//   INVALID (the generator measured its own queue).
// Then the ratio CPU/keystroke at the most panes vs none (the mean of the phases with none: by
// default one before and one after, as the server's CPU per keystroke keeps falling for a while
// after it starts, which would flatter a ratio against a first phase only). Panes on rooms nobody types in should cost
// nothing per keystroke; a pane on a typed room costs one splice frame per keystroke, hence the
// tolerance of TARGET_CPU_RATIO rather than exactly 1.
//
// Part "page": Chromium loads a host page (its own origin, a strict Content-Security-Policy) with
// `<session-classroom assignment token server>` from the CDN bundle, showing every room while the
// typists type. Over a window of --seconds (longer if the scroll needs it), a third of the way
// into which the page is scrolled through the whole grid once (mouse wheel), it records the main
// thread's long tasks (PerformanceObserver 'longtask'; and from a Chromium trace each task's CPU
// time, as bench/browser.mjs does, since on a busy machine wall time counts waiting for a core)
// and how many panes stream (the page's open sync WebSockets, seen by Playwright): only tiles on
// or near the screen may stream, so after the scroll the count must fall back to the tiles near
// the viewport. Long tasks while the page loads are reported apart; the load generator's threads
// are checked as in the server part.
//
// Needs the built server and, for the page, the CDN bundle with <session-classroom>: `npm run build`.
//   npm run bench -- classroom [--rooms 200] [--typists 30] [--rate 3] [--seconds 20] [--panes 0,50,200,0]
//                              [--size 1500] [--parts server,page] [--viewer-threads 2] [--quiet-wait 5]
//                              [--cdn packages/elements/dist/cdn]
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { mintToken } from '@session-kit/server'
import { FullPeer, startTyping, stopTyping, ViewPeer } from './clients.mjs'
import { API_KEY, askWorkers, databaseBackends, ELU_LIMIT, machineTicks, overloaded, processStats, processWrites, root, SECRET, sleep, starterText, startServer, summarize, table, threadLoadSince, threadLoadStart, waitForQuiet, writeResult } from './lib.mjs'

const now = () => performance.timeOrigin + performance.now()
const FILE = 'main.js'
const AID = 'classroom'
const OWNER = 'bench-instructor'
/** Send times per typed room, by keystroke number (a ring). */
const STAMPS = 4096
const WARM_UP_MS = 3000
/** Typing before the first phase too: the server's first keystrokes (compiling its hot paths) belong to no phase. */
const FIRST_WARM_UP_MS = 5000
const DRAIN_MS = 1500
/** Panes joining at once per thread. */
const JOIN_BATCH = 25
/** Requests at once while opening the class. */
const OPEN_CONCURRENCY = 8
/** The product's targets. */
const TARGET_LONG_TASK_MS = 50
const TARGET_CPU_RATIO = 1.5
/** How the page is scrolled through the grid: this many pixels per wheel step, a step every STEP_MS. */
const SCROLL_STEP_PX = 200
const STEP_MS = 60
/** A tile this close to the viewport may stream (session-classroom's own margin), and how long a tile that left keeps streaming. */
const NEAR_PX = 200
const STOP_AFTER_MS = 1500

// ---- the load generator's threads ------------------------------------------------------------------

/** Latencies of keystrokes sent inside the measuring window, as panes of typed rooms apply them. */
class Tracker {
  constructor() {
    this.reset()
  }

  reset() {
    this.anomalies = 0
    this.latencies = []
    this.arrivals = []
    this.from = Infinity
    this.to = Infinity
  }

  sample(sent, arrived, applyMs) {
    if (!(sent >= this.from && sent <= this.to)) return
    this.latencies.push(arrived + applyMs - sent)
    this.arrivals.push(arrived - sent)
  }
}

/**
 * A pane: a light viewer of one room. In a typed room it maps each inserted character to the
 * typist's keystroke number — the characters its room held beyond the starter when the `text`
 * frame came, plus those inserted since — and reads that keystroke's send time.
 */
function pane(spec, tracker, shared) {
  const v = new ViewPeer(spec.url, spec.sid, spec.token)
  if (spec.slot < 0) return v
  let next = -1
  let pending = []
  v.onSplices = (splices, at) => {
    if (next < 0) next = (v.files[FILE] ?? '').length - shared.starterLength
    for (const s of splices) {
      if (s.file !== FILE) continue
      if (s.delete) tracker.anomalies++
      for (let i = 0; i < s.insert.length; i++, next++) {
        // A character the typist has not typed (yet): the count is off.
        if (next >= Atomics.load(shared.typed, spec.slot)) tracker.anomalies++
        else pending.push([shared.stamps[spec.slot * STAMPS + (next % STAMPS)], at])
      }
    }
  }
  v.onApplied = (applyMs) => {
    for (const [sent, at] of pending) tracker.sample(sent, at, applyMs)
    pending = []
  }
  return v
}

if (!isMainThread && workerData?.bench === 'classroom') {
  const { role, specs, rate } = workerData
  const shared = { stamps: new Float64Array(workerData.stamps), typed: new Int32Array(workerData.typed), starterLength: workerData.starterLength }
  const tracker = new Tracker()
  /** Typists: all of them. Panes: the open ones by room index. */
  let typists = []
  const panes = new Map()
  let load0
  let typed0 = []
  /** Keystrokes so far, by typist (in the order of `specs`: by slot). */
  const typedNow = () => typists.map((t) => t.typed.length)
  const reply = (m) => parentPort.postMessage(m)

  async function joinTypists() {
    typists = specs.map((spec) => {
      const t = new FullPeer(spec.url, spec.sid, spec.token, { protocol: 2 })
      // One character per keystroke, its send time written where the panes read it.
      t.keystroke = () => {
        const at = now()
        const n = t.typed.length
        shared.stamps[spec.slot * STAMPS + (n % STAMPS)] = at
        t.typed.push(n)
        Atomics.store(shared.typed, spec.slot, n + 1)
        t.typeChar(String(at))
      }
      return t
    })
    await Promise.all(typists.map((t) => t.ready))
    const old = typists.find((t) => !t.pushOnly)
    if (old) throw new Error('the server does not speak protocol 2 (its welcome carries no mode)')
    const off = typists.find((t) => t.text().length !== shared.starterLength)
    if (off) throw new Error(`a learner's main.js has ${off.text().length} characters, the starter ${shared.starterLength}: the keystroke count would be off`)
  }

  /** Open the panes of `rooms` this thread holds and close its others. */
  async function setPanes(rooms) {
    const wanted = new Set(rooms)
    for (const [i, p] of panes) if (!wanted.has(i)) (p.close(), panes.delete(i))
    const joining = specs.filter((s) => wanted.has(s.room) && !panes.has(s.room))
    for (let i = 0; i < joining.length; i += JOIN_BATCH) {
      const group = joining.slice(i, i + JOIN_BATCH).map((s) => [s.room, pane(s, tracker, shared)])
      for (const [room, p] of group) panes.set(room, p)
      await Promise.all(group.map(([, p]) => p.ready))
    }
  }

  const clients = () => (role === 'typists' ? typists : [...panes.values()])

  parentPort.on('message', async (m) => {
    try {
      if (m.type === 'ready') {
        if (role === 'typists') await joinTypists()
        reply({ ok: true })
      } else if (m.type === 'start') {
        for (const t of typists) startTyping(t, rate)
        reply({ ok: true })
      } else if (m.type === 'panes') {
        await setPanes(m.rooms)
        reply({ ok: true, open: panes.size, refused: [...panes.values()].find((p) => p.refused)?.refused })
      } else if (m.type === 'measure') {
        tracker.reset()
        tracker.from = now()
        load0 = threadLoadStart()
        typed0 = typedNow()
        reply({ ok: true })
      } else if (m.type === 'stop-measure') {
        tracker.to = now()
        const bySlot = typedNow().map((n, i) => n - typed0[i])
        reply({ ...threadLoadSince(load0), typed: bySlot.reduce((a, b) => a + b, 0), bySlot, seconds: (performance.now() - load0.at) / 1000 })
      } else if (m.type === 'report') {
        await sleep(DRAIN_MS)
        const closed = clients().filter((c) => c.closed && !c.closed.expected).length
        reply({ latencies: tracker.latencies, arrivals: tracker.arrivals, anomalies: tracker.anomalies, closed })
      } else if (m.type === 'stop') {
        for (const t of typists) stopTyping(t)
        for (const c of clients()) c.close()
        reply({ ok: true })
      }
    } catch (e) {
      reply({ error: e.message })
    }
  })
}

/** Worker threads of this file, one per `{role, name, specs}`, sharing the stamps. */
function startThreads(threads, common) {
  const workers = threads.map((t) => new Worker(new URL(import.meta.url), { workerData: { bench: 'classroom', role: t.role, specs: t.specs, ...common } }))
  const all = askWorkers(workers)
  /** Ask every thread (or those at `which`); a thread's error rejects. */
  const ask = async (message, which = workers.map((_, i) => i)) => {
    const replies = await askWorkers(which.map((i) => workers[i])).ask(message)
    const failed = replies.find((r) => r.error)
    if (failed) throw new Error(failed.error)
    return replies
  }
  return { ask, stop: all.stop }
}

// ---- the class -------------------------------------------------------------------------------------

/** `n` of `total` indices spread evenly from 0. */
const spread = (total, n) => Array.from({ length: Math.min(n, total) }, (_, j) => Math.floor((j * total) / Math.min(n, total)))

/** Run `fn` over `items`, `limit` at a time. */
async function inPool(items, limit, fn) {
  const out = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await fn(items[i], i)
      }
    }),
  )
  return out
}

async function post(url, path, bearer, body = {}) {
  const send = () => fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  // A reused keep-alive connection can be closed by the server just as a request goes out: retry once.
  const res = await send().catch(() => send())
  if (res.status !== 200 && res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`)
  return res.json()
}

/**
 * The assignment and every learner's room: `[{userId, sid, token}]`, `token` the learner's room
 * token; with `panes`, `viewToken` too (an instructor's room token, as the overview asks for one).
 */
async function openClass(url, cfg, { panes }) {
  await post(url, '/v1/assignments', API_KEY, { id: AID, title: 'Loops', instructions: 'Count to ten.', language: 'javascript', files: { [FILE]: starterText(cfg.size) }, ownerId: OWNER })
  const learners = Array.from({ length: cfg.rooms }, (_, i) => `learner-${String(i).padStart(3, '0')}`)
  const t0 = performance.now()
  const rooms = await inPool(learners, OPEN_CONCURRENCY, async (userId, i) => {
    const learnerToken = await mintToken({ assignment: AID, sub: userId, name: `Learner ${i + 1}`, role: 'learner' }, SECRET, { ttl: '2h' })
    const opened = await post(url, `/v1/assignments/${AID}/open`, learnerToken)
    const room = { userId, sid: opened.sessionId, token: opened.token }
    if (panes) room.viewToken = (await post(url, `/v1/assignments/${AID}/rooms/${encodeURIComponent(userId)}/open`, API_KEY)).token
    return room
  })
  return { rooms, openSeconds: (performance.now() - t0) / 1000 }
}

/** The typists' thread spec: the rooms typed in, each with its slot in the stamps. */
function typistSpecs(url, rooms, typists) {
  return spread(rooms.length, typists).map((room, slot) => ({ url, sid: rooms[room].sid, token: rooms[room].token, room, slot }))
}

const sharedBuffers = (typists) => ({ stamps: new SharedArrayBuffer(typists * STAMPS * 8), typed: new SharedArrayBuffer(typists * 4) })

// ---- part 1: server CPU per keystroke vs panes open -------------------------------------------------

async function serverPart(cfg) {
  const quiet = cfg.quietWaitMs > 0 ? await waitForQuiet({ maxMs: cfg.quietWaitMs }) : undefined
  const server = await startServer()
  try {
    const { rooms, openSeconds } = await openClass(server.url, cfg, { panes: true })
    const typists = typistSpecs(server.url, rooms, cfg.typists)
    const slotOf = new Map(typists.map((t) => [t.room, t.slot]))
    const paneSpecs = rooms.map((r, room) => ({ url: server.url, sid: r.sid, token: r.viewToken, room, slot: slotOf.get(room) ?? -1 }))
    const threads = [
      { role: 'typists', name: 'typists', specs: typists },
      ...Array.from({ length: cfg.viewerThreads }, (_, t) => ({ role: 'panes', name: `panes ${t + 1}`, specs: paneSpecs.filter((s) => s.room % cfg.viewerThreads === t) })),
    ]
    const gen = startThreads(threads, { rate: cfg.rate, starterLength: cfg.size, ...sharedBuffers(typists.length) })
    const db = databaseBackends(server.databaseUrl)
    const phases = []
    try {
      await gen.ask({ type: 'ready' })
      await gen.ask({ type: 'start' }, [0])
      await sleep(FIRST_WARM_UP_MS)
      for (const n of cfg.panes) {
        const open = spread(rooms.length, n)
        const j0 = performance.now()
        const joined = await gen.ask({ type: 'panes', rooms: open }, threads.map((_, i) => i).slice(1))
        const joinSeconds = +((performance.now() - j0) / 1000).toFixed(1)
        const refused = joined.find((r) => r.refused)?.refused
        if (refused) throw new Error(`a pane was not made a light viewer: ${refused}`)
        await sleep(WARM_UP_MS)
        await gen.ask({ type: 'measure' })
        const before = processStats(server.pid)
        const wroteBefore = processWrites(server.pid)
        const dbBefore = db?.cpu()
        const machineBefore = machineTicks()
        const mainLoad = threadLoadStart()
        const genBefore = process.cpuUsage()
        const t0 = performance.now()
        await sleep(cfg.seconds * 1000)
        const windowS = (performance.now() - t0) / 1000
        const stopped = await gen.ask({ type: 'stop-measure' })
        const after = processStats(server.pid)
        const wrote = processWrites(server.pid) - wroteBefore
        const dbCpu = db ? db.cpu() - dbBefore : undefined
        const machineAfter = machineTicks()
        const main = threadLoadSince(mainLoad)
        const genCpu = process.cpuUsage(genBefore)
        const reports = await gen.ask({ type: 'report' })
        const keys = stopped[0].typed
        const threadLoad = [...threads.map((t, i) => ({ name: t.name, elu: stopped[i].elu, cpu: stopped[i].cpu })), { name: 'main', ...main }]
        const invalid = threadLoad.map(overloaded).filter(Boolean)
        const paneReports = reports.slice(1)
        const latency = summarize(paneReports.flatMap((r) => r.latencies))
        const anomalies = paneReports.reduce((s, r) => s + r.anomalies, 0)
        if (anomalies) invalid.push(`${anomalies} characters in panes that no keystroke explains: the latency mapping is off`)
        const viewedTyped = open.filter((room) => slotOf.has(room)).length
        if (viewedTyped && keys && !latency.n) invalid.push('no latency samples from the panes of typed rooms')
        const warnings = []
        const machineBusyPercent = +(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(1)
        const serverCpuPercent = +(((after.cpu - before.cpu) / windowS) * 100).toFixed(1)
        const loadGeneratorCpuPercent = +(((genCpu.user + genCpu.system) / 1e6 / windowS) * 100).toFixed(1)
        const databaseCpuPercent = dbCpu === undefined ? undefined : +((dbCpu / windowS) * 100).toFixed(1)
        const otherCpuPercent = +Math.max(0, machineBusyPercent * cpus().length - serverCpuPercent - loadGeneratorCpuPercent - (databaseCpuPercent ?? 0)).toFixed(1)
        if (machineBusyPercent > 90) warnings.push(`machine ${machineBusyPercent} % busy, ${otherCpuPercent} % of a core used by other work`)
        const keysPerSecond = keys / stopped[0].seconds
        if (keysPerSecond < 0.9 * cfg.typists * cfg.rate) warnings.push(`typed ${keysPerSecond.toFixed(1)} keys/s of ${cfg.typists * cfg.rate}`)
        // Every keystroke in a viewed typed room should reach its pane.
        const expected = open.reduce((n, room) => n + (slotOf.has(room) ? stopped[0].bySlot[slotOf.get(room)] : 0), 0)
        if (expected && latency.n < 0.95 * expected) warnings.push(`only ${Math.round((latency.n / expected) * 100)} % of keystrokes in viewed rooms reached their pane within ${DRAIN_MS / 1000} s`)
        const closes = reports.reduce((s, r) => s + r.closed, 0)
        if (closes) invalid.push(`${closes} connections closed by the server`)
        phases.push({
          panes: n,
          joinSeconds,
          viewedTypedRooms: viewedTyped,
          keystrokes: keys,
          keysPerSecond: +keysPerSecond.toFixed(2),
          serverCpuPercent,
          cpuPerKeystrokeMs: keys ? +(((after.cpu - before.cpu) * 1000) / keys).toFixed(3) : NaN,
          databaseCpuPercent,
          serverWroteBytesPerKeystroke: keys ? Math.round(wrote / keys) : NaN,
          latency,
          breakdown: { toPane: summarize(paneReports.flatMap((r) => r.arrivals)) },
          rssMB: +(after.rss / 2 ** 20).toFixed(1),
          threads: threadLoad.map((t) => ({ ...t, elu: +t.elu.toFixed(3), cpu: +t.cpu.toFixed(3) })),
          loadGeneratorCpuPercent,
          machineBusyPercent,
          otherCpuPercent,
          invalid,
          warnings,
        })
        const p = phases[phases.length - 1]
        console.log(`  ${n} panes: ${p.keysPerSecond} keys/s, ${p.cpuPerKeystrokeMs} ms CPU/key${latency.n ? `, pane p50 ${ms(latency.p50)} p99 ${ms(latency.p99)} ms` : ''}${invalid.length ? `  INVALID: ${invalid.join('; ')}` : ''}${warnings.length ? `  (warning: ${warnings.join('; ')})` : ''}`)
      }
      await gen.ask({ type: 'stop' })
    } finally {
      await gen.stop()
    }
    // The server's CPU per keystroke still falls for a while after it starts: with a phase of no
    // panes on both sides (the default), the baseline is their mean and the drift cancels out.
    const none = phases.filter((p) => p.panes === 0)
    const most = phases.reduce((a, p) => (p.panes > a.panes ? p : a), phases[0])
    const baseline = none.reduce((s, p) => s + p.cpuPerKeystrokeMs, 0) / none.length
    const ratio = none.length && most.panes > 0 ? +(most.cpuPerKeystrokeMs / baseline).toFixed(2) : undefined
    const valid = [...none, most].every((p) => !p.invalid.length)
    return { rooms: rooms.length, typists: typists.length, openSeconds: +openSeconds.toFixed(1), phases, cpuRatio: ratio === undefined ? undefined : { panes: most.panes, baselineMs: +baseline.toFixed(3), baselinePhases: none.length, ratio, target: TARGET_CPU_RATIO, met: valid ? ratio <= TARGET_CPU_RATIO : undefined }, quiet }
  } finally {
    await server.stop()
  }
}

function printServer(r) {
  console.log(`\nServer CPU per keystroke vs overview panes (${r.rooms} rooms, ${r.typists} typing; the class opened in ${r.openSeconds} s)\n`)
  table(
    r.phases.map((p) => ({
      panes: p.panes,
      'join s': p.joinSeconds,
      'typed rooms viewed': p.viewedTypedRooms,
      'keys/s': p.keysPerSecond,
      'server CPU %': p.serverCpuPercent,
      'CPU/key ms': p.cpuPerKeystrokeMs,
      'DB CPU %': p.databaseCpuPercent ?? '–',
      'wrote B/key': p.serverWroteBytesPerKeystroke,
      'key→pane p50/p99 ms': p.latency.n ? `${ms(p.latency.p50)} / ${ms(p.latency.p99)}` : '–',
      samples: p.latency.n,
      'RSS MB': p.rssMB,
      'threads ELU:CPU %': p.threads.map((t) => `${Math.round(t.elu * 100)}:${Math.round(t.cpu * 100)}`).join(' '),
      'machine busy %': p.machineBusyPercent,
      valid: p.invalid.length ? 'INVALID' : p.warnings.length ? 'ok (warned)' : 'ok',
    })),
  )
  console.log('(threads ELU:CPU %: event-loop utilisation and own CPU of the typists, pane threads, main; a thread above ' + ELU_LIMIT * 100 + ' % ELU invalidates its phase)')
  const c = r.cpuRatio
  if (c) console.log(`\nCPU per keystroke at ${c.panes} panes / at 0 panes${c.baselinePhases > 1 ? ` (mean of ${c.baselinePhases} phases: ${c.baselineMs} ms)` : ''}: ${c.ratio}× (target ≤ ${c.target}×: ${c.met === undefined ? 'not judged, a phase is INVALID' : c.met ? 'ok' : 'MISSED'})`)
}

// ---- part 2: the instructor's page -----------------------------------------------------------------

/** The page's sync sockets (one per streaming pane), as Playwright sees them open and close. */
function socketCounter(page) {
  const open = new Set()
  let opened = 0
  let peak = 0
  page.on('websocket', (ws) => {
    if (!/\/sync(\?|$)/.test(ws.url())) return
    opened++
    open.add(ws)
    peak = Math.max(peak, open.size)
    ws.on('close', () => open.delete(ws))
  })
  return {
    get open() {
      return open.size
    },
    get opened() {
      return opened
    },
    /** The most open at once since the last call. */
    takePeak() {
      const p = peak
      peak = open.size
      return p
    },
  }
}

/** Installed before anything runs: long tasks, each with whether the grid was being scrolled. */
function instrument() {
  window.__longTasks = []
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ at: e.startTime, ms: e.duration, scrolling: window.__scrolling === true })
  }).observe({ type: 'longtask', buffered: true })
}

/** Tiles on or near the screen (those allowed to stream) and tiles showing live code, in the page. */
function tilesNow(nearPx) {
  const root = document.querySelector('session-classroom')?.shadowRoot
  const tiles = [...(root?.querySelectorAll('li[data-user]') ?? [])]
  const near = tiles.filter((li) => {
    const r = li.getBoundingClientRect()
    return r.bottom > -nearPx && r.top < innerHeight + nearPx
  }).length
  return { tiles: tiles.length, near, live: root?.querySelectorAll('[part=code].live').length ?? 0, scrollY: Math.round(scrollY), scrollHeight: document.documentElement.scrollHeight }
}

/** Whether the CDN build at `cdn` has the classroom element; else why not. */
function cdnProblem(cdn) {
  if (!existsSync(join(cdn, 'session-kit.js'))) return `no CDN bundle in ${cdn}: run npm run build first`
  const chunks = join(cdn, 'chunks')
  if (!existsSync(chunks) || !readdirSync(chunks).some((f) => f.endsWith('.js') && /\.define\(\s*["']session-classroom["']\s*\)/.test(readFileSync(join(chunks, f), 'utf8')))) return `the CDN bundle in ${cdn} has no <session-classroom>: rebuild (npm run build)`
  return undefined
}

async function pagePart(cfg) {
  const problem = cdnProblem(cfg.cdn)
  if (problem) return { skipped: problem }
  const { chromium } = await import('playwright-core')
  const { CHROME_ARGS, cpuLongTasks, hostPage, rendererTasks } = await import('./browser.mjs')
  const quiet = cfg.quietWaitMs > 0 ? await waitForQuiet({ maxMs: cfg.quietWaitMs }) : undefined
  const server = await startServer()
  let gen
  let browser
  let host
  try {
    const { rooms, openSeconds } = await openClass(server.url, cfg, { panes: false })
    const typists = typistSpecs(server.url, rooms, cfg.typists)
    gen = startThreads([{ role: 'typists', name: 'typists', specs: typists }], { rate: cfg.rate, starterLength: cfg.size, ...sharedBuffers(typists.length) })
    await gen.ask({ type: 'ready' })
    await gen.ask({ type: 'start' })

    const token = await mintToken({ assignment: AID, sub: OWNER, name: 'Instructor', role: 'instructor' }, SECRET, { ttl: '2h' })
    const csp = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src *; img-src 'self' data:`
    host = await hostPage(cfg.cdn, `<session-classroom server="${server.url}" assignment="${AID}" token="${token}"></session-classroom>`, csp)
    browser = await chromium.launch({ executablePath: process.env.CHROME_PATH || '/usr/bin/chromium', args: CHROME_ARGS })
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const errors = []
    page.on('pageerror', (e) => errors.push(e.message))
    const sockets = socketCounter(page)
    await page.addInitScript(instrument)
    const opened = performance.now()
    await page.goto(host.url)
    await page.locator('session-classroom li[data-user]').nth(rooms.length - 1).waitFor({ state: 'attached', timeout: 60_000 })
    await page.locator('session-classroom [part=code].live').first().waitFor({ timeout: 30_000 })
    const liveMs = performance.now() - opened
    // Let the tiles on screen join and the first draws pass: the window is the stream, not the load.
    await sleep(3000)
    const loading = await page.evaluate(() => window.__longTasks.splice(0))
    const atStart = { ...(await page.evaluate(tilesNow, NEAR_PX)), streaming: sockets.open }
    sockets.takePeak()

    await gen.ask({ type: 'measure' })
    const mainLoad = threadLoadStart()
    await browser.startTracing(page, { categories: ['toplevel'] })
    const t0 = performance.now()
    // A third of the window still, then one scroll through the grid to its end, then the rest.
    await sleep((cfg.seconds * 1000) / 3)
    const beforeScroll = { streaming: sockets.open, peak: sockets.takePeak() }
    await page.mouse.move(640, 400)
    await page.evaluate(() => (window.__scrolling = true))
    const s0 = performance.now()
    const atBottom = () => page.evaluate(() => scrollY + innerHeight >= document.documentElement.scrollHeight - 2)
    let reachedEnd = false
    for (let i = 0; i < 1000 && !(reachedEnd = await atBottom()); i++) {
      await page.mouse.wheel(0, SCROLL_STEP_PX)
      await sleep(STEP_MS)
    }
    const scrollMs = performance.now() - s0
    await page.evaluate(() => (window.__scrolling = false))
    const duringScroll = { peak: sockets.takePeak() }
    // The rest of the window, and at least long enough for tiles that left the screen to stop.
    await sleep(Math.max((cfg.seconds * 1000 * 2) / 3 - scrollMs, STOP_AFTER_MS + 1000))
    const windowS = (performance.now() - t0) / 1000
    const longTasks = await page.evaluate(() => window.__longTasks.splice(0))
    const cpu = cpuLongTasks(rendererTasks(await browser.stopTracing()))
    const stopped = await gen.ask({ type: 'stop-measure' })
    const main = threadLoadSince(mainLoad)
    const atEnd = { ...(await page.evaluate(tilesNow, NEAR_PX)), streaming: sockets.open, peak: sockets.takePeak() }
    await gen.ask({ type: 'stop' })

    const threads = [{ name: 'typists', elu: stopped[0].elu, cpu: stopped[0].cpu }, { name: 'main', ...main }]
    const invalid = threads.map(overloaded).filter(Boolean)
    if (!reachedEnd) invalid.push('the scroll did not reach the end of the grid')
    const worst = (tasks) => (tasks.length ? Math.round(Math.max(...tasks.map((t) => t.ms))) : 0)
    const over = longTasks.filter((t) => t.ms > TARGET_LONG_TASK_MS)
    return {
      rooms: rooms.length,
      typists: typists.length,
      openSeconds: +openSeconds.toFixed(1),
      liveMs: Math.round(liveMs),
      windowSeconds: +windowS.toFixed(1),
      keysPerSecond: +(stopped[0].typed / stopped[0].seconds).toFixed(2),
      scroll: { ms: Math.round(scrollMs), reachedEnd, y: atEnd.scrollY, height: atEnd.scrollHeight },
      loading: { longTasks: loading.length, worstMs: worst(loading) },
      longTasks: { count: longTasks.length, duringScroll: longTasks.filter((t) => t.scrolling).length, worstMs: worst(longTasks), totalMs: Math.round(longTasks.reduce((s, t) => s + t.ms, 0)), over50: over.length },
      cpuLongTasks: { count: cpu.count, worstMs: cpu.worstMs, mainThreadCpuMsPerSecond: Math.round(cpu.busyMs / windowS) },
      streaming: {
        tiles: atEnd.tiles,
        atStart: { near: atStart.near, streaming: atStart.streaming, live: atStart.live },
        peakBeforeScroll: beforeScroll.peak,
        peakDuringScroll: duringScroll.peak,
        atEnd: { near: atEnd.near, streaming: atEnd.streaming, live: atEnd.live },
        opened: sockets.opened,
        // After the scroll, only tiles on or near the screen still stream.
        offScreenStopped: atEnd.streaming <= atEnd.near,
      },
      target: { longTaskMs: TARGET_LONG_TASK_MS, met: invalid.length ? undefined : over.length === 0 },
      threads: threads.map((t) => ({ ...t, elu: +t.elu.toFixed(3), cpu: +t.cpu.toFixed(3) })),
      pageErrors: errors,
      loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      invalid,
      quiet,
    }
  } finally {
    await gen?.stop()
    await browser?.close()
    await host?.close()
    await server.stop()
  }
}

function printPage(r) {
  console.log(`\nThe instructor's page: <session-classroom> with ${r.rooms} rooms, ${r.typists} learners typing (${r.keysPerSecond} keys/s); live after ${r.liveMs} ms\n`)
  const s = r.streaming
  table([
    {
      'window s': r.windowSeconds,
      'long tasks (in scroll)': `${r.longTasks.count} (${r.longTasks.duringScroll})`,
      'worst ms': r.longTasks.worstMs || '–',
      '> 50 ms': r.longTasks.over50,
      'cpu long tasks (worst ms)': `${r.cpuLongTasks.count} (${r.cpuLongTasks.worstMs})`,
      'main-thread cpu ms/s': r.cpuLongTasks.mainThreadCpuMsPerSecond,
      'streaming start/near': `${s.atStart.streaming}/${s.atStart.near}`,
      'peak in scroll': s.peakDuringScroll,
      'streaming end/near': `${s.atEnd.streaming}/${s.atEnd.near}`,
      'sockets opened': s.opened,
      'scroll ms': r.scroll.ms,
      'threads ELU:CPU %': r.threads.map((t) => `${Math.round(t.elu * 100)}:${Math.round(t.cpu * 100)}`).join(' '),
      valid: r.invalid.length ? 'INVALID' : 'ok',
    },
  ])
  console.log(`(while loading: ${r.loading.longTasks} long tasks, worst ${r.loading.worstMs} ms — not counted; near: tiles within ${NEAR_PX} px of the screen; streaming: the page's open sync sockets)`)
  console.log(`\nNo long task > ${TARGET_LONG_TASK_MS} ms from the stream: ${r.target.met === undefined ? `not judged, INVALID: ${r.invalid.join('; ')}` : r.target.met ? 'ok' : `MISSED (${r.longTasks.over50}, worst ${r.longTasks.worstMs} ms)`}; panes off screen stop streaming: ${s.offScreenStopped ? 'ok' : `NO (${s.atEnd.streaming} streaming, ${s.atEnd.near} near the screen)`}`)
  if (r.pageErrors.length) console.log(`page errors: ${r.pageErrors.slice(0, 3).join(' | ')}`)
}

// ---- entry -----------------------------------------------------------------------------------------

const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–')
const PARTS = ['server', 'page']

export async function run(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'classroom'),
    options: {
      rooms: { type: 'string', default: '200' },
      typists: { type: 'string', default: '30' },
      rate: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '20' },
      panes: { type: 'string', default: '0,50,200,0' },
      size: { type: 'string', default: '1500' },
      parts: { type: 'string', default: PARTS.join(',') },
      'viewer-threads': { type: 'string', default: '2' },
      'quiet-wait': { type: 'string', default: '5' },
      cdn: { type: 'string', default: 'packages/elements/dist/cdn' },
    },
    strict: false,
  })
  const cfg = {
    rooms: Number(values.rooms),
    typists: Math.min(Number(values.typists), Number(values.rooms)),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    panes: String(values.panes).split(',').map(Number).map((n) => Math.min(n, Number(values.rooms))),
    size: Number(values.size),
    viewerThreads: Number(values['viewer-threads']),
    quietWaitMs: Number(values['quiet-wait']) * 1000,
    cdn: resolve(root, values.cdn),
  }
  const parts = String(values.parts).split(',')
  for (const p of parts) if (!PARTS.includes(p)) throw new Error(`unknown part "${p}"; available: ${PARTS.join(', ')}`)
  const database = process.env.DATABASE_URL ? 'postgres' : 'pglite'
  console.log(`Classroom: ${cfg.rooms} learners' rooms, ${cfg.typists} typing ${cfg.rate} keys/s into a ${cfg.size}-character main.js; ${cfg.seconds} s measured per phase (on ${database})`)
  const result = { config: { ...cfg, parts, eluLimit: ELU_LIMIT }, targets: { longTaskMs: TARGET_LONG_TASK_MS, cpuRatio: TARGET_CPU_RATIO }, database }
  if (parts.includes('server')) {
    console.log(`\nServer: panes ${cfg.panes.join(', ')}${cfg.panes.filter((n) => n === 0).length < 2 ? ' (no phase of 0 panes after the others: the ratio carries the server\'s warm-up drift; --panes 0,50,200,0 cancels it)' : ''}`)
    result.server = await serverPart(cfg)
    printServer(result.server)
  }
  if (parts.includes('page')) {
    result.page = await pagePart(cfg)
    if (result.page.skipped) console.log(`\nThe instructor's page: SKIPPED — ${result.page.skipped}`)
    else printPage(result.page)
  }
  const file = writeResult('classroom', result)
  console.log(`\nwritten to ${file}`)
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2))
