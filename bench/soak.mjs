#!/usr/bin/env node
// Soak run: one server process under a mixed, steady load for minutes, sampled for memory and CPU.
// In every room typists type at human speed (bursts around 3 keys a second, pauses, cursor
// presence) while watchers follow; visitors come and go (some type a little); people post chat
// and share runs; now and then an observer tries to edit and must be refused (closed with 4003,
// nothing stored). Every `--sample` seconds the server's RSS, heap after a full GC and CPU are read.
// At the end: the samples, the memory trend (least-squares slope per minute, after the first
// sample), the errors, and whether every room's clients hold exactly the server's document.
//
//   npm run soak [-- --minutes 5] [--rooms 6] [--typists 2] [--watchers 3] [--sample 12]
//
// Exits non-zero when the verdict is not a pass: errors, a room that did not converge, or a heap
// that keeps growing (more than 1 MB a minute once warm).
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { mintToken } from '@session-kit/server'
import { FullPeer, within } from './clients.mjs'
import { createSession, processStats, SECRET, sleep, starterText, startServer, table, writeResult } from './lib.mjs'

const HEAP_SLOPE_LIMIT_MB_PER_MIN = 1
const mb = (n) => +(n / 2 ** 20).toFixed(1)
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)]
/** Exponential gap around `mean` ms: the rhythm of a person, not a metronome. */
const gap = (mean, cap = mean * 6) => Math.min(cap, -Math.log(1 - Math.random()) * mean)

function slopePerMinute(points) {
  const n = points.length
  if (n < 2) return NaN
  const mx = points.reduce((a, p) => a + p[0], 0) / n
  const my = points.reduce((a, p) => a + p[1], 0) / n
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0)
  return (points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx) * 60
}

export async function run(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '5' },
      rooms: { type: 'string', default: '6' },
      typists: { type: 'string', default: '2' },
      watchers: { type: 'string', default: '3' },
      sample: { type: 'string', default: '12' },
    },
    strict: false,
  })
  const cfg = { minutes: Number(values.minutes), rooms: Number(values.rooms), typists: Number(values.typists), watchers: Number(values.watchers), sampleSeconds: Number(values.sample) }
  const database = process.env.DATABASE_URL ? 'postgres' : 'pglite'
  console.log(`soak: ${cfg.minutes} min, ${cfg.rooms} rooms × (${cfg.typists} typists + ${cfg.watchers} watchers), visitors coming and going, chat, runs, refused writes; a sample every ${cfg.sampleSeconds} s; database: ${database}`)

  const server = await startServer({ probe: true })
  const url = server.url
  const sids = Array.from({ length: cfg.rooms }, (_, r) => `soak-${r}`)
  for (const sid of sids) await createSession(url, sid, { 'main.js': starterText(3000) })
  const token = (sid, role, sub) => mintToken({ sid, role, sub, name: sub }, SECRET, { ttl: '2h' })

  const errors = new Map()
  const fail = (kind, detail) => {
    const e = errors.get(kind) ?? { count: 0, examples: [] }
    e.count++
    if (e.examples.length < 3) e.examples.push(detail)
    errors.set(kind, e)
  }
  const counts = { joins: 0, leaves: 0, keystrokes: 0, chats: 0, runs: 0, refusalsTried: 0, refused: 0 }
  const handshakes = []
  /** Peers connected now, by room. */
  const rooms = new Map(sids.map((sid) => [sid, new Set()]))
  /** Chat texts and run outputs sent to each room, which every peer there from start to end must receive. */
  const sent = new Map(sids.map((sid) => [sid, { chats: new Set(), runs: new Set() }]))
  let running = true
  /** Sleep, but wake as soon as the run ends. */
  const nap = async (ms) => {
    const until = Date.now() + ms
    while (running && Date.now() < until) await sleep(Math.min(100, until - Date.now()))
  }

  async function join(sid, role, sub) {
    const p = new FullPeer(url, sid, await token(sid, role, sub))
    p.sub = sub
    p.chats = new Set()
    p.runs = new Set()
    p.onEvent = (e) => {
      if (e.type === 'chat') p.chats.add(e.message.text)
      else if (e.type === 'run') p.runs.add(e.run.output)
      else if (e.type === 'error' && !p.refusing) fail('error sent by the server', `${sub} in ${sid}: ${e.code} ${e.message}`)
      else if (e.type === 'rate_limited') fail('rate limited', `${sub} in ${sid}: ${e.what}`)
    }
    p.onClose = () => {
      rooms.get(sid).delete(p)
      if (!p.closed.expected) fail('unexpected close', `${sub} in ${sid}: ${p.closed.code} ${p.closed.reason}`)
    }
    try {
      if (!(await within(p.ready, 15_000))) throw new Error('no welcome and document within 15 s')
    } catch (e) {
      fail('failed handshake', `${sub} in ${sid}: ${e.message}`)
      p.close()
      return null
    }
    handshakes.push(p.readyAt - p.startedAt)
    counts.joins++
    rooms.get(sid).add(p)
    return p
  }

  function leave(p) {
    counts.leaves++
    p.close()
  }

  /** Bursts around 3 keys a second, a pause now and then, the cursor shown to the others. */
  async function type(p, { until = () => !running } = {}) {
    while (!until() && p.open) {
      p.keystroke()
      counts.keystrokes++
      if (Math.random() < 0.05) p.send({ type: 'presence', cursor: { file: 'main.js', anchor: p.cursor, head: p.cursor } })
      await sleep(Math.random() < 0.02 ? 2000 + Math.random() * 3000 : gap(333, 2000))
    }
  }

  // ---- the steady population ---------------------------------------------------------------
  const stable = new Map()
  for (const [r, sid] of sids.entries()) {
    const people = []
    for (let t = 0; t < cfg.typists; t++) people.push(await join(sid, t === 0 ? 'instructor' : 'learner', `typist-${r}-${t}`))
    for (let w = 0; w < cfg.watchers; w++) people.push(await join(sid, 'learner', `watcher-${r}-${w}`))
    stable.set(sid, people.filter(Boolean))
  }
  const typing = [...stable.values()].flatMap((people) => people.slice(0, cfg.typists)).map((p) => type(p))

  // ---- visitors, chat, runs, refused writes ------------------------------------------------
  const tasks = new Set()
  const spawnTask = (fn) => {
    const t = fn().catch((e) => fail('load generator', e.message)).finally(() => tasks.delete(t))
    tasks.add(t)
  }
  let visitors = 0
  let observers = 0
  const loops = [
    // A visitor about every 1.5 s: stays 5–40 s; a third of them type a little.
    (async () => {
      while (running) {
        await nap(gap(1500))
        if (!running) break
        spawnTask(async () => {
          const sid = pick(sids)
          const p = await join(sid, 'learner', `visitor-${visitors++}`)
          if (!p) return
          const stay = 5000 + Math.random() * 35_000
          const leaveAt = Date.now() + stay
          if (Math.random() < 0.33) await type(p, { until: () => !running || Date.now() > leaveAt - 2000 })
          while (running && Date.now() < leaveAt) await sleep(250)
          // Leave once what it typed is stored, as the page would before closing.
          await within((async () => { while (p.typed.some((h) => !p.acked.has(h))) await sleep(50) })(), 5000)
          leave(p)
        })
      }
    })(),
    // Chat about every 4 s and a shared run about every 6 s, from people who stay.
    (async () => {
      let n = 0
      while (running) {
        await nap(gap(4000))
        if (!running) break
        const sid = pick(sids)
        const p = pick(stable.get(sid))
        if (!p?.open) continue
        const text = `chat ${n++} from ${p.sub}`
        sent.get(sid).chats.add(text)
        p.send({ type: 'chat', text })
        counts.chats++
      }
    })(),
    (async () => {
      let n = 0
      while (running) {
        await nap(gap(6000))
        if (!running) break
        const sid = pick(sids)
        const p = pick(stable.get(sid))
        if (!p?.open) continue
        const output = `run ${n++} by ${p.sub}\n`
        sent.get(sid).runs.add(output)
        const ok = Math.random() < 0.7
        p.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok, errors: ok ? 0 : 1, durationMs: Math.round(Math.random() * 200), output } })
        counts.runs++
      }
    })(),
    // An observer tries to edit about every 30 s: refused with 4003, nothing stored or relayed.
    (async () => {
      while (running) {
        await nap(gap(30_000, 45_000))
        if (!running) break
        spawnTask(async () => {
          const sid = pick(sids)
          const p = await join(sid, 'observer', `observer-${observers++}`)
          if (!p) return
          counts.refusalsTried++
          p.refusing = true
          p.expectClose = true
          p.insert(`REFUSED-${observers};`)
          const closed = await p.whenClosed(5000)
          if (closed?.code === 4003 && p.errors.some((e) => e.code === 'forbidden')) counts.refused++
          else fail('refused write not refused', `observer in ${sid}: ${JSON.stringify(closed)}`)
          counts.leaves++
        })
      }
    })(),
  ]

  // ---- samples -----------------------------------------------------------------------------
  const samples = []
  const t0 = Date.now()
  const endAt = t0 + cfg.minutes * 60_000
  let last = { at: t0, cpu: processStats(server.pid).cpu, keystrokes: 0 }
  while (Date.now() < endAt) {
    await sleep(Math.min(cfg.sampleSeconds * 1000, endAt - Date.now()))
    const m = await server.memory()
    const cpu = processStats(server.pid).cpu
    const at = Date.now()
    const s = {
      t: Math.round((at - t0) / 1000),
      clients: [...rooms.values()].reduce((n, set) => n + set.size, 0),
      keysPerSecond: +((counts.keystrokes - last.keystrokes) / ((at - last.at) / 1000)).toFixed(1),
      serverCpuPercent: +(((cpu - last.cpu) / ((at - last.at) / 1000)) * 100).toFixed(0),
      rssMB: mb(m.rss),
      heapMB: mb(m.heapUsed),
      externalMB: mb(m.external),
      joins: counts.joins,
      errors: [...errors.values()].reduce((n, e) => n + e.count, 0),
    }
    samples.push(s)
    last = { at, cpu, keystrokes: counts.keystrokes }
    console.log(`  ${s.t} s: ${s.clients} clients, ${s.keysPerSecond} keys/s, server CPU ${s.serverCpuPercent} %, RSS ${s.rssMB} MB, heap ${s.heapMB} MB, errors ${s.errors}`)
  }

  // ---- wind down and check every room -----------------------------------------------------
  running = false
  await Promise.all([...typing, ...loops])
  await within(Promise.all([...tasks]), 60_000)
  await sleep(1000) // the last chat messages and runs are being stored and sent
  const everyone = () => [...rooms.values()].flatMap((set) => [...set])
  // Every edit of those still here acknowledged, i.e. stored.
  await within((async () => { while (everyone().some((p) => p.typed.some((h) => !p.acked.has(h)))) await sleep(100) })(), 15_000)
  const unacked = everyone().reduce((n, p) => n + p.typed.filter((h) => !p.acked.has(h)).length, 0)
  if (unacked) fail('edits not acknowledged', `${unacked} changes`)
  const convergence = []
  for (const sid of sids) {
    const observer = await token(sid, 'observer', 'soak-checker')
    const serverText = async () => (await (await fetch(`${url}/v1/sessions/${sid}/document`, { headers: { authorization: `Bearer ${observer}` } })).json()).files['main.js']
    let text = await serverText()
    const peers = [...rooms.get(sid)]
    const same = () => peers.every((p) => !p.open || p.text() === text)
    for (let i = 0; i < 100 && !same(); i++) {
      await sleep(100)
      if (i % 10 === 9) text = await serverText()
    }
    const diverged = peers.filter((p) => p.open && p.text() !== text).length
    if (diverged) fail('diverged from the server', `${diverged} clients in ${sid}`)
    if (text.includes('REFUSED')) fail('refused write stored', sid)
    // Everyone who stayed the whole run received every chat message and run of the room.
    for (const p of stable.get(sid)) {
      const missedChats = [...sent.get(sid).chats].filter((c) => !p.chats.has(c)).length
      const missedRuns = [...sent.get(sid).runs].filter((r) => !p.runs.has(r)).length
      if (missedChats) fail('chat not delivered', `${p.sub}: ${missedChats}`)
      if (missedRuns) fail('run not delivered', `${p.sub}: ${missedRuns}`)
    }
    convergence.push({ room: sid, clients: peers.filter((p) => p.open).length, chars: text.length, converged: !diverged })
  }
  const final = await server.memory()
  for (const p of everyone()) p.close()
  await Promise.all(everyone().map((p) => p.whenClosed(5000)))
  await server.stop()

  // ---- report ------------------------------------------------------------------------------
  // Trend once warm: the first sample holds the start-up (JIT, first loads).
  const warm = samples.length > 2 ? samples.slice(1) : samples
  const heapSlope = slopePerMinute(warm.map((s) => [s.t, s.heapMB]))
  const rssSlope = slopePerMinute(warm.map((s) => [s.t, s.rssMB]))
  const errorCount = [...errors.values()].reduce((n, e) => n + e.count, 0)
  const converged = convergence.filter((c) => c.converged).length
  const heapFlat = !(heapSlope > HEAP_SLOPE_LIMIT_MB_PER_MIN)
  const pass = errorCount === 0 && converged === sids.length && heapFlat
  const hs = [...handshakes].sort((a, b) => a - b)

  console.log('\nsamples (server memory after a full GC)')
  table(samples.map((s) => ({ 's': s.t, clients: s.clients, 'keys/s': s.keysPerSecond, 'server CPU %': s.serverCpuPercent, 'RSS MB': s.rssMB, 'heap MB': s.heapMB, 'external MB': s.externalMB, joins: s.joins, errors: s.errors })))
  console.log('\nrooms at the end')
  table(convergence.map((c) => ({ room: c.room, clients: c.clients, 'file chars': c.chars, 'same as the server': c.converged ? 'yes' : 'NO' })))
  console.log('')
  table([
    { what: 'activity', value: `${counts.keystrokes} keystrokes, ${counts.joins} joins / ${counts.leaves} leaves, ${counts.chats} chat messages, ${counts.runs} runs, ${counts.refused} / ${counts.refusalsTried} writes refused as they should be` },
    { what: 'handshake p50 / p95 / max', value: `${hs[Math.floor(hs.length * 0.5)]?.toFixed(0)} / ${hs[Math.floor(hs.length * 0.95)]?.toFixed(0)} / ${hs.at(-1)?.toFixed(0)} ms` },
    { what: 'heap trend once warm', value: `${heapSlope.toFixed(2)} MB/min (limit ${HEAP_SLOPE_LIMIT_MB_PER_MIN})` },
    { what: 'RSS trend once warm', value: `${rssSlope.toFixed(2)} MB/min (documents and the database grow with the typing)` },
    { what: 'errors', value: errorCount ? [...errors].map(([k, e]) => `${k} ${e.count} (${e.examples.join('; ')})`).join(', ') : 'none' },
    { what: 'rooms converged with the server', value: `${converged} / ${sids.length}` },
    { what: 'verdict', value: pass ? 'PASS' : 'FAIL' },
  ])
  const file = writeResult('soak', {
    config: cfg,
    database,
    counts,
    handshakeMs: { p50: hs[Math.floor(hs.length * 0.5)], p95: hs[Math.floor(hs.length * 0.95)], max: hs.at(-1) },
    samples,
    heapSlopeMBPerMinute: +heapSlope.toFixed(3),
    rssSlopeMBPerMinute: +rssSlope.toFixed(3),
    finalMemory: { rssMB: mb(final.rss), heapMB: mb(final.heapUsed), externalMB: mb(final.external) },
    errors: Object.fromEntries(errors),
    convergence,
    pass,
  })
  console.log(`\nwritten to ${file}`)
  return pass
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pass = await run(process.argv.slice(2))
  process.exit(pass ? 0 : 1)
}
