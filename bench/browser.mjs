#!/usr/bin/env node
// A writer's browser while others type: one <session-editor> (the CDN bundle, under a strict
// Content-Security-Policy) on a 40,000-character file in Chromium, with 9 remote typists at 3
// keys/s (Node clients speaking protocol 1 Automerge sync). Records main-thread long tasks
// (PerformanceObserver 'longtask') first with the remote typists alone, then while the page's own
// person types (playwright keyboard), and local keystroke → paint latency: from the keydown
// event's timestamp to the first animation frame at which the editor holds the new character.
// That frame comes at the next display tick, so at 60 Hz the latency of a page doing nothing else
// is spread over 0–16.7 ms (p99 ≈ 16.5 ms); keydown → editor updated (the page's own work, before
// it waits for the frame) is reported beside it.
// On a busy machine a long task's wall time also counts the time the renderer waited for a core,
// so a trace of the page's main thread gives each task's CPU time too (tasks over 50 ms of CPU).
// Target (DESIGN.md): no long task from remote changes; keystroke → paint p99 < 16 ms.
//
// Needs the CDN bundle: `npm run build` first.
//   node bench/browser.mjs [--size 40000] [--typists 9] [--rate 3] [--seconds 20] [--keys 250]
//                          [--cdn packages/elements/dist/cdn] [--no-worker] [--label name]
// `--cdn` measures another build of the bundle (e.g. an older commit's); `--no-worker` forbids
// workers in the page's policy, so the replica runs on the main thread (the fallback).
import { createServer } from 'node:http'
import { existsSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, resolve } from 'node:path'
import * as A from '@automerge/automerge'
import { mintToken } from '@session-kit/server'
import { chromium } from 'playwright-core'
import { FullPeer, startTyping, stopTyping } from './clients.mjs'
import { createSession, root, SECRET, sleep, starterText, startServer, summarize, table, writeResult } from './lib.mjs'

export const CHROME_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu']

function options(args) {
  const get = (name, fallback) => {
    const i = args.indexOf(`--${name}`)
    return i === -1 ? fallback : args[i + 1]
  }
  return {
    size: Number(get('size', 40_000)),
    typists: Number(get('typists', 9)),
    rate: Number(get('rate', 3)),
    seconds: Number(get('seconds', 20)),
    keys: Number(get('keys', 250)),
    cdn: resolve(root, get('cdn', 'packages/elements/dist/cdn')),
    worker: !args.includes('--no-worker'),
    label: get('label', args.includes('--no-worker') ? 'main-thread replica' : 'this build'),
  }
}

/**
 * A remote typist whose own copy stops at the first sync: its keystrokes are real Automerge changes
 * (concurrent with everyone else's, as a fast typist's are), but it never pays to apply the others',
 * so ten of them cost the measuring machine almost nothing and the browser is what is measured.
 */
class Typist extends FullPeer {
  binary(bytes) {
    if (!this.synced) super.binary(bytes)
  }

  keystroke() {
    const hash = super.keystroke()
    // Where their caret is, as a person's editor says it (an Automerge cursor the page resolves).
    const at = Math.min(this.cursor, this.text().length)
    if (this.open) this.ws.send(JSON.stringify({ type: 'presence', cursor: { file: this.file, anchor: A.getCursor(this.doc, ['files', this.file], at), head: A.getCursor(this.doc, ['files', this.file], at) } }))
    return hash
  }
}

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json', '.html': 'text/html' }

/** The host page (its own origin, like an LMS) and the bundle it loads from /cdn/. */
export async function hostPage(cdnDir, body, csp) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': csp })
      return res.end(`<!doctype html><html lang="en"><head><title>Lesson</title><script type="module" src="/cdn/session-kit.js"></script></head><body>${body}</body></html>`)
    }
    const file = normalize(join(cdnDir, path.slice('/cdn/'.length)))
    if (path.startsWith('/cdn/') && file.startsWith(cdnDir)) {
      try {
        const data = await readFile(file)
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'max-age=3600' })
        return res.end(data)
      } catch {}
    }
    res.writeHead(404).end()
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }
}

/**
 * Tasks of the page's renderer main thread in a Chromium trace ('toplevel' category): each task's
 * wall and CPU (thread) time in ms.
 */
export function rendererTasks(traceBuffer) {
  const events = JSON.parse(String(traceBuffer)).traceEvents
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`))
  return events
    .filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && mains.has(`${e.pid}:${e.tid}`))
    .map((e) => ({ wall: e.dur / 1000, cpu: (e.tdur ?? e.dur) / 1000 }))
}

/** Long tasks by CPU time, from a trace. */
export function cpuLongTasks(tasks) {
  const long = tasks.filter((t) => t.cpu > 50)
  return { count: long.length, worstMs: long.length ? Math.max(...long.map((t) => t.cpu)).toFixed(0) : '-', busyMs: tasks.reduce((s, t) => s + t.cpu, 0) }
}

/** Installed in the page before anything runs: long tasks, and keystroke → paint per key. */
function instrument() {
  const w = window
  w.__longTasks = []
  w.__latencies = []
  w.__updates = []
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__longTasks.push({ at: e.startTime, ms: e.duration, typing: w.__typing === true })
  }).observe({ type: 'longtask', buffered: true })
  const length = () => document.querySelector('session-editor')?.value.length ?? 0
  window.addEventListener(
    'keydown',
    (e) => {
      if (!w.__typing || e.key.length !== 1) return
      const before = length()
      const t0 = e.timeStamp
      const content = document.querySelector('session-editor')?.shadowRoot?.querySelector('.cm-content')
      const observer = new MutationObserver(() => {
        if (length() === before) return
        w.__updates.push(performance.now() - t0)
        observer.disconnect()
      })
      if (content) observer.observe(content, { childList: true, subtree: true, characterData: true })
      const frame = (t) => {
        if (length() !== before) w.__latencies.push(t - t0)
        else requestAnimationFrame(frame)
      }
      requestAnimationFrame(frame)
    },
    true,
  )
}

export async function run(args = process.argv.slice(2)) {
  const o = options(args)
  if (!existsSync(join(o.cdn, 'session-kit.js'))) throw new Error(`no CDN bundle in ${o.cdn}: run npm run build first`)
  const server = await startServer()
  const typists = []
  let browser
  let host
  try {
    const sid = `browser-${Date.now().toString(36)}`
    const text = starterText(o.size)
    await createSession(server.url, sid, { 'main.js': text })
    const token = await mintToken({ sid, role: 'instructor', sub: 'bench-instructor', name: 'Teacher' }, SECRET, { ttl: '2h' })
    const csp = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src *; img-src 'self' data:${o.worker ? '' : "; worker-src 'none'"}`
    host = await hostPage(o.cdn, `<session-room server="${server.url}" session="${sid}" token="${token}"><session-editor file="main.js" style="--session-editor-height: 600px"></session-editor></session-room>`, csp)

    browser = await chromium.launch({ executablePath: process.env.CHROME_PATH || '/usr/bin/chromium', args: CHROME_ARGS })
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } })
    const workers = []
    page.on('worker', (w) => workers.push(w.url()))
    await page.addInitScript(instrument)
    const opened = performance.now()
    await page.goto(host.url)
    await page.locator('session-editor .editor.live').waitFor({ timeout: 30_000 })
    const liveMs = performance.now() - opened

    for (let i = 0; i < o.typists; i++) {
      const t = new Typist(server.url, sid, await mintToken({ sid, role: 'learner', sub: `typist-${i}`, name: `Typist ${i}` }, SECRET, { ttl: '2h' }), { protocol: 1 })
      typists.push(t)
    }
    await Promise.all(typists.map((t) => t.ready))
    for (const t of typists) startTyping(t, o.rate)
    await sleep(3000)

    // Remote typists alone: every long task now is the page's work for their edits.
    await page.evaluate(() => (window.__longTasks = []))
    await browser.startTracing(page, { categories: ['toplevel'] })
    await sleep(o.seconds * 1000)
    const remoteOnly = await page.evaluate(() => window.__longTasks)
    const remoteCpu = cpuLongTasks(rendererTasks(await browser.stopTracing()))

    // The person types too (at ~8 keys/s, in the middle of the file).
    await page.locator('session-editor .cm-content').click()
    await page.keyboard.press('Control+Home')
    for (let i = 0; i < 200; i++) await page.keyboard.press('ArrowDown')
    await page.evaluate(() => {
      window.__longTasks = []
      window.__latencies = []
      window.__updates = []
      window.__typing = true
    })
    await browser.startTracing(page, { categories: ['toplevel'] })
    const t0 = performance.now()
    const line = 'let total = items.reduce((sum, x) => sum + x, 0) '
    await page.keyboard.type(line.repeat(Math.ceil(o.keys / line.length)).slice(0, o.keys), { delay: 120 })
    const typingSeconds = (performance.now() - t0) / 1000
    await sleep(500)
    const { longTasks, latencies, updates } = await page.evaluate(() => ({ longTasks: window.__longTasks, latencies: window.__latencies, updates: window.__updates }))
    const typingCpu = cpuLongTasks(rendererTasks(await browser.stopTracing()))

    for (const t of typists) stopTyping(t)
    const remoteKeys = typists.reduce((n, t) => n + t.typed.length, 0)
    const lat = summarize(latencies)
    const upd = summarize(updates)
    const worst = (tasks) => (tasks.length ? Math.max(...tasks.map((t) => t.ms)).toFixed(0) : '-')
    const result = {
      label: o.label,
      cdn: o.cdn,
      size: o.size,
      typists: o.typists,
      rate: o.rate,
      documentWorker: workers.some((u) => /doc-worker/.test(u)),
      /** From navigation to a live editor, with nobody typing yet (one run: a rough figure). */
      liveMs,
      remoteOnly: { seconds: o.seconds, longTasks: remoteOnly.length, longTaskMs: remoteOnly.reduce((s, t) => s + t.ms, 0), worstMs: worst(remoteOnly), cpuLongTasks: remoteCpu.count, cpuWorstMs: remoteCpu.worstMs, mainThreadCpuMs: remoteCpu.busyMs },
      typing: { seconds: typingSeconds, keys: latencies.length, longTasks: longTasks.length, longTaskMs: longTasks.reduce((s, t) => s + t.ms, 0), worstMs: worst(longTasks), cpuLongTasks: typingCpu.count, cpuWorstMs: typingCpu.worstMs, mainThreadCpuMs: typingCpu.busyMs },
      keyToPaint: { p50: lat.p50, p95: lat.p95, p99: lat.p99, max: lat.max },
      keyToUpdate: { p50: upd.p50, p95: upd.p95, p99: upd.p99, max: upd.max },
      loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      remoteKeystrokes: remoteKeys,
    }
    table([
      {
        build: o.label,
        worker: result.documentWorker ? 'yes' : 'no',
        'live after ms': liveMs.toFixed(0),
        'remote only: long tasks wall / cpu, main-thread cpu': `${result.remoteOnly.longTasks} (worst ${result.remoteOnly.worstMs} ms) / ${remoteCpu.count} (worst ${remoteCpu.worstMs} ms), ${(remoteCpu.busyMs / o.seconds).toFixed(0)} ms/s`,
        'typing: long tasks wall / cpu, main-thread cpu': `${result.typing.longTasks} (worst ${result.typing.worstMs} ms) / ${typingCpu.count} (worst ${typingCpu.worstMs} ms), ${(typingCpu.busyMs / typingSeconds).toFixed(0)} ms/s`,
        'key→paint p50/p95/p99 ms': [lat.p50, lat.p95, lat.p99].map((v) => v.toFixed(1)).join(' / '),
        'key→update p50/p99 ms': [upd.p50, upd.p99].map((v) => v.toFixed(1)).join(' / '),
        keys: latencies.length,
      },
    ])
    writeResult(`browser-${o.label.replace(/\W+/g, '-')}`, result)
    return result
  } finally {
    for (const t of typists) {
      stopTyping(t)
      t.ws.terminate()
    }
    await browser?.close()
    await host?.close()
    await server.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run()
