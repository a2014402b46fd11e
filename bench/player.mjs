// Seek benchmark: a recording of 10,000 changes, played by <session-player> in Chromium; seek to
// random moments and measure how long until the code on screen matches (to the next painted frame).
//
//   npm run bench -- player [--changes 10000] [--seeks 60]
import { parseArgs } from 'node:util'
import * as A from '@automerge/automerge'
import WebSocket from 'ws'
import { chromium } from 'playwright-core'
import { mintToken } from '@session-kit/server'
import { createSession, SECRET, sleep, startServer, summarize, table, writeResult } from './lib.mjs'

const step = (what) => process.env.DEBUG_BENCH && console.log(`[${new Date().toISOString()}] ${what}`)
const CHROME_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']

/** An Automerge client that types `count` changes (mostly characters, some deletions) and waits for every ack. */
async function type(url, sid, token, count) {
  const ws = new WebSocket(url.replace('http', 'ws') + `/v1/sessions/${sid}/sync`)
  ws.binaryType = 'nodebuffer'
  let doc = A.init()
  let sync = A.initSyncState()
  let acked = 0
  let ready
  const synced = new Promise((r) => (ready = r))
  ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', token, protocol: 1, sync: true })))
  ws.on('message', (data, binary) => {
    if (binary) {
      ;[doc, sync] = A.receiveSyncMessage(doc, sync, new Uint8Array(data))
      const [s, m] = A.generateSyncMessage(doc, sync)
      sync = s
      if (m) ws.send(m)
      if (doc.files?.['main.js'] !== undefined) ready()
    } else {
      const e = JSON.parse(data.toString())
      if (e.type === 'ack') acked += e.changes.length
    }
  })
  ws.on('close', (code, reason) => step(`closed ${code} ${reason}`))
  await synced
  step('synced')
  let cursor = String(doc.files['main.js']).length
  // Five changes to a frame, at most 60 frames a second: well inside the server's frame limit.
  const PER_FRAME = 5
  let frameAt = 0
  for (let i = 0; i < count; i++) {
    doc = A.change(doc, (d) => {
      if (i % 17 === 16 && cursor > 0) A.splice(d, ['files', 'main.js'], --cursor, 1)
      else A.splice(d, ['files', 'main.js'], cursor++, 0, i % 40 === 39 ? '\n' : String.fromCharCode(97 + (i % 26)))
    })
    if (i % PER_FRAME !== PER_FRAME - 1 && i !== count - 1) continue
    const gap = frameAt + 1000 / 60 - performance.now()
    if (gap > 0) await sleep(gap)
    frameAt = performance.now()
    const [s, m] = A.generateSyncMessage(doc, sync)
    sync = s
    if (m) ws.send(m)
    if (i % 500 === 499) step(`typed ${i + 1}, acknowledged ${acked}`)
    while (acked < i - 400) await sleep(5)
  }
  while (acked < count) await sleep(20)
  ws.close()
  return String(doc.files['main.js'])
}

export async function run(argv) {
  const { values } = parseArgs({ args: argv.filter((a) => a !== 'player'), options: { changes: { type: 'string', default: '10000' }, seeks: { type: 'string', default: '60' } }, strict: false })
  const changes = Number(values.changes)
  const seeks = Number(values.seeks)
  const server = await startServer()
  const browser = await chromium.launch({ executablePath: process.env.CHROME_PATH || '/usr/bin/chromium', args: CHROME_ARGS })
  try {
    const sid = 'player-bench'
    await createSession(server.url, sid, { 'main.js': '// recorded\n' })
    const token = await mintToken({ sid, role: 'instructor', sub: 'bench', name: 'Bench' }, SECRET)
    const api = (method, path, body) =>
      fetch(`${server.url}/v1/sessions/${sid}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) }).then((r) => r.json())
    const rec = await api('POST', '/recordings', { title: `${changes} changes`, isPublic: true })
    const t0 = performance.now()
    step('recording started; typing')
    const finalText = await type(server.url, sid, token, changes)
    const typedS = (performance.now() - t0) / 1000
    step('typed; stopping')
    await api('POST', `/recordings/${rec.id}/stop`)
    const b0 = performance.now()
    while ((await api('GET', `/recordings/${rec.id}`)).status !== 'ready') await sleep(100)
    const buildS = (performance.now() - b0) / 1000
    step('replay built; loading the player')
    const page = await browser.newPage()
    const l0 = performance.now()
    await page.goto(`${server.url}/recordings/${rec.id}`)
    await page.waitForFunction(() => document.querySelector('session-player')?.duration > 0, null, { timeout: 60_000 })
    const loadMs = performance.now() - l0
    const result = await page.evaluate(async ({ seeks, finalText }) => {
      const player = document.querySelector('session-player')
      const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))
      await frame()
      const compute = []
      const painted = []
      let seed = 7
      for (let i = 0; i < seeks; i++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31
        const t = (seed / 2 ** 31) * player.duration
        const s0 = performance.now()
        player.seek(t)
        compute.push(player.lastSeekMs)
        await frame()
        painted.push(performance.now() - s0)
      }
      player.seek(player.duration)
      return { compute, painted, finalMatches: player.files['main.js'] === finalText, events: player.duration }
    }, { seeks, finalText })
    const compute = summarize(result.compute)
    const painted = summarize(result.painted)
    table([
      { measure: 'seek: code rebuilt (ms)', p50: compute.p50.toFixed(2), p95: compute.p95.toFixed(2), max: compute.max.toFixed(2) },
      { measure: 'seek: to the next painted frame (ms)', p50: painted.p50.toFixed(1), p95: painted.p95.toFixed(1), max: painted.max.toFixed(1) },
    ])
    console.log(`\n${changes} changes typed in ${typedS.toFixed(1)} s; replay built in ${buildS.toFixed(2)} s; player page loaded in ${Math.round(loadMs)} ms; final code matches: ${result.finalMatches}`)
    const file = writeResult('player', { changes, seeks, compute, painted, typedSeconds: typedS, buildSeconds: buildS, loadMs, finalMatches: result.finalMatches })
    console.log(`written to ${file}`)
  } finally {
    await browser.close()
    await server.stop()
  }
}
