import assert from 'node:assert/strict'
import { fork, type ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import type { Role } from '@session-kit/core'
import { mintToken } from '../auth/tokens.js'
import { oneBackend, type Backend } from '../testing/db.js'
import { RawClient } from '../testing/client.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET } from '../testing/server.js'

/*
 * The server runs in a process of its own — this same file, started with --expose-gc and
 * SK_MEMORY_SERVER set — so that its heap holds nothing of the clients', a full collection can be
 * forced before each reading, and the two sides use both cores. It answers over the IPC channel.
 */

const CYCLES = 10_000
const WARM_UP = 1_000
const ROOMS = 6
const LANES = 16
/**
 * Allowed heap growth between the reading after warm-up and the one at the end, 9,000 connections
 * later. Whatever a connection could leave behind — a peer (its socket, token claims, permissions,
 * sync state), a timer or listener closing over one, a room — is kilobytes, so a leak of even
 * 400 bytes per connection (3.4 MB) fails, while an idle server's readings after a full collection
 * move by about 1 MB (code the optimiser compiles late, caches of the database driver).
 */
const MAX_GROWTH = 3.5 * 2 ** 20
/** Empty rooms unload after this long, so the server can be compared with itself at rest. */
const IDLE_UNLOAD_MS = 200

interface Reading {
  heapUsed: number
  stats: { rooms: number; loading: number; peers: number; joining: number }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---- the server process --------------------------------------------------------------------

async function serve(backend: Backend) {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('start the server process with --expose-gc')
  const s = await startTestServer(backend)
  s.hub.deps.idleUnloadMs = IDLE_UNLOAD_MS
  const answers: Record<string, () => Promise<unknown>> = {
    /** Wait until nothing is left: no peers, no hello still being checked (a join runs to its end
     *  even after its socket hung up), every empty room unloaded and every bookkeeping write done. */
    async rest(): Promise<Reading> {
      const atRest = () => Object.values(s.hub.stats).every((n) => n === 0)
      for (let t = 0; t < 400 && !atRest(); t++) await sleep(25)
      await s.hub.drain()
      await sleep(50) // the compaction each unloaded room started
      // The test helper keeps every log line for assertions: that is not the server's memory.
      ;(s as unknown as { logs: string[] }).logs.length = 0
      for (let i = 0; i < 3; i++) gc()
      return { heapUsed: process.memoryUsage().heapUsed, stats: s.hub.stats }
    },
    async counts() {
      const [{ connections }] = await s.db.sql<{ connections: number }[]>`select count(*)::int as connections from connections`
      const [{ joins, leaves }] = await s.db.sql<{ joins: number; leaves: number }[]>`
        select count(*) filter (where kind = 'join')::int as joins, count(*) filter (where kind = 'leave')::int as leaves from events`
      return { connections, joins, leaves }
    },
    async stop() {
      await s.stop()
      setImmediate(() => process.exit(0))
    },
  }
  process.on('message', (m: { id: number; ask: string }) => {
    void answers[m.ask]!().then(
      (value) => process.send!({ id: m.id, value }),
      (e: Error) => process.send!({ id: m.id, error: e.stack ?? e.message }),
    )
  })
  process.once('disconnect', () => process.exit(1)) // the test process is gone
  process.send!({ id: 0, value: s.url })
}

function startServerProcess(backend: Backend) {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, SK_MEMORY_SERVER: backend },
  })
  let next = 1
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const w = waiting.get(m.id)
    waiting.delete(m.id)
    if (m.error) w?.reject(new Error(m.error))
    else w?.resolve(m.value)
  })
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`the server process exited with code ${code}`))
  })
  const answer = (id: number) => new Promise<any>((resolve, reject) => waiting.set(id, { resolve, reject }))
  return {
    url: answer(0) as Promise<string>,
    ask<T>(what: string): Promise<T> {
      const id = next++
      const p = answer(id)
      child.send({ id, ask: what })
      return p
    },
  }
}

// ---- the clients ---------------------------------------------------------------------------

const token = (sid: string, role: Role, user: string) => mintToken({ sid, role, sub: user, name: `${role} ${user}` }, TEST_SECRET, { ttl: '1h' })

/**
 * One socket's life, varied by `i`: a hello answered with a welcome, then one of: leave at once,
 * leave in the middle of the sync handshake, post a chat message, type an edit and wait for its
 * acknowledgement (a full Automerge client), or hang up before the hello is answered.
 */
async function cycle(url: string, i: number) {
  const sid = `mem-${i % ROOMS}`
  const user = `u${i}`
  const kind = i % 10
  if (kind === 0) {
    const c = await RawClient.connect(url, sid, await token(sid, 'learner', user))
    assert.ok(c.welcome, `cycle ${i}: no welcome: ${JSON.stringify(c.closed)}`)
    assert.ok(await c.waitFor(() => c.text('main.js') !== undefined), `cycle ${i}: no document`)
    const hash = c.type('main.js', 0, 'x')
    assert.ok(await c.waitFor(() => c.acked.has(hash)), `cycle ${i}: edit not acknowledged`)
    c.close()
    await c.waitClosed()
    return
  }
  const hello = JSON.stringify({ type: 'hello', token: await token(sid, kind === 1 ? 'instructor' : 'learner', user), protocol: 1, sync: kind <= 4 })
  const ws = new WebSocket(url.replace(/^http/, 'ws') + `/v1/sessions/${sid}/sync`)
  await new Promise<void>((resolve, reject) => {
    let welcomed = false
    ws.on('open', () => {
      ws.send(hello)
      if (kind === 9) ws.close()
    })
    ws.on('message', (data, binary) => {
      if (binary) {
        if (welcomed) ws.close() // the server's first sync message: leave mid-handshake
        return
      }
      const m = JSON.parse(String(data))
      if (m.type === 'welcome') {
        welcomed = true
        if (kind === 5) ws.send(JSON.stringify({ type: 'chat', text: `hello from ${user}` }))
        else if (kind > 4) ws.close()
      } else if (m.type === 'chat' && m.message.userId === user) ws.close()
      else if (m.type === 'error') reject(new Error(`cycle ${i}: ${m.message}`))
    })
    ws.on('close', (code) => (welcomed || kind === 9 ? resolve() : reject(new Error(`cycle ${i}: closed ${code} before the welcome`))))
    ws.on('error', reject)
  })
}

async function cycles(url: string, from: number, to: number) {
  let next = from
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < to) await cycle(url, next++)
    }),
  )
}

// ---- the test ------------------------------------------------------------------------------

if (process.env.SK_MEMORY_SERVER) {
  await serve(process.env.SK_MEMORY_SERVER as Backend)
} else {
  // Ten thousand connections take about 95 s here: once, on the database production uses.
  for (const backend of [oneBackend()]) {
    describe(`server memory over ${CYCLES.toLocaleString('en')} connections on ${backend}`, () => {
      let server: ReturnType<typeof startServerProcess>
      let url: string
      before(async () => {
        server = startServerProcess(backend)
        url = await server.url
        for (let r = 0; r < ROOMS; r++) {
          const res = await fetch(`${url}/v1/sessions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ id: `mem-${r}`, title: `Room ${r}`, ownerId: 'owner', files: { 'main.js': 'console.log("hello")\n'.repeat(20) } }),
          })
          assert.equal(res.status, 201)
        }
      })
      after(() => server.ask('stop'))

      it('stays flat: heap after a full collection, rooms, peers and live connections all return to rest', async () => {
        const t0 = performance.now()
        await cycles(url, 0, WARM_UP)
        const baseline = await server.ask<Reading>('rest')
        await cycles(url, WARM_UP, CYCLES)
        const end = await server.ask<Reading>('rest')
        const seconds = (performance.now() - t0) / 1000
        const growth = end.heapUsed - baseline.heapUsed
        const perCycle = growth / (CYCLES - WARM_UP)
        const mb = (n: number) => (n / 2 ** 20).toFixed(2) + ' MB'
        console.log(
          `# server memory on ${backend}: ${CYCLES} connections in ${seconds.toFixed(1)} s; heap used after a full GC: ${mb(baseline.heapUsed)} after ${WARM_UP}, ${mb(end.heapUsed)} at the end: ${growth < 0 ? '' : '+'}${mb(growth)}, ${perCycle.toFixed(0)} B per connection (bound ${mb(MAX_GROWTH)})`,
        )

        for (const r of [baseline, end]) assert.deepEqual(r.stats, { rooms: 0, loading: 0, peers: 0, joining: 0 }, 'every peer gone, every hello answered, every empty room unloaded')
        const counts = await server.ask<{ connections: number; joins: number; leaves: number }>('counts')
        assert.equal(counts.connections, 0, `every connection removed from presence (${counts.connections} left)`)
        assert.equal(counts.leaves, counts.joins, 'every join has its leave')
        const online = await fetch(`${url}/v1/sessions/mem-0/participants`, { headers: { authorization: `Bearer ${await token('mem-0', 'instructor', 'owner')}` } }).then((r) => r.json() as Promise<{ participants: { online: boolean }[] }>)
        assert.deepEqual(online.participants.filter((p) => p.online), [], 'nobody is shown online')
        assert.ok(growth < MAX_GROWTH, `heap grew by ${mb(growth)} over ${CYCLES - WARM_UP} connections (${perCycle.toFixed(0)} B each): something is kept per connection`)
      })
    })
  }
}
