// Load benchmark: open a room whose document has 50,000 changes.
// The history is typed through the real protocol by one writer — real Automerge changes of one
// character each (with backspaces), many to a frame as a fast or reconnecting writer sends them —
// so the server verifies, commits, folds and compacts them as it does live edits. Then, several
// times each (median and p95):
//   - a raw protocol client (Node): WebSocket open → welcome → the first sync has given it the whole
//     document; and GET …/document (the plain-text path);
//   - Chromium with <session-room> + <session-editor> from the server's /cdn/: navigation start →
//     code visible in the editor (plain text first) → live editor (synced Automerge document,
//     editable) → a character typed there acknowledged by the server;
// with the room already loaded in the server ("hot") and just after a server restart, so the room
// is loaded from storage ("cold"); in the browser with a cold HTTP cache (a new browser context)
// and a warm one (the same context, after a first visit).
//
//   npm run bench -- load [--changes 50000] [--runs 7] [--per-frame 50]
import { createServer as httpServer } from 'node:http'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import * as A from '@automerge/automerge'
import WebSocket from 'ws'
import { chromium } from 'playwright-core'
import { mintToken } from '@session-kit/server'
import { createSession, machineTicks, processStats, SECRET, sleep, startServer, summarize, table, writeResult } from './lib.mjs'

const CHROME_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
const SID = 'load-bench'
const WARMUP_SID = 'load-warmup'
const TARGETS = { visibleMs: 150, liveMs: 1000 }
const step = (what) => process.env.DEBUG_BENCH && console.log(`[${new Date().toISOString()}] ${what}`)
const EMPTY = new Uint8Array(0)

/** Code as a student types it: lines of a few kinds, with names and numbers that vary (seeded). */
function sourceText(length) {
  let seed = 7
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
  const words = ['value', 'count', 'total', 'index', 'result', 'items', 'name', 'data', 'list', 'sum', 'node', 'left', 'right', 'key']
  const word = () => words[rnd(words.length)]
  let text = ''
  while (text.length < length) {
    const a = word() + rnd(100)
    const b = word()
    text += [
      `function ${a}(${b}, options) {\n`,
      `  const ${a} = ${b}.map((x) => x * ${rnd(1000)})\n`,
      `  if (${a} > ${rnd(500)}) return ${b}[${rnd(10)}]\n`,
      `  console.log('${b} is', ${a})\n`,
      `}\n\n`,
    ][rnd(5)]
  }
  return text
}

/** Open a sync connection and complete the handshake; resolves with the socket and the replica. */
function join(url, token) {
  const ws = new WebSocket(url.replace('http', 'ws') + `/v1/sessions/${SID}/sync`)
  ws.binaryType = 'nodebuffer'
  const state = { ws, doc: A.init(), sync: A.initSyncState(), acked: 0, closed: null }
  return new Promise((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', token, protocol: 1, sync: true })))
    ws.on('message', (data, binary) => {
      if (!binary) {
        const e = JSON.parse(data.toString())
        if (e.type === 'ack') state.acked += e.changes.length
        if (e.type === 'error') reject(new Error(`${e.code}: ${e.message}`))
        return
      }
      if (state.live) return // from here on only our own pushes matter; the server's heads are not needed
      ;[state.doc, state.sync] = A.receiveSyncMessage(state.doc, state.sync, new Uint8Array(data))
      const [s, m] = A.generateSyncMessage(state.doc, state.sync)
      state.sync = s
      if (m) ws.send(m)
      else if (state.doc.files?.['main.js'] !== undefined) {
        state.live = true
        resolve(state)
      }
    })
    ws.on('close', (code, reason) => {
      state.closed = code
      reject(new Error(`writer closed ${code} ${reason}`))
    })
  })
}

/**
 * Type `count` single-character changes: the source code, line after line, with a typo fixed by a
 * backspace every so often. Frames of `perFrame` changes, within the server's frame rate, with at
 * most a few thousand changes unacknowledged.
 */
async function typeHistory(url, token, count, perFrame) {
  const w = await join(url, token)
  let doc = w.doc
  let cursor = String(doc.files['main.js']).length
  let heads = A.getHeads(doc)
  let frame = []
  let sent = 0
  let frameAt = 0
  const source = sourceText(count)
  let typed = 0
  for (let i = 0; i < count; i++) {
    doc = A.change(doc, (d) => {
      // A typo now and then, taken back (the next change types the character again).
      if (i % 23 === 22 && cursor > 0) A.splice(d, ['files', 'main.js'], (typed--, --cursor), 1)
      else A.splice(d, ['files', 'main.js'], cursor++, 0, source[typed++])
    })
    frame.push(A.getLastLocalChange(doc))
    if (frame.length < perFrame && i !== count - 1) continue
    const next = A.getHeads(doc)
    // What the server's own pushes look like: our changes, our heads, and what we know it has.
    const msg = A.encodeSyncMessage({ type: 'message', heads: next, need: [], have: [{ lastSync: heads, bloom: EMPTY }], changes: frame })
    heads = next
    sent += frame.length
    frame = []
    const gap = frameAt + 1000 / 80 - performance.now()
    if (gap > 0) await sleep(gap)
    frameAt = performance.now()
    w.ws.send(msg)
    while (sent - w.acked > 3000 && !w.closed) await sleep(5)
    if (sent % 10000 < perFrame) step(`typed ${sent}, acknowledged ${w.acked}`)
  }
  while (w.acked < count && !w.closed) await sleep(20)
  w.ws.removeAllListeners('close')
  w.ws.close()
  return { text: String(doc.files['main.js']), heads: A.getHeads(doc) }
}

/** A raw protocol client's first sync: open → welcome → the whole document, with what it cost the client. */
function rawFirstSync(url, token, expect, sid = SID) {
  const t0 = performance.now()
  const ws = new WebSocket(url.replace('http', 'ws') + `/v1/sessions/${sid}/sync`)
  ws.binaryType = 'nodebuffer'
  let doc = A.init()
  let sync = A.initSyncState()
  const r = { frames: 0, bytes: 0, applyMs: 0 }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('first sync did not finish in 60 s')), 60_000)
    ws.on('open', () => {
      r.open = performance.now()
      r.connectMs = r.open - t0
      ws.send(JSON.stringify({ type: 'hello', token, protocol: 1, sync: true }))
    })
    ws.on('message', (data, binary) => {
      const at = performance.now()
      if (!binary) {
        if (JSON.parse(data.toString()).type === 'welcome') r.welcomeMs = at - r.open
        return
      }
      r.frames++
      r.bytes += data.length
      r.firstBinaryMs ??= at - r.open
      ;[doc, sync] = A.receiveSyncMessage(doc, sync, new Uint8Array(data))
      const [s, m] = A.generateSyncMessage(doc, sync)
      sync = s
      r.applyMs += performance.now() - at
      if (m) ws.send(m)
      const heads = A.getHeads(doc)
      if (expect.heads.every((h) => heads.includes(h))) {
        r.fullMs = performance.now() - r.open
        r.matches = String(doc.files?.['main.js']) === expect.text
        clearTimeout(timer)
        ws.close()
        resolve(r)
      }
    })
    ws.on('close', (code) => reject(new Error(`closed ${code} before the first sync finished`)))
    ws.on('error', reject)
  })
}

async function getDocument(url, token, sid = SID) {
  const t0 = performance.now()
  const res = await fetch(`${url}/v1/sessions/${sid}/document`, { headers: { authorization: `Bearer ${token}` } })
  const body = await res.json()
  return { ms: performance.now() - t0, text: body.files?.['main.js'] }
}

/**
 * A server process answers its first requests slowly (JIT, database connections, token keys): warm
 * it up on another session, so that a cold room measures loading the room and nothing else.
 */
async function warmUp(url) {
  const token = await mintToken({ sid: WARMUP_SID, role: 'learner', sub: 'warm', name: 'Warm' }, SECRET, { ttl: '2h' })
  for (let i = 0; i < 5; i++) {
    await rawFirstSync(url, token, { heads: [] }, WARMUP_SID)
    await getDocument(url, token, WARMUP_SID)
  }
}

/** Records, in the page, when the code shows, when the editor is live and when an edit is acknowledged. */
function pageProbe(firstLine) {
  const b = (window.__bench = { ws: [], firstLine })
  const Native = window.WebSocket
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args)
      const rec = { created: performance.now(), frames: 0, bytes: 0 }
      b.ws.push(rec)
      this.addEventListener('open', () => (rec.open = performance.now()))
      this.addEventListener('message', (e) => {
        const at = performance.now()
        if (typeof e.data === 'string') {
          if (e.data.includes('"welcome"')) rec.welcome = at
          return
        }
        rec.frames++
        rec.bytes += e.data.byteLength
        rec.firstBinary ??= at
        rec.lastBinary = at
        ;(rec.arrivals ??= []).push([Math.round(at), e.data.byteLength])
      })
      this.addEventListener('close', () => (rec.closed = performance.now()))
    }
  }
  const poll = () => {
    const root = document.querySelector('session-editor')?.shadowRoot
    const content = root?.querySelector('.cm-content')
    if (content && b.editorShown === undefined) b.editorShown = performance.now()
    if (b.plain === undefined && root?.querySelector('.editor.plain')) b.plain = performance.now()
    if (content && b.visible === undefined && content.textContent.includes(b.firstLine)) {
      b.visible = performance.now()
      b.visiblePhase = root.querySelector('.editor')?.className
    }
    if (b.live === undefined && root?.querySelector('.editor.live') && content?.getAttribute('contenteditable') === 'true') b.live = performance.now()
    const save = root?.querySelector('[part=save-state]')?.textContent
    if (b.typedAt !== undefined && save?.includes('Saving')) b.sawSaving = true
    if (b.sawSaving && b.saved === undefined && save?.includes('All changes saved')) b.saved = performance.now()
    if (b.saved === undefined) requestAnimationFrame(poll)
  }
  requestAnimationFrame(poll)
  // When the page's script has defined the elements: the room starts here.
  void Promise.all([customElements.whenDefined('session-room'), customElements.whenDefined('session-editor')]).then(() => (b.defined = performance.now()))
  document.addEventListener('keydown', () => (b.typedAt ??= performance.now()), true)
}

/** One page load: navigation start → code visible → live → an edit acknowledged. */
async function pageLoad(context, pageUrl) {
  const page = await context.newPage()
  try {
    await page.goto(pageUrl, { waitUntil: 'commit' })
    await page.waitForFunction(() => window.__bench?.live !== undefined, null, { timeout: 30_000, polling: 10 })
    await page.evaluate(() => document.querySelector('session-editor').focus())
    await page.keyboard.type('/')
    await page.waitForFunction(() => window.__bench.saved !== undefined, null, { timeout: 10_000, polling: 10 })
    return await page.evaluate(() => {
      const b = window.__bench
      const res = performance.getEntriesByType('resource').map((e) => ({ name: e.name.replace(/^.*\/(cdn|v1)\//, '$1/'), start: e.startTime, end: e.responseEnd, transfer: e.transferSize }))
      const nav = performance.getEntriesByType('navigation')[0]
      return {
        defined: b.defined,
        editorShown: b.editorShown,
        plain: b.plain,
        visible: b.visible,
        visiblePhase: b.visiblePhase,
        live: b.live,
        editToAck: b.saved - b.typedAt,
        domContentLoaded: nav.domContentLoadedEventEnd,
        ws: b.ws,
        resources: res,
      }
    })
  } finally {
    await page.close()
  }
}

function hostPage(serverUrl, token) {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Course page</title>
<script type="module" src="${serverUrl}/cdn/session-kit.js"></script></head>
<body><main><h1>Week 3: recursion</h1>
<session-room server="${serverUrl}" session="${SID}" token="${token}"><session-editor file="main.js"></session-editor></session-room>
</main></body></html>`
  // Another origin than the Session Kit server, as a course site is.
  const server = httpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store', 'content-security-policy': `default-src 'self'; script-src 'self' ${serverUrl} 'wasm-unsafe-eval'; style-src 'self'; connect-src *; img-src 'self' data:` })
    res.end(html)
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}/course`, close: () => new Promise((r) => server.close(r)) })))
}

const ms = (n) => (Number.isFinite(n) ? n.toFixed(0) : '–')
const stat = (values) => {
  const s = summarize(values)
  return { n: s.n, p50: s.p50, p95: s.p95, max: s.max }
}

/** When the frame carrying the document arrived: the last sizeable one before the editor went live. */
const docFrameAt = (l) => Math.max(...(l.ws.at(-1)?.arrivals ?? []).filter(([at, bytes]) => bytes > 1000 && at <= l.live).map(([at]) => at))

/** Median of each phase of the page loads, as offsets from navigation start. */
function breakdown(loads) {
  const med = (f) => summarize(loads.map(f).filter(Number.isFinite)).p50
  const res = (l, re) => l.resources.find((r) => re.test(r.name))
  const last = (l) => l.ws[l.ws.length - 1]
  return {
    'session-kit.js loaded': med((l) => res(l, /session-kit\.js/)?.end),
    'elements defined (the room starts)': med((l) => l.defined),
    'WebSocket open (the first)': med((l) => l.ws[0]?.open),
    'welcome (the first socket)': med((l) => l.ws[0]?.welcome),
    'GET /document started': med((l) => res(l, /\/document$/)?.start),
    'GET /document done': med((l) => res(l, /\/document$/)?.end),
    'editor chunk loaded': med((l) => res(l, /editor-view-/)?.end),
    'code visible': med((l) => l.visible),
    'automerge.wasm fetched': med((l) => res(l, /\.wasm$/)?.end),
    'WebSocket open (the one that synced)': med((l) => last(l)?.open),
    'first sync frame': med((l) => last(l)?.firstBinary),
    'document frame arrived': med(docFrameAt),
    'live editor': med((l) => l.live),
  }
}

export async function run(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'load'),
    options: { changes: { type: 'string', default: '50000' }, runs: { type: 'string', default: '7' }, 'per-frame': { type: 'string', default: '50' } },
    strict: false,
  })
  const changes = Number(values.changes)
  const runs = Number(values.runs)
  const perFrame = Number(values['per-frame'])
  const database = process.env.DATABASE_URL ? 'postgres' : 'pglite'
  // Storage the bench owns, so the server can be restarted on it (a room loaded from storage).
  const { freshDataDir, freshPostgres, removeDir } = await import('@session-kit/server/testing')
  const dataDir = await freshDataDir()
  const pg = process.env.DATABASE_URL ? await freshPostgres() : undefined
  // One writer types the whole history as fast as the protocol takes it: far beyond a person's
  // edit allowance, which is not what this measures.
  const env = { SESSION_KIT_EDIT_RATE: '100000000', SESSION_KIT_MAX_DOCUMENT_CHARS: '100000000' }
  let server = await startServer({ dataDir, databaseUrl: pg?.url, env })
  // The same port after a restart: for the browser it is the same origin, with the same cache.
  const restart = async () => {
    await server.stop()
    server = await startServer({ dataDir, databaseUrl: pg?.url, port: server.port, env })
    await warmUp(server.url)
  }
  let browser
  let host
  try {
    console.log(`a document of ${changes} changes; ${runs} runs of each measure; database: ${database}`)
    await createSession(server.url, SID, { 'main.js': '' })
    await createSession(server.url, WARMUP_SID, { 'main.js': sourceText(2000) })
    const writerToken = await mintToken({ sid: SID, role: 'instructor', sub: 'writer', name: 'Writer' }, SECRET, { ttl: '2h' })
    const t0 = performance.now()
    const expect = await typeHistory(server.url, writerToken, changes, perFrame)
    const typedS = (performance.now() - t0) / 1000
    console.log(`typed ${changes} changes in ${typedS.toFixed(1)} s (${perFrame} to a frame); the file has ${expect.text.length} characters`)
    // The stored form after a quiet spell: the server compacts on shutdown (and when a room unloads).
    await restart()

    const readerToken = await mintToken({ sid: SID, role: 'learner', sub: 'reader', name: 'Reader' }, SECRET, { ttl: '2h' })
    // Timings are wall-clock: say how busy the machine was while they were taken.
    const machineBefore = machineTicks()
    const loadBefore = loadavg()[0]
    const raw = { cold: [], hot: [] }
    const plain = { cold: [], hot: [] }
    const serverCpu = { coldLoadAndSync: [], hotSync: [] }
    let allMatch = true
    for (let i = 0; i < runs; i++) {
      // Cold: the first client after a restart makes the server load the room from storage.
      if (i > 0) await restart()
      const c0 = processStats(server.pid).cpu
      const cold = await rawFirstSync(server.url, readerToken, expect)
      serverCpu.coldLoadAndSync.push((processStats(server.pid).cpu - c0) * 1000)
      const h0 = processStats(server.pid).cpu
      const hot = await rawFirstSync(server.url, readerToken, expect)
      serverCpu.hotSync.push((processStats(server.pid).cpu - h0) * 1000)
      raw.cold.push(cold)
      raw.hot.push(hot)
      allMatch &&= cold.matches && hot.matches
      // The plain-text path: cold after another restart, then hot.
      await restart()
      const pc = await getDocument(server.url, readerToken)
      const ph = await getDocument(server.url, readerToken)
      plain.cold.push(pc.ms)
      plain.hot.push(ph.ms)
      allMatch &&= pc.text === expect.text && ph.text === expect.text
      step(`raw run ${i + 1}: cold ${cold.fullMs.toFixed(0)} ms, hot ${hot.fullMs.toFixed(0)} ms; plain cold ${pc.ms.toFixed(0)} hot ${ph.ms.toFixed(0)}`)
    }

    browser = await chromium.launch({ executablePath: process.env.CHROME_PATH || '/usr/bin/chromium', args: CHROME_ARGS })
    const firstLine = expect.text.split('\n')[0]
    const loads = { 'cold cache, hot room': [], 'warm cache, hot room': [], 'warm cache, cold room': [] }
    const probed = async (context) => {
      await context.addInitScript(pageProbe, firstLine)
      return context
    }
    const pageToken = await mintToken({ sid: SID, role: 'learner', sub: 'learner', name: 'Learner' }, SECRET, { ttl: '2h' })
    host = await hostPage(server.url, pageToken)
    const warm = await probed(await browser.newContext())
    await pageLoad(warm, host.url) // the first visit fills the HTTP cache and loads the room
    for (let i = 0; i < runs; i++) {
      const ctx = await probed(await browser.newContext())
      loads['cold cache, hot room'].push(await pageLoad(ctx, host.url))
      await ctx.close()
      loads['warm cache, hot room'].push(await pageLoad(warm, host.url))
      step(`page run ${i + 1}: cold cache visible ${ms(loads['cold cache, hot room'].at(-1).visible)} live ${ms(loads['cold cache, hot room'].at(-1).live)}`)
    }
    for (let i = 0; i < Math.min(runs, 3); i++) {
      // A restart: the timed load finds the room in storage only (and the code in the HTTP cache).
      await restart()
      loads['warm cache, cold room'].push(await pageLoad(warm, host.url))
    }
    const machineAfter = machineTicks()
    const machine = { busyPercent: +(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(1), loadAverage: [+loadBefore.toFixed(2), +loadavg()[0].toFixed(2)] }
    const finalText = (await getDocument(server.url, readerToken)).text
    const typedInPages = Object.values(loads).reduce((n, l) => n + l.length, 0) + 1
    const editsArrived = finalText.replaceAll('/', '') === expect.text && finalText.length === expect.text.length + typedInPages

    const rows = []
    const add = (what, values, target) => {
      const s = stat(values)
      rows.push({ measure: what, runs: s.n, 'p50 ms': ms(s.p50), 'p95 ms': ms(s.p95), 'max ms': ms(s.max), target: target ? `< ${target}` : '', met: target ? (s.p95 < target ? 'yes' : s.p50 < target ? 'p50 only' : 'NO') : '' })
      return s
    }
    const result = { changes, runs, perFrame, database, machine, typedSeconds: typedS, fileChars: expect.text.length, raw: {}, plainText: {}, serverCpuMs: {}, browser: {}, targets: TARGETS }
    result.raw.hot = { welcome: add('raw client, hot room: open → welcome', raw.hot.map((r) => r.welcomeMs)), firstSync: add('raw client, hot room: open → whole document', raw.hot.map((r) => r.fullMs)), clientApply: add('  of which the client applying it', raw.hot.map((r) => r.applyMs)) }
    result.raw.cold = { welcome: add('raw client, cold room: open → welcome', raw.cold.map((r) => r.welcomeMs)), firstSync: add('raw client, cold room: open → whole document', raw.cold.map((r) => r.fullMs)), clientApply: add('  of which the client applying it', raw.cold.map((r) => r.applyMs)) }
    result.raw.syncBytes = summarize(raw.hot.map((r) => r.bytes)).p50
    result.raw.syncFrames = summarize(raw.hot.map((r) => r.frames)).p50
    result.plainText.hot = add('GET …/document, hot room', plain.hot)
    result.plainText.cold = add('GET …/document, cold room', plain.cold)
    result.serverCpuMs.hotSync = add('server CPU: one first sync, hot room', serverCpu.hotSync)
    result.serverCpuMs.coldLoadAndSync = add('server CPU: load the room + first sync', serverCpu.coldLoadAndSync)
    for (const [name, list] of Object.entries(loads)) {
      if (!list.length) continue
      result.browser[name] = {
        visible: add(`browser, ${name}: code visible`, list.map((l) => l.visible), TARGETS.visibleMs),
        visibleFromRoomStart: add(`  the same, from the elements being defined`, list.map((l) => l.visible - l.defined), TARGETS.visibleMs),
        live: add(`browser, ${name}: live editor`, list.map((l) => l.live), TARGETS.liveMs),
        liveFromRoomStart: add(`  the same, from the elements being defined`, list.map((l) => l.live - l.defined), TARGETS.liveMs),
        documentToLive: add(`  of which: document frame arrived → live (applying it)`, list.map((l) => l.live - docFrameAt(l))),
        editToAck: add(`browser, ${name}: typed → acknowledged`, list.map((l) => l.editToAck)),
        visiblePhases: [...new Set(list.map((l) => l.visiblePhase))],
        breakdown: breakdown(list),
        syncBytes: summarize(list.map((l) => l.ws.at(-1)?.bytes ?? 0)).p50,
      }
    }
    table(rows)
    for (const [name, b] of Object.entries(result.browser)) {
      console.log(`\n${name}: median offsets from navigation start (code first shown as: ${b.visiblePhases.join(', ')})`)
      table(Object.entries(b.breakdown).map(([phase, t]) => ({ phase, 'ms': ms(t) })))
    }
    console.log(`\nfirst sync: ${result.raw.syncFrames} binary frame(s), ${(result.raw.syncBytes / 1024).toFixed(0)} kB to a raw client; ${(result.browser['cold cache, hot room']?.syncBytes / 1024).toFixed(0)} kB to the browser`)
    console.log(`machine busy ${machine.busyPercent} % while measuring (every process, not only these); 1-minute load average ${machine.loadAverage[0]} → ${machine.loadAverage[1]}`)
    console.log(`every client got the whole document: ${allMatch}; every edit typed in a page reached the server: ${editsArrived}`)
    result.allMatch = allMatch
    result.editsArrived = editsArrived
    const file = writeResult('load', result)
    console.log(`written to ${file}`)
  } finally {
    await browser?.close()
    await host?.close()
    await server.stop()
    removeDir(dataDir)
    await pg?.drop()
  }
}
