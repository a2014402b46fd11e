// Attack benchmark: one learner must not stall the server. Rooms of typists are measured while
// nothing else happens, then while learners attack the same server process:
//   flood     — the frame that stalled the server for 10–20 s before the hardening: just under the
//               1 MiB frame limit, five changes of 199,000 one-character inserts each, sent again and
//               again, reconnecting at once after every close (three learners, taking turns);
//   heaviest  — the heaviest edits the limits allow: learners paste the largest edit one message
//               may carry (SESSION_KIT_MAX_EDIT_CHARS, 20,000 by default) again and again, ignoring
//               the server's "come back in N s" and reconnecting at once.
// Measured in each phase: keystroke → other clients in the other rooms (p50 / p99 / max), /healthz
// answered every 100 ms, the server's CPU and memory, and what became of the attackers' frames.
// The attackers run in worker threads so that building their changes never delays the measuring
// clients; a phase whose measuring thread fell behind by more than 100 ms is marked invalid.
//
//   npm run bench -- attack [--seconds 15] [--rooms 10] [--attackers 3] [--edit-chars 20000] [--new-connections N]
// (--edit-chars sets the server's SESSION_KIT_MAX_EDIT_CHARS and the size of the heaviest pastes;
// --new-connections its SESSION_KIT_NEW_CONNECTIONS_PER_IP — off by default here, as every client
// of the benchmark, the typists' too, comes from 127.0.0.1.)
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import * as A from '@automerge/automerge'
import WebSocket from 'ws'
import { mintToken } from '@session-kit/server'
import { FullPeer, LightPeer, now, startTyping, stopTyping } from './clients.mjs'
import { createSession, lagMeter, processStats, SECRET, sleep, starterText, startServer, summarize, table, writeResult } from './lib.mjs'

const MB = 2 ** 20
const learner = (sid, sub) => mintToken({ sid, role: 'learner', sub, name: sub }, SECRET, { ttl: '2h' })

// ---- attackers (worker threads) ----------------------------------------------------------

/** A socket that says hello and reports the welcome, or how it closed. */
function rawSocket(url, sid, token) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + `/v1/sessions/${sid}/sync`)
  const state = { welcome: false, closed: null, error: null }
  const closed = new Promise((resolve) => ws.on('close', (code) => resolve((state.closed = code))))
  const welcomed = new Promise((resolve) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', token, protocol: 1, sync: true })))
    ws.on('message', (data, binary) => {
      if (binary) return
      const m = JSON.parse(String(data))
      if (m.type === 'welcome') resolve((state.welcome = true))
      if (m.type === 'error') state.error = m.code
    })
    closed.then(() => resolve(false))
  })
  ws.on('error', () => {})
  return { ws, state, closed, welcomed }
}

/** The 1 MiB frame: five changes of 199,000 inserts, made against the room's document. */
async function floodFrame(url, sid, token) {
  const peer = new FullPeer(url, sid, token)
  await peer.ready
  let doc = A.clone(peer.doc)
  const heads = A.getHeads(doc)
  const changes = []
  for (let i = 0; i < 5; i++) {
    doc = A.change(doc, (d) => A.splice(d, ['files', 'main.js'], 0, 0, 'a'.repeat(199_000)))
    changes.push(A.getLastLocalChange(doc))
  }
  peer.close()
  return A.encodeSyncMessage({ type: 'message', heads, need: [], have: [{ lastSync: heads, bloom: new Uint8Array(0) }], changes })
}

async function attacker({ mode, url, sid, identities, editChars }) {
  let running = false
  const report = { frames: 0, accepted: 0, closes: {}, errors: {}, refusedMs: [] }
  const count = (bag, key) => (bag[key] = (bag[key] ?? 0) + 1)
  const tokens = await Promise.all(identities.map((u) => learner(sid, u)))
  const frame = mode === 'flood' ? await floodFrame(url, sid, await learner(sid, 'frame-maker')) : null
  parentPort.postMessage({ ready: true, frameBytes: frame?.length ?? 0 })

  async function floodLoop(token) {
    while (running) {
      const s = rawSocket(url, sid, token)
      if (!(await s.welcomed)) {
        count(report.closes, `${s.state.closed} at hello (${s.state.error})`)
        await s.closed
        continue
      }
      const t0 = performance.now()
      s.ws.send(frame)
      report.frames++
      await s.closed
      report.refusedMs.push(performance.now() - t0)
      count(report.closes, `${s.state.closed} ${s.state.error}`)
    }
  }

  async function pasteLoop(token) {
    while (running) {
      const peer = new FullPeer(url, sid, token)
      try {
        await peer.ready
      } catch {
        count(report.closes, `${peer.closed?.code} at hello`)
        continue
      }
      while (running && !peer.closed) {
        const hash = peer.insert('p'.repeat(editChars))
        report.frames++
        const t0 = Date.now()
        while (!peer.acked.has(hash) && !peer.closed && Date.now() - t0 < 30_000) await sleep(5)
        if (peer.acked.has(hash)) report.accepted++
      }
      count(report.closes, `${peer.closed?.code} ${peer.errors.at(-1)?.code}`)
      peer.close()
    }
  }

  const loops = []
  parentPort.on('message', async (m) => {
    if (m === 'start') {
      running = true
      for (const t of tokens) loops.push(mode === 'flood' ? floodLoop(t) : pasteLoop(t))
    } else if (m === 'stop') {
      running = false
      await Promise.race([Promise.all(loops), sleep(5000)])
      parentPort.postMessage({ report })
    }
  })
}

if (!isMainThread) await attacker(workerData)

// ---- the measurement (main thread) -------------------------------------------------------

function startAttackers(cfg) {
  const worker = new Worker(new URL(import.meta.url), { workerData: cfg })
  const next = () => new Promise((resolve, reject) => (worker.once('message', resolve), worker.once('error', reject)))
  return {
    ready: next(),
    start: () => worker.postMessage('start'),
    async stop() {
      const reply = next()
      worker.postMessage('stop')
      const { report } = await reply
      await worker.terminate()
      return report
    },
  }
}

/** Typists in their rooms, each change's latency to every other client of its room. */
async function typingRooms(url, rooms, perRoom) {
  const latencies = []
  let measuring = false
  const clients = []
  for (let r = 0; r < rooms; r++) {
    const sid = `typing-${r}`
    await createSession(url, sid, { 'main.js': starterText(10_000) })
    const typist = new FullPeer(url, sid, await mintToken({ sid, role: 'learner', sub: `typist-${r}`, name: 'Typist' }, SECRET))
    clients.push(typist)
    for (let i = 0; i < perRoom; i++) {
      const viewer = new LightPeer(url, sid, await mintToken({ sid, role: 'observer', sub: `viewer-${r}-${i}`, name: 'Viewer' }, SECRET))
      viewer.onChange = (change, at) => measuring && latencies.push(at - Number(change.message))
      clients.push(viewer)
    }
  }
  await Promise.all(clients.map((c) => c.ready))
  return {
    typists: clients.filter((c) => c instanceof FullPeer),
    measure: () => ((latencies.length = 0), (measuring = true)),
    async collect() {
      await sleep(1500)
      measuring = false
      return [...latencies]
    },
    close: () => clients.forEach((c) => c.close()),
  }
}

/** Poll /healthz every 100 ms; the answers' times. */
function pollHealth(url) {
  const times = []
  let running = true
  const done = (async () => {
    while (running) {
      const t0 = performance.now()
      try {
        const res = await fetch(`${url}/healthz`)
        await res.arrayBuffer()
        times.push(performance.now() - t0)
      } catch {
        times.push(Infinity)
      }
      await sleep(100)
    }
  })()
  return async () => ((running = false), await done, times)
}

export async function run(argv) {
  const { values } = parseArgs({ args: argv.filter((a) => a !== 'attack'), options: { seconds: { type: 'string', default: '15' }, rooms: { type: 'string', default: '10' }, attackers: { type: 'string', default: '3' }, 'edit-chars': { type: 'string' }, 'new-connections': { type: 'string' } }, strict: false })
  const seconds = Number(values.seconds)
  const rooms = Number(values.rooms)
  const attackers = Number(values.attackers)
  const database = process.env.DATABASE_URL ? 'postgres' : 'pglite'
  const editChars = Number(values['edit-chars'] ?? 20_000)
  const env = {}
  if (values['edit-chars']) env.SESSION_KIT_MAX_EDIT_CHARS = String(editChars)
  if (values['new-connections']) env.SESSION_KIT_NEW_CONNECTIONS_PER_IP = values['new-connections']
  const server = await startServer({ env })
  console.log(`${rooms} rooms, each a typist at 3 keys/s and 2 viewers, 10,000 characters; ${attackers} attackers per phase; heaviest edit ${editChars} characters; ${seconds} s a phase; database: ${database}`)
  try {
    for (const sid of ['flood', 'paste']) await createSession(server.url, sid, { 'main.js': '// the attacked room\n' })
    const typing = await typingRooms(server.url, rooms, 2)
    for (const t of typing.typists) startTyping(t, 3)
    await sleep(2000)

    const phases = []
    for (const phase of ['baseline', 'flood', 'heaviest']) {
      const attack =
        phase === 'baseline'
          ? null
          : startAttackers({ mode: phase, url: server.url, sid: phase === 'flood' ? 'flood' : 'paste', identities: Array.from({ length: attackers }, (_, i) => `${phase}-attacker-${i}`), editChars })
      const ready = attack ? await attack.ready : null
      const lag = lagMeter(50)
      const health = pollHealth(server.url)
      const before = processStats(server.pid)
      let rssPeak = before.rss
      const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, processStats(server.pid).rss)), 250)
      typing.measure()
      attack?.start()
      const t0 = performance.now()
      await sleep(seconds * 1000)
      const report = attack ? await attack.stop() : null
      const latencies = await typing.collect()
      const elapsed = (performance.now() - t0) / 1000
      clearInterval(sampler)
      const after = processStats(server.pid)
      const healthTimes = await health()
      const generatorLag = lag()
      phases.push({
        phase,
        frameBytes: ready?.frameBytes,
        keystroke: summarize(latencies),
        healthz: summarize(healthTimes),
        serverCpuPercent: +(((after.cpu - before.cpu) / elapsed) * 100).toFixed(0),
        rssMB: { start: +(before.rss / MB).toFixed(0), peak: +(rssPeak / MB).toFixed(0), end: +(after.rss / MB).toFixed(0) },
        generatorLagMs: generatorLag,
        valid: generatorLag <= 100,
        attack: report && { frames: report.frames, accepted: report.accepted, closes: report.closes, refusedMs: report.refusedMs.length ? summarize(report.refusedMs) : null },
      })
      await sleep(2000)
    }
    for (const t of typing.typists) stopTyping(t)
    typing.close()

    const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x))
    const base = phases[0]
    table(
      phases.map((p) => ({
        phase: p.phase,
        'keystroke p50 / p99 / max ms': `${f(p.keystroke.p50)} / ${f(p.keystroke.p99)} / ${f(p.keystroke.max)}`,
        'p99 vs baseline': p === base ? '—' : `${(p.keystroke.p99 / base.keystroke.p99).toFixed(2)}×`,
        '/healthz p50 / max ms': `${f(p.healthz.p50)} / ${f(p.healthz.max)}`,
        'server CPU %': p.serverCpuPercent,
        'RSS start / peak MB': `${p.rssMB.start} / ${p.rssMB.peak}`,
        'attack frames (accepted)': p.attack ? `${p.attack.frames} (${p.attack.accepted})` : '—',
        valid: p.valid ? 'yes' : `no (generator ${p.generatorLagMs} ms late)`,
      })),
    )
    for (const p of phases.filter((x) => x.attack)) {
      console.log(`${p.phase}: ${p.attack.frames} frames${p.frameBytes ? ` of ${p.frameBytes} bytes` : ''}, ${p.attack.accepted} accepted; closes ${JSON.stringify(p.attack.closes)}${p.attack.refusedMs ? `; refused after p50 ${f(p.attack.refusedMs.p50)} / max ${f(p.attack.refusedMs.max)} ms` : ''}`)
    }
    const file = writeResult('attack', { seconds, rooms, attackers, editChars, database, phases })
    console.log(`written to ${file}`)
  } finally {
    await server.stop()
  }
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2))
