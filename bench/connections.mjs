// Connections benchmark: one server process, ramped to 2,000 concurrent WebSocket clients in steps.
// Every client does the real handshake (hello with a minted token, sync: true, the welcome, then
// the whole document over the Automerge sync protocol) and stays open. Clients are light peers
// (bench/clients.mjs) except one full Automerge client per room, which types during the hold.
//
// Memory is read in the server process after a full collection (bench/probe.mjs), and each
// per-unit figure is the least-squares slope over several readings, with its standard error:
//   per idle room:  rooms loaded with nobody in them (GET …/document loads a room just as a first
//                   hello would), ten readings as they load. Idle = loaded, no connection, no edits.
//   per connection: a reading after every step of the ramp; every client joins a room already
//                   loaded, so this is the connection's own cost (socket, peer, sync state, presence).
// The heap figure is exact for JavaScript objects. An Automerge document lives in WebAssembly
// memory, which grows in large steps and reuses what earlier documents freed, so it shows only in
// RSS — where the allocator returning and taking pages scatters readings by megabytes.
// Then a hold (the full client in each room types, every other client of the room must receive
// each change) and closing everyone, after which the heap should be back to the idle-room reading.
//
//   npm run bench -- connections [--clients 2000] [--rooms 100] [--step 250] [--size 2000] [--hold 5] [--slow 10]
import { parseArgs } from 'node:util'
import { mintToken } from '@session-kit/server'
import { FullPeer, LightPeer, now, openFileLimit, within } from './clients.mjs'
import { createSession, lagMeter, processStats, SECRET, sleep, starterText, startServer, summarize, table, writeResult } from './lib.mjs'

const MB = 2 ** 20
const mb = (n) => +(n / MB).toFixed(1)
const kb = (n) => +(n / 1024).toFixed(1)

/**
 * Least-squares slope of y over x, with its standard error: a per-unit cost from several readings,
 * and how far the readings' scatter leaves it uncertain (RSS moves by megabytes as the allocator
 * returns and takes pages, which can swamp a small per-unit cost).
 */
function slope(points) {
  const n = points.length
  const mx = points.reduce((a, p) => a + p[0], 0) / n
  const my = points.reduce((a, p) => a + p[1], 0) / n
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0)
  const b = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx
  const sse = points.reduce((a, p) => a + (p[1] - (my + b * (p[0] - mx))) ** 2, 0)
  return { value: b, error: n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : NaN }
}

/** Per-unit memory from readings taken at several counts: RSS, heap used and external, in kB. */
function perUnit(readings) {
  const of = (key) => {
    const { value, error } = slope(readings.map((r) => [r.count, r.memory[key]]))
    return { kB: kb(value), plusMinus: kb(error) }
  }
  return { rss: of('rss'), heap: of('heapUsed'), external: of('external') }
}
const show = (u) => `${u.kB} ± ${u.plusMinus}`

/** Run `fn` over `items`, `limit` at a time. */
async function pool(items, limit, fn) {
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++
      await fn(items[i], i)
    }
  }))
}

export async function run(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'connections'),
    options: {
      clients: { type: 'string', default: '2000' },
      rooms: { type: 'string', default: '100' },
      step: { type: 'string', default: '250' },
      size: { type: 'string', default: '2000' },
      hold: { type: 'string', default: '5' },
      slow: { type: 'string', default: '10' },
    },
    strict: false,
  })
  const cfg = { clients: Number(values.clients), rooms: Number(values.rooms), step: Number(values.step), size: Number(values.size), holdSeconds: Number(values.hold), slowSeconds: Number(values.slow) }
  const database = process.env.DATABASE_URL ? 'postgres' : 'pglite'
  // Both this process and the server hold a descriptor per socket.
  const fileLimit = openFileLimit()
  const needed = cfg.clients + 200
  console.log(`${cfg.clients} clients in ${cfg.rooms} rooms of ${cfg.size}-character files, ${cfg.step} at a time; database: ${database}; open-file limit ${fileLimit} (needs ${needed})`)
  if (fileLimit < needed) throw new Error(`ulimit -n is ${fileLimit}, below the ${needed} descriptors ${cfg.clients} clients need: raise it (ulimit -n ${2 * needed}) and run again`)

  const server = await startServer({ probe: true })
  let exited = null
  server.child.once('exit', (code, signal) => (exited = signal ?? `code ${code}`))
  const peers = []
  try {
    const url = server.url
    const sids = Array.from({ length: cfg.rooms }, (_, r) => `conn-${r}`)
    await pool(sids, 8, (sid) => createSession(url, sid, { 'main.js': starterText(cfg.size) }))
    const tokens = []
    for (let c = 0; c < cfg.clients; c++) {
      const sid = sids[c % cfg.rooms]
      // The first client of each room is its instructor, who types during the hold.
      tokens.push(await mintToken({ sid, role: c < cfg.rooms ? 'instructor' : 'learner', sub: `user-${c}`, name: `User ${c}` }, SECRET, { ttl: '2h' }))
    }
    const readings = {}
    const read = async (name) => (readings[name] = await server.memory())

    // Let the process give back what setting up took (it does so over a few seconds) before the
    // rooms are measured: RSS within 1 MB over three readings, or 8 s.
    for (let t = 0, prev = []; t < 16; t++) {
      prev = [...prev.slice(-2), (await server.memory()).rss]
      if (prev.length === 3 && Math.max(...prev) - Math.min(...prev) < MB) break
      await sleep(250)
    }
    await read('base')
    // Idle rooms: loaded, nobody in them; a reading after each tenth.
    const observer = await Promise.all(sids.map((sid) => mintToken({ sid, role: 'observer', sub: 'bench-observer', name: 'Observer' }, SECRET, { ttl: '2h' })))
    const roomReadings = []
    const tenth = Math.ceil(cfg.rooms / 10)
    for (let from = 0; from < cfg.rooms; from += tenth) {
      await pool(sids.slice(from, from + tenth), 8, async (sid, i) => {
        const res = await fetch(`${url}/v1/sessions/${sid}/document`, { headers: { authorization: `Bearer ${observer[from + i]}` } })
        if (!res.ok) throw new Error(`GET document of ${sid}: ${res.status}`)
        await res.arrayBuffer()
      })
      roomReadings.push({ count: Math.min(cfg.rooms, from + tenth), memory: await server.memory() })
    }
    readings.idleRooms = roomReadings.at(-1).memory

    // ---- ramp ---------------------------------------------------------------------------
    const slowMs = cfg.slowSeconds * 1000
    const steps = []
    const connectionReadings = []
    let rampMs = 0
    let rampCpu = 0
    const genCpu0 = process.cpuUsage()
    for (let from = 0; from < cfg.clients; from += cfg.step) {
      const to = Math.min(cfg.clients, from + cfg.step)
      const cpu0 = processStats(server.pid).cpu
      const t0 = now()
      const batch = []
      for (let c = from; c < to; c++) {
        const sid = sids[c % cfg.rooms]
        const peer = c < cfg.rooms ? new FullPeer(url, sid, tokens[c]) : new LightPeer(url, sid, tokens[c])
        peer.index = c
        batch.push(peer)
        peers.push(peer)
      }
      // Slow handshakes are counted as errors; ones still unfinished at 3× the limit as failed.
      await within(Promise.allSettled(batch.map((p) => p.ready)), 3 * slowMs)
      const ms = now() - t0
      if (exited) throw new Error(`the server process exited (${exited}) during the ramp, with ${peers.filter((p) => p.readyAt).length} clients connected`)
      rampMs += ms
      rampCpu += processStats(server.pid).cpu - cpu0
      const times = batch.filter((p) => p.readyAt).map((p) => p.readyAt - p.startedAt)
      const hs = summarize(times)
      const m = await server.memory()
      connectionReadings.push({ count: peers.filter((p) => p.readyAt && !p.closed).length, memory: m })
      steps.push({
        connected: peers.filter((p) => p.readyAt && !p.closed).length,
        stepSeconds: +(ms / 1000).toFixed(2),
        handshakeP50Ms: Math.round(hs.p50),
        handshakeP95Ms: Math.round(hs.p95),
        handshakeMaxMs: Math.round(hs.max),
        failed: batch.filter((p) => !p.readyAt).length,
        slow: times.filter((t) => t > slowMs).length,
        serverCpuPercent: +(((processStats(server.pid).cpu - cpu0) / (ms / 1000)) * 100).toFixed(0),
        rssMB: mb(m.rss),
        heapMB: mb(m.heapUsed),
      })
      console.log(`  ${steps.at(-1).connected} connected (step of ${to - from} in ${(ms / 1000).toFixed(2)} s)`)
    }
    const genRampCpu = process.cpuUsage(genCpu0)
    readings.connected = await server.memory()
    const handshakes = summarize(peers.filter((p) => p.readyAt).map((p) => p.readyAt - p.startedAt))

    // ---- hold: the full client in each room types, the others must receive every change ------
    const typists = peers.filter((p) => p instanceof FullPeer && p.readyAt)
    const latencies = []
    for (const p of peers) if (p instanceof LightPeer) p.onChange = (change, at) => latencies.push(at - Number(change.message))
    const holdCpu0 = processStats(server.pid).cpu
    const holdGen0 = process.cpuUsage()
    const holdLag = lagMeter(50)
    const holdT0 = now()
    const keystrokes = Math.max(1, Math.round(cfg.holdSeconds * 2))
    await Promise.all(typists.map(async (t) => {
      await sleep(Math.random() * 500)
      for (let k = 0; k < keystrokes; k++) {
        t.keystroke()
        await sleep(400 + Math.random() * 200) // about 2 keys a second
      }
    }))
    await sleep(1500) // the last relays
    const holdSeconds = (now() - holdT0) / 1000
    const holdCpu = processStats(server.pid).cpu - holdCpu0
    const holdGen = process.cpuUsage(holdGen0)
    const holdGenLag = holdLag()
    const byRoom = new Map(typists.map((t) => [t.sid, t]))
    let expected = 0
    let missing = 0
    let receiversMissing = 0
    for (const p of peers) {
      if (!(p instanceof LightPeer) || !p.readyAt || p.closed) continue
      const typist = byRoom.get(p.sid)
      if (!typist) continue
      const lost = typist.typed.filter((h) => !p.received.has(h)).length
      expected += typist.typed.length
      missing += lost
      if (lost) receiversMissing++
    }
    const unacked = typists.reduce((n, t) => n + t.typed.filter((h) => !t.acked.has(h)).length, 0)
    const relay = summarize(latencies)

    // ---- close everyone --------------------------------------------------------------------
    const beforeClose = peers.filter((p) => p.readyAt && p.closed && !p.closed.expected)
    const closeT0 = now()
    for (const p of peers) p.close()
    await Promise.all(peers.map((p) => p.whenClosed(10_000)))
    // The server has let everyone go once presence shows nobody online in any room.
    let stillOnline = 0
    for (let t = 0; t < 50; t++) {
      stillOnline = 0
      await pool(sids, 8, async (sid, i) => {
        const res = await fetch(`${url}/v1/sessions/${sid}/participants`, { headers: { authorization: `Bearer ${observer[i]}` } })
        stillOnline += (await res.json()).participants.filter((p) => p.online).length
      })
      if (!stillOnline) break
      await sleep(200)
    }
    const closeSeconds = (now() - closeT0) / 1000
    readings.closed = await server.memory()

    // ---- report ------------------------------------------------------------------------------
    const connected = peers.filter((p) => p.readyAt).length
    const failedOpens = peers.filter((p) => p.openFailed).length
    const errors = {
      failedOpens,
      failedHandshakes: peers.filter((p) => !p.readyAt && !p.openFailed).length,
      slowHandshakes: peers.filter((p) => p.readyAt && p.readyAt - p.startedAt > slowMs).length,
      unexpectedCloses: beforeClose.length,
      serverErrors: peers.reduce((n, p) => n + p.errors.length, 0),
      editsNotRelayed: missing,
      editsNotAcknowledged: unacked,
      stillOnlineAfterClose: stillOnline,
    }
    const errorCount = Object.values(errors).reduce((a, b) => a + b, 0)
    const r = readings
    const perIdleRoom = perUnit(roomReadings)
    const perConnection = perUnit(connectionReadings)
    const result = {
      config: cfg,
      database,
      openFileLimit: fileLimit,
      connected,
      timeToAllConnectedSeconds: +(rampMs / 1000).toFixed(2),
      handshakeMs: handshakes,
      serverCpuPercentDuringRamp: +((rampCpu / (rampMs / 1000)) * 100).toFixed(0),
      loadGeneratorCpuPercentDuringRamp: +(((genRampCpu.user + genRampCpu.system) / 1e6 / (rampMs / 1000)) * 100).toFixed(0),
      steps,
      memory: Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { rssMB: mb(v.rss), heapUsedMB: mb(v.heapUsed), externalMB: mb(v.external) }])),
      perIdleRoom,
      perConnection,
      hold: {
        seconds: +holdSeconds.toFixed(1),
        typists: typists.length,
        keystrokes: typists.reduce((n, t) => n + t.typed.length, 0),
        deliveriesExpected: expected,
        deliveriesMissing: missing,
        receiversMissingSome: receiversMissing,
        relayLatencyMs: relay,
        serverCpuPercent: +((holdCpu / holdSeconds) * 100).toFixed(0),
        loadGeneratorCpuPercent: +(((holdGen.user + holdGen.system) / 1e6 / holdSeconds) * 100).toFixed(0),
        loadGeneratorMaxLagMs: holdGenLag,
      },
      closeSeconds: +closeSeconds.toFixed(1),
      errors,
      errorCount,
      targetMet: connected === cfg.clients && errorCount === 0,
    }

    console.log('\nramp')
    table(steps.map((s) => ({
      connected: s.connected,
      'step s': s.stepSeconds,
      'handshake p50 ms': s.handshakeP50Ms,
      'p95 ms': s.handshakeP95Ms,
      'max ms': s.handshakeMaxMs,
      failed: s.failed,
      slow: s.slow,
      'server CPU %': s.serverCpuPercent,
      'RSS MB': s.rssMB,
      'heap MB': s.heapMB,
    })))
    console.log('\nmemory of the server process after a full GC')
    table(Object.entries(result.memory).map(([k, v]) => ({ when: { base: 'started, sessions created', idleRooms: `${cfg.rooms} rooms loaded, no one in them`, connected: `${connected} clients connected`, closed: 'everyone closed' }[k], 'RSS MB': v.rssMB, 'heap used MB': v.heapUsedMB, 'external MB': v.externalMB })))
    console.log('')
    table([
      { what: 'clients connected', value: `${connected} / ${cfg.clients}` },
      { what: 'time to all connected (sum of steps)', value: `${result.timeToAllConnectedSeconds} s` },
      { what: 'handshake p50 / p95 / p99 / max', value: `${handshakes.p50.toFixed(0)} / ${handshakes.p95.toFixed(0)} / ${handshakes.p99.toFixed(0)} / ${handshakes.max.toFixed(0)} ms` },
      { what: 'server CPU during the ramp', value: `${result.serverCpuPercentDuringRamp} % of a core (load generator ${result.loadGeneratorCpuPercentDuringRamp} %)` },
      { what: `memory per idle room (slope over ${roomReadings.length} readings)`, value: `heap ${show(perIdleRoom.heap)} kB, RSS ${show(perIdleRoom.rss)} kB, external ${show(perIdleRoom.external)} kB` },
      { what: `memory per connection (slope over ${connectionReadings.length} readings)`, value: `heap ${show(perConnection.heap)} kB, RSS ${show(perConnection.rss)} kB, external ${show(perConnection.external)} kB` },
      { what: `hold: ${result.hold.typists} typists, ${result.hold.keystrokes} keystrokes`, value: `${expected - missing} / ${expected} deliveries, relay p50 ${relay.p50.toFixed(0)} / p95 ${relay.p95.toFixed(0)} / max ${relay.max.toFixed(0)} ms, server CPU ${result.hold.serverCpuPercent} %, load generator ${result.hold.loadGeneratorCpuPercent} % (lag up to ${holdGenLag} ms)` },
      { what: 'after closing everyone', value: `RSS ${mb(r.closed.rss)} MB, heap ${mb(r.closed.heapUsed)} MB (idle rooms: ${mb(r.idleRooms.heapUsed)} MB), closed in ${result.closeSeconds} s` },
      { what: 'errors', value: errorCount ? Object.entries(errors).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ') : 'none' },
      { what: `target: ${cfg.clients} concurrent clients without errors`, value: result.targetMet ? 'met' : 'NOT met' },
    ])
    const file = writeResult('connections', result)
    console.log(`\nwritten to ${file}`)
  } finally {
    for (const p of peers) p.ws.terminate()
    await server.stop()
  }
}
