// Verified runs benchmark: the server runs a room's stored code and tests itself (Pyodide for
// Python, QuickJS for JavaScript) in worker threads. Measured end to end over HTTP against a server
// in its own process — POST …/runs, then GET …/runs/:id until the run ends:
// - cold: the first run of each language after the server started (its sandbox starting included);
// - warm: runs one after another (each in a fresh interpreter, the next one already started);
// - throughput: a burst of runs waiting in the queue, runs finished per second;
// - the queue: how many runs are accepted at once before the server answers 429;
// - /healthz while runs fill every sandbox: the event loop must stay free for everyone else.
//
//   npm run bench -- runs [--warm 8] [--burst 16] [--workers 1]
import { parseArgs } from 'node:util'
import { mintToken } from '@session-kit/server'
import { SECRET, createSession, sleep, startServer, summarize, table, writeResult } from './lib.mjs'

const PROGRAMS = {
  python: {
    'main.py': 'def add(a, b):\n    return a + b\n\n\nif __name__ == "__main__":\n    print(add(2, 3))\n',
    'test_main.py': 'from main import add\n\nassert add(1, 2) == 3\n\n\ndef test_negative():\n    assert add(-1, -2) == -3\n\n\ndef test_zero():\n    assert add(0, 0) == 0\n',
  },
  javascript: {
    'main.js': 'function add(a, b) {\n  return a + b\n}\nconsole.log(add(2, 3))\n',
    'main.test.js': "test('adds', () => expect(add(1, 2)).toBe(3))\ntest('negative', () => expect(add(-1, -2)).toBe(-3))\ntest('zero', () => assert.equal(add(0, 0), 0))\n",
  },
}
const ENTRY = { python: 'main.py', javascript: 'main.js' }
const FINAL = new Set(['passed', 'failed', 'error', 'timeout'])

export async function run(argv = []) {
  const { values } = parseArgs({ args: argv, options: { warm: { type: 'string', default: '8' }, burst: { type: 'string', default: '16' }, workers: { type: 'string', default: '1' } }, strict: false })
  const warmRuns = Number(values.warm)
  const burst = Number(values.burst)
  const workers = Number(values.workers)
  // Rate limits out of the way (the queue is what is measured); the default queue of 20.
  const server = await startServer({ env: { SESSION_KIT_RUN_WORKERS: String(workers), SESSION_KIT_RUNS_PER_USER: '100000', SESSION_KIT_RUNS_PER_ROOM: '100000' } })
  const rows = []
  const result = { workers, languages: {} }
  try {
    const tokens = {}
    for (const language of Object.keys(PROGRAMS)) {
      const sid = `runs-${language}`
      await createSession(server.url, sid, PROGRAMS[language])
      tokens[language] = await mintToken({ sid, role: 'instructor', sub: 'bench-instructor', name: 'Bench' }, SECRET)
    }
    const start = async (language, kind = 'tests') => {
      const res = await fetch(`${server.url}/v1/sessions/runs-${language}/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[language]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind, file: ENTRY[language] }),
      })
      const body = await res.json()
      return { status: res.status, id: body.id }
    }
    const finish = async (language, id) => {
      for (;;) {
        const res = await fetch(`${server.url}/v1/sessions/runs-${language}/runs/${id}`, { headers: { authorization: `Bearer ${tokens[language]}` } })
        const body = await res.json()
        if (FINAL.has(body.status)) return body
        await sleep(20)
      }
    }
    const once = async (language) => {
      const t0 = performance.now()
      const { status, id } = await start(language)
      if (status !== 202) throw new Error(`${language}: POST runs answered ${status}`)
      const body = await finish(language, id)
      if (body.status !== 'passed') throw new Error(`${language}: the run ${body.status}: ${body.reason ?? JSON.stringify(body.tests)}`)
      return performance.now() - t0
    }

    for (const language of Object.keys(PROGRAMS)) {
      const cold = await once(language)
      const warm = []
      for (let i = 0; i < warmRuns; i++) warm.push(await once(language))
      // A burst: every run queued at once, then the time until the last one ended.
      const t0 = performance.now()
      await Promise.all(Array.from({ length: burst }, () => once(language)))
      const burstSeconds = (performance.now() - t0) / 1000
      const w = summarize(warm)
      result.languages[language] = { coldMs: Math.round(cold), warm: w, burst, burstSeconds, runsPerSecond: burst / burstSeconds }
      rows.push({ language, 'cold (ms)': Math.round(cold), 'warm p50 (ms)': Math.round(w.p50), 'warm p95 (ms)': Math.round(w.p95), [`burst of ${burst}`]: `${burstSeconds.toFixed(1)} s`, 'runs/s': (burst / burstSeconds).toFixed(2) })
    }
    console.log(`verified runs, ${workers} sandbox worker${workers === 1 ? '' : 's'}, a test file of 3 tests, end to end over HTTP:`)
    table(rows)

    // The queue: many runs asked for at once; those past the queue are answered 429 at once.
    const asked = 60
    const answers = await Promise.all(Array.from({ length: asked }, () => start('javascript')))
    const accepted = answers.filter((a) => a.status === 202)
    const refused = answers.filter((a) => a.status === 429).length
    // /healthz while those runs fill the sandboxes.
    const health = []
    const ends = Promise.all(accepted.map((a) => finish('javascript', a.id)))
    let done = false
    void ends.then(() => (done = true))
    while (!done) {
      const t0 = performance.now()
      await fetch(`${server.url}/healthz`)
      health.push(performance.now() - t0)
      await sleep(50)
    }
    const h = summarize(health)
    result.queue = { asked, accepted: accepted.length, refused, healthz: h }
    console.log(`\n${asked} runs asked for at once: ${accepted.length} accepted (running + queued), ${refused} answered 429 with Retry-After`)
    console.log(`/healthz while they ran: p50 ${h.p50.toFixed(1)} ms, p99 ${h.p99.toFixed(1)} ms, max ${h.max.toFixed(1)} ms (${h.n} requests)`)
    console.log(`results: ${writeResult('runs', result)}`)
  } finally {
    await server.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2))
