import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import * as A from '@automerge/automerge'
import { mintToken } from '../auth/tokens.js'
import { compressedChunk } from '../testing/chunks.js'
import { RawClient } from '../testing/client.js'
import { freshDataDir, removeDir } from '../testing/db.js'
import { freePort, spawnServer, type ServerProcess } from '../testing/process.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'

// Reliability: one writer must not be able to stall the server. A learner sends the heaviest sync
// frames it can (just under the 1 MiB frame limit, a few changes of ~199,000 one-character inserts
// each — before the fix one such frame blocked the event loop for 10–20 s and grew memory by
// 400–500 MB), and then the heaviest frames the limits allow, again and again; meanwhile /healthz
// and a writer in another room must keep answering, and the server's memory must stay bounded.

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

/** A sync message carrying `changes`, addressed as a live peer would (our heads as lastSync). */
function syncMessage(client: RawClient, changes: Uint8Array[]): Uint8Array {
  const heads = A.getHeads(client.doc)
  return A.encodeSyncMessage({ type: 'message', heads, need: [], have: [{ lastSync: heads, bloom: new Uint8Array(0) }], changes } as A.DecodedSyncMessage)
}

/** Changes that each insert `size` characters, made on a copy of the client's document. */
function pastes(client: RawClient, count: number, size: number): Uint8Array[] {
  let doc = A.clone(client.doc)
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    doc = A.change(doc, (d) => A.splice(d, ['files', 'main.js'], 0, 0, 'a'.repeat(size)))
    out.push(A.getLastLocalChange(doc)!)
  }
  return out
}

/** Poll /healthz every 50 ms; report the slowest answer. */
function watchHealth(url: string) {
  let slowest = 0
  let answered = 0
  let running = true
  const done = (async () => {
    while (running) {
      const t0 = performance.now()
      const res = await fetch(`${url}/healthz`)
      await res.arrayBuffer()
      slowest = Math.max(slowest, performance.now() - t0)
      answered++
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  return {
    async stop() {
      running = false
      await done
      return { slowest, answered }
    },
  }
}

/** A writer in another room typing a key every 100 ms; reports its slowest acknowledgement. */
async function typistElsewhere(url: string, sid: string) {
  const client = await RawClient.connect(url, sid, await mintToken({ sid, role: 'instructor', sub: 'typist', name: 'Typist' }, TEST_SECRET))
  assert.ok(await client.waitFor(() => client.text() !== undefined), 'the typist synced')
  const sent = new Map<string, number>()
  let slowest = 0
  client.ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) return
    const m = JSON.parse(data.toString())
    if (m.type === 'ack') for (const h of m.changes) if (sent.has(h)) slowest = Math.max(slowest, performance.now() - sent.get(h)!)
  })
  let running = true
  const done = (async () => {
    while (running) {
      sent.set(client.type('main.js', 0, 'k'), performance.now())
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  return {
    async stop() {
      running = false
      await done
      await client.waitFor(() => [...sent.keys()].every((h) => client.acked.has(h)), 5000)
      client.close()
      return { slowest, typed: sent.size, acked: [...sent.keys()].filter((h) => client.acked.has(h)).length }
    },
  }
}

describe('one writer cannot stall the server', () => {
  let server: ServerProcess
  let dataDir: string
  let url: string
  const learner = (sid: string, sub: string) => mintToken({ sid, role: 'learner', sub, name: sub }, TEST_SECRET)
  const create = (id: string) =>
    fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id, title: id, ownerId: 'owner', files: { 'main.js': '// start\n' } }),
    })

  before(async () => {
    dataDir = await freshDataDir()
    const port = await freePort()
    // A short cool-down so the test can see it end.
    server = await spawnServer({ port, dataDir, env: { SESSION_KIT_WRITE_COOLDOWN: '4s' } })
    url = server.url
    for (const id of ['flood', 'quiet', 'allowed']) assert.equal((await create(id)).status, 201)
  })
  after(async () => {
    await server?.kill('SIGKILL')
    removeDir(dataDir)
  })

  it('refuses frames of ~1 MB of inserts at once, without stalling anyone; after three it keeps the sender out for a while', async () => {
    // Made before anything is measured: building it takes this process seconds. The room's
    // document does not change (every frame is refused), so one frame serves every attempt.
    const first = await RawClient.connect(url, 'flood', await learner('flood', 'mallory'))
    await first.waitFor(() => first.text() !== undefined)
    const frame = syncMessage(first, pastes(first, 5, 199_000))
    first.close()
    assert.ok(frame.length < 1024 * 1024, `the frame (${frame.length} bytes) is under the frame limit`)
    const health = watchHealth(url)
    const typist = await typistElsewhere(url, 'quiet')
    const rssBefore = rssMb(server.child.pid!)
    let rssPeak = rssBefore
    const outcomes: { code?: number; error?: string; ms: number }[] = []
    for (let attempt = 0; attempt < 3; attempt++) {
      const attacker = await RawClient.connect(url, 'flood', await learner('flood', 'mallory'))
      assert.ok(attacker.welcome, `attempt ${attempt}: joined`)
      await attacker.waitFor(() => attacker.text() !== undefined)
      const t0 = performance.now()
      attacker.ws.send(frame)
      const closed = await attacker.waitClosed(30_000)
      outcomes.push({ code: closed?.code, error: attacker.event('error')?.code, ms: performance.now() - t0 })
      rssPeak = Math.max(rssPeak, rssMb(server.child.pid!))
    }
    // Reconnecting at once is refused at the hello, before anything is read.
    const again = await RawClient.connect(url, 'flood', await learner('flood', 'mallory'))
    const kept = { welcome: again.welcome !== null, closed: await again.waitClosed(5000), error: again.event('error') }
    const { slowest: healthSlowest, answered } = await health.stop()
    const elsewhere = await typist.stop()

    assert.deepEqual(outcomes.map((o) => [o.code, o.error]), [[4003, 'too_large'], [4003, 'too_large'], [4403, 'too_large']], JSON.stringify(outcomes))
    for (const o of outcomes) assert.ok(o.ms < 1000, `a refused frame was answered after ${o.ms.toFixed(0)} ms`)
    assert.equal(kept.welcome, false, 'the sender is kept out for the cool-down')
    assert.equal(kept.closed?.code, 4403)
    assert.equal(kept.error?.code, 'cooling_down')
    assert.match(kept.error?.message ?? '', /kept out of this session for \d seconds? more/)
    assert.ok(answered > 0 && healthSlowest < 1000, `/healthz answered ${answered} times, the slowest after ${healthSlowest.toFixed(0)} ms`)
    assert.equal(elsewhere.acked, elsewhere.typed, 'every keystroke in the other room was saved')
    assert.ok(elsewhere.slowest < 1000, `the slowest keystroke in another room was acknowledged after ${elsewhere.slowest.toFixed(0)} ms`)
    assert.ok(rssPeak - rssBefore < 150, `memory grew ${(rssPeak - rssBefore).toFixed(0)} MB (from ${rssBefore.toFixed(0)} MB)`)
    console.log(`flood: refused in ${outcomes.map((o) => o.ms.toFixed(0)).join(' / ')} ms; /healthz slowest ${healthSlowest.toFixed(0)} ms over ${answered}; other room's slowest ack ${elsewhere.slowest.toFixed(0)} ms; RSS ${rssBefore.toFixed(0)} → ${rssPeak.toFixed(0)} MB`)

    // The cool-down ends by itself, and the document is as the owner left it.
    await new Promise((r) => setTimeout(r, 4200))
    const back = await RawClient.connect(url, 'flood', await learner('flood', 'mallory'))
    assert.ok(back.welcome, `after the cool-down: ${JSON.stringify(back.closed)}`)
    assert.ok(await back.waitFor(() => back.text() === '// start\n'), 'nothing of the flood was stored')
    back.close()
  })

  it('takes the heaviest edit the limits allow once, then holds the writer to its allowance without disturbing the room', async () => {
    const neighbour = await RawClient.connect(url, 'allowed', await learner('allowed', 'neighbour'))
    await neighbour.waitFor(() => neighbour.text() !== undefined)
    const writer = await RawClient.connect(url, 'allowed', await learner('allowed', 'paster'))
    await writer.waitFor(() => writer.text() !== undefined)
    // 20,000 characters in one edit (the default limit), twice; made before anything is measured.
    const [first, second] = pastes(writer, 2, 20_000) as [Uint8Array, Uint8Array]
    const health = watchHealth(url)
    const typist = await typistElsewhere(url, 'quiet')
    writer.ws.send(syncMessage(writer, [first]))
    const firstHash = A.decodeChange(first).hash
    assert.ok(await writer.waitFor(() => writer.acked.has(firstHash), 15_000), 'the largest allowed edit is saved')
    // The next one at once is over the writer's allowance for this minute.
    writer.ws.send(syncMessage(writer, [second]))
    const closed = await writer.waitClosed(5000)
    const { slowest } = await health.stop()
    const elsewhere = await typist.stop()
    const limited = writer.event('error')
    assert.equal(closed?.code, 4429)
    assert.equal(limited?.code, 'rate_limited')
    assert.ok(limited.retryAfterMs > 1000, `retry after ${limited.retryAfterMs} ms`)
    assert.match(limited.message, /within a minute; your latest edits are kept/)
    // The rest of the room has the first edit, not the second, and keeps editing.
    assert.ok(await neighbour.waitFor(() => (neighbour.text() ?? '').length === 20_009, 15_000), 'the allowed edit reached the rest of the room')
    const own = neighbour.type('main.js', 0, 'n')
    assert.ok(await neighbour.waitFor(() => neighbour.acked.has(own)), 'the rest of the room keeps editing')
    assert.equal((neighbour.text() ?? '').length, 20_010)
    neighbour.close()
    assert.ok(slowest < 1000, `/healthz slowest ${slowest.toFixed(0)} ms`)
    assert.ok(elsewhere.slowest < 1000 && elsewhere.acked === elsewhere.typed, `another room: ${JSON.stringify(elsewhere)}`)
    console.log(`largest allowed edit: /healthz slowest ${slowest.toFixed(0)} ms; other room's slowest ack ${elsewhere.slowest.toFixed(0)} ms`)
  })
})

describe('a writer over its allowance', () => {
  let s: TestServer
  const sid = 'allowance'
  before(async () => {
    // 200 operations a second, a minute's worth (12,000) at once; 2,000 per edit.
    s = await startTestServer('pglite', { env: { SESSION_KIT_MAX_EDIT_CHARS: '2000', SESSION_KIT_EDIT_RATE: '12000' } })
    assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Allowance', ownerId: 'owner', files: { 'main.js': '' } })).status, 201)
  })
  after(() => s.stop())

  it('is told when to come back, and its waiting edits are taken then', async () => {
    const writer = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'fast'))
    await writer.waitFor(() => writer.text() !== undefined)
    for (let i = 0; i < 6; i++) {
      const hash = writer.type('main.js', 0, 'x'.repeat(2000))
      assert.ok(await writer.waitFor(() => writer.acked.has(hash) || writer.closed !== null), `paste ${i} saved`)
    }
    writer.type('main.js', 0, 'y'.repeat(2000))
    assert.equal((await writer.waitClosed())?.code, 4429)
    const { code, retryAfterMs } = writer.event('error')
    assert.equal(code, 'rate_limited')
    assert.ok(retryAfterMs >= 1000 && retryAfterMs <= 10_000, `retry after ${retryAfterMs} ms`)
    // The replica keeps the edit; once the wait is over the same replica syncs it (as a browser does).
    await new Promise((r) => setTimeout(r, retryAfterMs))
    const back = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'fast'))
    back.doc = A.merge(back.doc, writer.doc)
    back.flush()
    assert.ok(await back.waitFor(() => back.acked.size >= 1 && back.closed === null), `after ${retryAfterMs} ms the waiting edit is saved: ${JSON.stringify(back.closed)}`)
    const reader = await RawClient.connect(s.url, sid, await s.token(sid, 'observer', 'reader'))
    assert.ok(await reader.waitFor(() => (reader.text() ?? '').length === 7 * 2000))
    reader.close()
    back.close()
  })
})

describe('limits of a document and its files', () => {
  let s: TestServer
  const sid = 'limits'
  before(async () => {
    s = await startTestServer('pglite', { env: { SESSION_KIT_MAX_DOCUMENT_CHARS: '3000', SESSION_KIT_MAX_EDIT_CHARS: '2000', SESSION_KIT_MAX_FILES: '5' } })
    assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Limits', ownerId: 'owner', files: { 'main.js': '' } })).status, 201)
  })
  after(() => s.stop())

  it('an instructor cannot add more files than the limit, by sync or by the files route', async () => {
    const owner = await RawClient.connect(s.url, sid, await s.token(sid, 'instructor', 'owner'))
    await owner.waitFor(() => owner.text() !== undefined)
    owner.edit((d) => {
      for (let i = 0; i < 10; i++) d.files[`f${i}.js`] = ''
    })
    assert.equal((await owner.waitClosed())?.code, 4003)
    assert.match(owner.event('error')?.message ?? '', /at most 5 files/)
    const token = await s.token(sid, 'instructor', 'owner')
    for (let i = 1; i < 5; i++) assert.equal((await s.api('POST', `/v1/sessions/${sid}/files`, token, { name: `extra${i}.js` })).status, 201)
    const over = await s.api('POST', `/v1/sessions/${sid}/files`, token, { name: 'one-too-many.js' })
    assert.equal(over.status, 409)
    assert.equal(over.json.error.code, 'too_many_files')
    const doc = await s.api('GET', `/v1/sessions/${sid}/document`, token)
    assert.equal(Object.keys(doc.json.files).length, 5)
  })

  it('a full document takes no new text from anyone, and still takes deletions; nobody is punished for it', async () => {
    const owner = await RawClient.connect(s.url, sid, await s.token(sid, 'instructor', 'owner'))
    await owner.waitFor(() => owner.text() !== undefined)
    const fill = owner.type('main.js', 0, 'f'.repeat(1990))
    assert.ok(await owner.waitFor(() => owner.acked.has(fill)))
    const token = await s.token(sid, 'instructor', 'owner')
    const route = await s.api('POST', `/v1/sessions/${sid}/files`, token, { name: 'big.js', content: 'b'.repeat(2000) })
    assert.equal(route.status, 413, 'the files route is held to the same limit')
    assert.equal(route.json.error.code, 'document_full')
    for (let i = 0; i < 4; i++) {
      const client = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'typist'))
      await client.waitFor(() => (client.text('main.js') ?? '').length === 1990)
      client.type('main.js', 0, 'z'.repeat(1500))
      assert.equal((await client.waitClosed())?.code, 4003, `attempt ${i}: refused and asked to rejoin, never closed for good`)
      assert.equal(client.event('error')?.code, 'document_full')
    }
    const del = owner.edit((d) => A.splice(d, ['files', 'main.js'], 0, 100))
    assert.ok(await owner.waitFor(() => owner.acked.has(del)), 'deleting still works')
    owner.close()
  })

  it('a whole document sent as one entry is read off the event loop, and only what it adds counts', async () => {
    const sid2 = 'bulk'
    assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid2, title: 'Bulk', ownerId: 'owner', files: { 'main.js': 'start' } })).status, 201)
    const writer = await RawClient.connect(s.url, sid2, await s.token(sid2, 'learner', 'offline'))
    await writer.waitFor(() => writer.text() === 'start')
    // Two edits made offline, sent the way Automerge sends a peer it believes has nothing: the
    // whole document as one entry (the server's own 5 characters plus the 20 new ones).
    let doc = A.clone(writer.doc)
    doc = A.change(doc, (d) => A.splice(d, ['files', 'main.js'], 5, 0, ' one more line'))
    doc = A.change(doc, (d) => A.splice(d, ['files', 'main.js'], 0, 0, '// new '))
    writer.ws.send(syncMessage(writer, [A.save(doc)]))
    const [h1, h2] = A.getChanges(writer.doc, doc).map((c) => A.decodeChange(c).hash)
    assert.ok(await writer.waitFor(() => writer.acked.has(h1!) && writer.acked.has(h2!)), `both offline edits saved: ${JSON.stringify(writer.closed)}`)
    // The same way, 2,500 new characters: more than one edit may carry (2,000 here).
    doc = A.change(doc, (d) => A.splice(d, ['files', 'main.js'], 0, 0, 'w'.repeat(2500)))
    writer.ws.send(syncMessage(writer, [A.save(doc)]))
    assert.equal((await writer.waitClosed())?.code, 4003)
    assert.equal(writer.event('error')?.code, 'too_large')
    const text = (await s.api('GET', `/v1/sessions/${sid2}/document`, await s.token(sid2, 'observer', 'o'))).json.files['main.js']
    assert.equal(text, '// new start one more line')
  })

  it('a compressed change that would expand past what a message may hold is refused before Automerge inflates it', async () => {
    const writer = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'bomber'))
    await writer.waitFor(() => writer.text() !== undefined)
    const real = pastes(writer, 1, 10)[0]!
    const bomb = deflateRawSync(new Uint8Array(64 * 1024 * 1024))
    const chunk = compressedChunk(real, bomb)
    writer.ws.send(syncMessage(writer, [chunk]))
    assert.equal((await writer.waitClosed())?.code, 4003)
    assert.match(writer.event('error')?.message ?? '', /expand to more than/)
  })
})

