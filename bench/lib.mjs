// Shared pieces of the benchmarks: a server in its own process, tokens, statistics, reports.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as netServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const SECRET = 'bench-secret-' + 'b'.repeat(24)
export const API_KEY = 'bench-api-key'
const BIN = join(root, 'packages/server/bin/session-kit-server.js')

export const freePort = () =>
  new Promise((resolve) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/**
 * Start `session-kit-server serve` in a child process: on PGlite, or — when DATABASE_URL is set —
 * on a fresh database of that PostgreSQL server, dropped when the server stops.
 * `databaseUrl` or `dataDir` point it at storage the caller owns and keeps (several instances on
 * one PostgreSQL database; a restart on the same data, and the same `port`).
 * `probe`: the process also answers `memory()` — its memory after a full collection — and `trace()`
 * — the per-change timings the server keeps when run with SESSION_KIT_TRACE=1 (bench/probe.mjs).
 * `env`: more environment for the server (limits a benchmark sets for itself).
 */
let signalsHooked = false
/**
 * A benchmark stopped by a signal (Ctrl-C, a timeout, a kill) exits normally, so that every
 * server process it started is killed by its 'exit' listener instead of being left behind.
 */
function exitOnSignals() {
  if (signalsHooked) return
  signalsHooked = true
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) process.once(signal, () => process.exit(code))
}

export async function startServer({ databaseUrl, dataDir, port, probe = false, env: extraEnv = {} } = {}) {
  const { freshDataDir, freshPostgres } = await import('@session-kit/server/testing')
  const ownDir = !dataDir
  dataDir ??= await freshDataDir()
  const pg = !databaseUrl && process.env.DATABASE_URL ? await freshPostgres() : undefined
  databaseUrl ??= pg?.url
  port ??= await freePort()
  // Every benchmark client comes from this one address: no per-address socket limits.
  const env = { ...process.env, HOST: '127.0.0.1', SESSION_KIT_SECRET: SECRET, SESSION_KIT_API_KEY: API_KEY, DATABASE_URL: databaseUrl ?? '', SESSION_KIT_MAX_CONNECTIONS_PER_IP: '0', SESSION_KIT_NEW_CONNECTIONS_PER_IP: '0', ...extraEnv }
  const child = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE] : []), ...(probe ? PROBE_ARGS : []), BIN, 'serve', '--port', String(port), '--data-dir', dataDir], { env, stdio: ['ignore', process.env.BENCH_LOG ? 'inherit' : 'ignore', 'inherit', ...(probe ? ['ipc'] : [])] })
  const url = `http://127.0.0.1:${port}`
  const orphan = () => child.kill('SIGKILL')
  process.once('exit', orphan)
  exitOnSignals()
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url + '/healthz')).ok) break
    } catch {}
    await sleep(100)
  }
  return {
    url,
    port,
    dataDir,
    databaseUrl,
    pid: child.pid,
    child,
    memory: probe ? () => askMemory(child) : undefined,
    trace: probe ? () => askTrace(child) : undefined,
    async stop() {
      process.off('exit', orphan)
      child.kill('SIGTERM')
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)))
      if (ownDir) rmSync(dataDir, { recursive: true, force: true })
      await pg?.drop()
    },
  }
}

/**
 * Run a server script other than ours in a Node process of its own, exactly as startServer() runs
 * ours (so its CPU and memory are read from /proc the same way), and wait until it answers HTTP.
 */
export async function spawnServer(args, { port, readyPath = '/', ipc = false }) {
  const child = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE] : []), ...args], { stdio: ['ignore', process.env.BENCH_LOG ? 'inherit' : 'ignore', 'inherit', ...(ipc ? ['ipc'] : [])] })
  const url = `http://127.0.0.1:${port}`
  const orphan = () => child.kill('SIGKILL')
  process.once('exit', orphan)
  exitOnSignals()
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url + readyPath)).ok) break
    } catch {}
    await sleep(100)
  }
  return {
    url,
    pid: child.pid,
    child,
    trace: ipc ? () => askTrace(child) : undefined,
    async stop() {
      process.off('exit', orphan)
      child.kill('SIGTERM')
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)))
    },
  }
}

/** Code-like starter text of `size` characters, the same for every system a benchmark compares. */
export function starterText(size) {
  const line = 'const value = compute(input, options) // a line of typical code\n'
  return line.repeat(Math.ceil(size / line.length)).slice(0, size)
}

const PROBE_ARGS = ['--expose-gc', '--import', pathToFileURL(join(root, 'bench/probe.mjs')).href]
let probeAsks = 0

/** Ask a server process something over its IPC channel (bench/probe.mjs answers); resolves to its reply. */
function askProbe(child, probe) {
  const id = ++probeAsks
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m?.probe !== probe || m.id !== id) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(m)
    }
    const onExit = () => reject(new Error('the server exited'))
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.send({ probe, id })
  })
}

/** A probed server's memory (rss, heapTotal, heapUsed, external, arrayBuffers) after a full GC. */
async function askMemory(child) {
  const { probe, id, ...usage } = await askProbe(child, 'memory')
  return usage
}

/**
 * The server's per-change timings since the last ask: `[{ receivedAt, relayedAt }]` in
 * performance.timeOrigin + performance.now() milliseconds of the server process (frame received →
 * relay written), or undefined when this build keeps none.
 */
async function askTrace(child) {
  return (await askProbe(child, 'trace')).trace ?? undefined
}

/**
 * PostgreSQL backends serving `databaseUrl`'s database (their process titles name it), for the
 * CPU the database spends on a benchmark's server: `cpu()` sums their CPU seconds now.
 */
export function databaseBackends(databaseUrl) {
  if (!databaseUrl) return undefined
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1))
  const pids = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (title.startsWith('postgres: ') && title.includes(` ${name} `)) pids.push(Number(pid))
    } catch {}
  }
  return {
    pids,
    cpu: () =>
      pids.reduce((sum, pid) => {
        try {
          return sum + processStats(pid).cpu
        } catch {
          return sum // a backend that has gone
        }
      }, 0),
  }
}

/** Bytes a process has written through write()/send() — sockets included — from /proc/<pid>/io. */
export function processWrites(pid) {
  return Number(/wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))[1])
}

/**
 * This thread's event-loop utilisation since `from` (performance.eventLoopUtilization): the share
 * of wall time its loop was busy rather than waiting for I/O. A load-generator thread near 1 is
 * saturated, and what it measures is its own queue. (Node 20 has no per-thread CPU clock:
 * process.cpuUsage() counts every thread.)
 */
export function eluSince(from) {
  return performance.eventLoopUtilization(from)
}

/** Above this event-loop utilisation a load-generator thread invalidates a run. */
export const ELU_LIMIT = 0.5

/**
 * CPU time (user + system, ms, 10 ms resolution) of the calling thread — a worker's own, unlike
 * process.cpuUsage() — from /proc/thread-self/stat. Beside ELU it tells a thread busy with its own
 * work (CPU ≈ ELU) from one starved by a saturated machine (ELU high, CPU low).
 */
export function threadCpuMs() {
  try {
    const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch {
    return NaN
  }
}

/** A generator thread's load over the window: event-loop utilisation and its own CPU, both 0–1. */
export function threadLoadSince(from) {
  const wallMs = performance.now() - from.at
  return { elu: performance.eventLoopUtilization(from.elu).utilization, cpu: (threadCpuMs() - from.cpu) / wallMs }
}

export function threadLoadStart() {
  return { elu: performance.eventLoopUtilization(), cpu: threadCpuMs(), at: performance.now() }
}

/** Why a thread invalidates a run (ELU over the limit), saying whether its own work or the machine is to blame; else undefined. */
export function overloaded({ name, elu, cpu }) {
  if (!(elu > ELU_LIMIT)) return undefined
  const why = cpu > ELU_LIMIT ? 'its own work' : `its own CPU only ${Math.round(cpu * 100)} %: starved by a saturated machine`
  return `thread "${name}" ${Math.round(elu * 100)} % busy (limit ${ELU_LIMIT * 100} %; ${why})`
}

/** Busy and total CPU ticks of the whole machine, from /proc/stat. */
export function machineTicks() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const idle = cpu[3] + cpu[4]
  const total = cpu.reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

/**
 * Talk to a set of worker threads step by step: `ask(type)` posts `type` to each and resolves with
 * every thread's reply (rejecting if a thread fails); `stop()` ends them.
 */
export function askWorkers(workers) {
  const askOne = (worker, type) =>
    new Promise((resolve, reject) => {
      const onError = (e) => reject(e)
      worker.once('message', (m) => (worker.off('error', onError), resolve(m)))
      worker.once('error', onError)
      worker.postMessage(type)
    })
  return { ask: (type) => Promise.all(workers.map((w) => askOne(w, type))), stop: () => Promise.all(workers.map((w) => w.terminate())) }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Wait until the machine is quiet — less than `busyBelow` % of all CPUs busy over a second — or
 * `maxMs` has passed: on a shared machine other people's builds and tests would otherwise sit in
 * the middle of a measurement. Resolves to how long it waited and how busy the last second was.
 */
export async function waitForQuiet({ maxMs = 20_000, busyBelow = 25 } = {}) {
  const t0 = Date.now()
  for (;;) {
    const a = machineTicks()
    await sleep(1000)
    const b = machineTicks()
    const busy = ((b.busy - a.busy) / (b.total - a.total)) * 100
    if (busy < busyBelow || Date.now() - t0 >= maxMs) return { waitedMs: Date.now() - t0, busyPercent: +busy.toFixed(1), quiet: busy < busyBelow }
  }
}

/**
 * The largest gap between this process's timer ticks (every `everyMs`) beyond their interval: how
 * late the load generator was. Returns the function that stops it and gives that gap in ms.
 */
export function lagMeter(everyMs = 100) {
  let max = 0
  let at = performance.now()
  const timer = setInterval(() => {
    const t = performance.now()
    max = Math.max(max, t - at - everyMs)
    at = t
  }, everyMs)
  return () => (clearInterval(timer), Math.round(max))
}

/** CPU seconds (user + system) and RSS of a process, from /proc. */
export function processStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  const ticks = Number(stat[11]) + Number(stat[12])
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024
  return { cpu: ticks / 100, rss }
}

export function percentile(sorted, p) {
  if (!sorted.length) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

export function summarize(values) {
  const s = [...values].sort((a, b) => a - b)
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] }
}

export async function createSession(url, id, files) {
  // A reused keep-alive connection can be closed by the server just as a request goes out: retry once.
  const post = () =>
    fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id, title: id, ownerId: 'bench-instructor', files }),
    })
  const res = await post().catch(() => post())
  if (res.status !== 201) throw new Error(`create ${id}: ${res.status} ${await res.text()}`)
}

export function writeResult(name, data) {
  mkdirSync(join(root, 'bench/results'), { recursive: true })
  const file = join(root, 'bench/results', `${name}.json`)
  writeFileSync(file, JSON.stringify({ name, at: new Date().toISOString(), node: process.version, ...data }, null, 2))
  return file
}

export function table(rows) {
  const cols = Object.keys(rows[0])
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)))
  const line = (vals) => vals.map((v, i) => String(v).padEnd(width[i])).join('  ')
  console.log(line(cols))
  console.log(line(width.map((w) => '-'.repeat(w))))
  for (const r of rows) console.log(line(cols.map((c) => r[c])))
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix))
}
