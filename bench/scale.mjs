// Scale-out benchmark: three server processes on one PostgreSQL database, rooms whose clients are
// spread over all three. Typists type at human speed; every client is a full Automerge peer (applies
// what it receives and answers, as the browser's client does). Each keystroke carries its send time
// in the change's message, so every receiver measures keystroke → remote apply, split by whether
// the typist is connected to the same instance (relayed in process) or another one (committed, then
// announced with LISTEN/NOTIFY and read back from PostgreSQL). Reports p50/p95/p99 of both, each
// instance's CPU, errors, and at the end whether every client and every instance holds the same
// document. Needs PostgreSQL (DATABASE_URL); skipped without it.
//
//   npm run bench -- scale [--instances 3] [--rooms 6] [--clients 6] [--typists 2] [--rate 4] [--seconds 30]
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import * as A from '@automerge/automerge'
import { mintToken } from '@session-kit/server'
import { FullPeer, startTyping, stopTyping } from './clients.mjs'
import { createSession, lagMeter, machineTicks, processStats, SECRET, sleep, starterText, startServer, summarize, table, writeResult } from './lib.mjs'

export async function run(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'scale'),
    options: {
      instances: { type: 'string', default: '3' },
      rooms: { type: 'string', default: '6' },
      clients: { type: 'string', default: '6' },
      typists: { type: 'string', default: '2' },
      rate: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '30' },
      size: { type: 'string', default: '3000' },
    },
    strict: false,
  })
  const cfg = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)]))
  if (!process.env.DATABASE_URL) {
    console.log('scale: skipped — it needs PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres).')
    writeResult('scale', { skipped: 'DATABASE_URL is not set' })
    return
  }
  const { freshPostgres } = await import('@session-kit/server/testing')
  const pg = await freshPostgres()
  const servers = []
  const clients = []
  try {
    // One after another: the first runs the migrations, the others find them applied.
    for (let i = 0; i < cfg.instances; i++) servers.push(await startServer({ databaseUrl: pg.url }))
    console.log(`${cfg.instances} instances on one PostgreSQL database; ${cfg.rooms} rooms × ${cfg.clients} clients spread over them; ${cfg.typists} typists a room at ${cfg.rate} keys/s; files of ${cfg.size} characters; ${cfg.seconds} s measured`)
    const tracker = { same: [], cross: [], measuring: false }
    const actorInstance = new Map()
    const sids = []
    for (let r = 0; r < cfg.rooms; r++) {
      const sid = `scale-${r}`
      sids.push(sid)
      await createSession(servers[r % servers.length].url, sid, { 'main.js': starterText(cfg.size) })
      for (let c = 0; c < cfg.clients; c++) {
        // Each room's clients go round the instances, starting at a different one for each room.
        const instance = (r + c) % servers.length
        const token = await mintToken({ sid, role: c === 0 ? 'instructor' : 'learner', sub: `u${r}-${c}`, name: `User ${c}` }, SECRET, { ttl: '2h' })
        const client = new FullPeer(servers[instance].url, sid, token)
        actorInstance.set(A.getActorId(client.doc), instance)
        client.onChange = (change, at) => {
          const sent = Number(change.message)
          const from = actorInstance.get(change.actor)
          if (tracker.measuring && sent && from !== undefined) tracker[from === instance ? 'same' : 'cross'].push(at - sent)
        }
        client.instance = instance
        client.room = r
        client.typist = c < cfg.typists
        clients.push(client)
      }
    }
    await Promise.all(clients.map((c) => c.ready))
    const typists = clients.filter((c) => c.typist)
    for (const c of typists) startTyping(c, cfg.rate)
    await sleep(3000) // warm-up
    tracker.measuring = true
    const cpuBefore = servers.map((s) => processStats(s.pid).cpu)
    const machineBefore = machineTicks()
    const loadBefore = loadavg()[0]
    const genBefore = process.cpuUsage()
    const typedBefore = typists.reduce((n, c) => n + c.typed.length, 0)
    const stopLag = lagMeter()
    await sleep(cfg.seconds * 1000)
    const cpuAfter = servers.map((s) => processStats(s.pid))
    const machineAfter = machineTicks()
    const gen = process.cpuUsage(genBefore)
    const lagMax = stopLag()
    const keystrokes = typists.reduce((n, c) => n + c.typed.length, 0) - typedBefore
    for (const c of typists) stopTyping(c)
    await sleep(1500) // the last keystrokes arrive
    tracker.measuring = false

    // Convergence: every client of a room, and every instance, on the same heads and text.
    const readers = await Promise.all(sids.map((sid) => mintToken({ sid, role: 'observer', sub: 'reader', name: 'Reader' }, SECRET, { ttl: '1h' })))
    const check = async () => {
      const rooms = []
      for (let r = 0; r < sids.length; r++) {
        const mine = clients.filter((c) => c.room === r)
        const docs = await Promise.all(
          servers.map((s) => fetch(`${s.url}/v1/sessions/${sids[r]}/document`, { headers: { authorization: `Bearer ${readers[r]}` } }).then((res) => res.json())),
        )
        const heads = new Set([...mine.map((c) => A.getHeads(c.doc).sort().join(',')), ...docs.map((d) => [...d.heads].sort().join(','))])
        const texts = new Set([...mine.map((c) => c.text()), ...docs.map((d) => d.files['main.js'])])
        rooms.push(heads.size === 1 && texts.size === 1)
      }
      return rooms
    }
    let converged = await check()
    for (let i = 0; i < 20 && !converged.every(Boolean); i++) {
      await sleep(500)
      converged = await check()
    }

    const same = summarize(tracker.same)
    const cross = summarize(tracker.cross)
    const errors = clients.flatMap((c) => c.errors.map((e) => `${e.code}: ${e.message}`))
    const closes = clients.filter((c) => c.closed && !c.closed.expected).map((c) => c.closed)
    const result = {
      config: cfg,
      keystrokes,
      keysPerSecond: +(keystrokes / cfg.seconds).toFixed(1),
      latency: { sameInstance: same, crossInstance: cross },
      instances: servers.map((s, i) => ({
        instance: i,
        clients: clients.filter((c) => c.instance === i).length,
        cpuPercent: +(((cpuAfter[i].cpu - cpuBefore[i]) / cfg.seconds) * 100).toFixed(1),
        cpuPerKeystrokeMs: +(((cpuAfter[i].cpu - cpuBefore[i]) * 1000) / keystrokes).toFixed(3),
        rssMB: +(cpuAfter[i].rss / 2 ** 20).toFixed(1),
      })),
      loadGenerator: { cpuPercent: +(((gen.user + gen.system) / 1e6 / cfg.seconds) * 100).toFixed(1), maxLagMs: lagMax },
      machineBusyPercent: +(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(1),
      loadAverage: [+loadBefore.toFixed(2), +loadavg()[0].toFixed(2)],
      errors,
      unexpectedCloses: closes,
      converged: { rooms: converged.length, ok: converged.filter(Boolean).length },
    }
    const f = (n) => (Number.isFinite(n) ? n.toFixed(1) : '–')
    table([
      { 'keystroke → remote apply': 'same instance', samples: same.n, 'p50 ms': f(same.p50), 'p95 ms': f(same.p95), 'p99 ms': f(same.p99), 'max ms': f(same.max) },
      { 'keystroke → remote apply': 'another instance (NOTIFY)', samples: cross.n, 'p50 ms': f(cross.p50), 'p95 ms': f(cross.p95), 'p99 ms': f(cross.p99), 'max ms': f(cross.max) },
    ])
    console.log('')
    table(result.instances.map((i) => ({ instance: i.instance, clients: i.clients, 'CPU %': i.cpuPercent, 'CPU ms per keystroke (all rooms)': i.cpuPerKeystrokeMs, 'RSS MB': i.rssMB })))
    console.log(`\n${keystrokes} keystrokes (${result.keysPerSecond}/s); load generator CPU ${result.loadGenerator.cpuPercent} %, max event-loop lag ${result.loadGenerator.maxLagMs} ms; machine busy ${result.machineBusyPercent} % (every process), 1-minute load average ${result.loadAverage[0]} → ${result.loadAverage[1]}`)
    console.log(`errors: ${errors.length}${errors.length ? ` (${[...new Set(errors)].slice(0, 3).join('; ')})` : ''}; unexpected closes: ${closes.length}${closes.length ? ` (${closes.map((c) => c.code).join(', ')})` : ''}`)
    console.log(`converged (every client and every instance on the same heads and text): ${result.converged.ok} of ${result.converged.rooms} rooms`)
    const file = writeResult('scale', result)
    console.log(`written to ${file}`)
  } finally {
    for (const c of clients) {
      stopTyping(c)
      c.close()
    }
    await Promise.all(servers.map((s) => s.stop()))
    await pg.drop()
  }
}
