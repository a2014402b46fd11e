import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as A from '@automerge/automerge'
import { SignJWT } from 'jose'
import WebSocket from 'ws'
import { mintToken } from './auth/tokens.js'
import { RawClient } from './testing/client.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from './testing/server.js'

// Hostile input: generated cases, each answered with its documented error; the process stays up
// and the room's document is never corrupted.

/** A small seeded generator, so a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1
  return () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32)
}

interface Outcome {
  close?: number
  errors: string[]
}

/** Open a raw socket, send a hello (unless told otherwise) and then `frames`; report how it ended. */
function exchange(url: string, sid: string, hello: unknown, frames: (string | Buffer)[], waitMs = 1500, errorsExpected = Infinity): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + `/v1/sessions/${sid}/sync`)
    const out: Outcome = { errors: [] }
    const done = () => {
      clearTimeout(timer)
      ws.removeAllListeners()
      ws.on('error', () => {})
      if (ws.readyState === WebSocket.OPEN) ws.close()
      resolve(out)
    }
    const timer = setTimeout(done, waitMs)
    ws.on('open', () => {
      if (hello !== undefined) ws.send(typeof hello === 'string' ? hello : JSON.stringify(hello))
    })
    ws.on('message', (data, binary) => {
      if (binary) return
      const m = JSON.parse(data.toString())
      if (m.type === 'error') out.errors.push(m.code)
      if (out.errors.length >= errorsExpected) setTimeout(done, 20)
      if (m.type === 'welcome') for (const f of frames) ws.send(f)
    })
    ws.on('close', (code) => {
      out.close = code
      done()
    })
    ws.on('error', () => {})
  })
}

describe('hostile input (PGlite)', () => {
  let s: TestServer
  const sid = 'hostile'
  let counter = 0
  const token = (role: 'instructor' | 'learner' | 'observer' = 'learner') => s.token(sid, role, `attacker-${++counter}`, { name: 'Mallory' })

  before(async () => {
    s = await startTestServer('pglite')
    assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Hostile', ownerId: 'owner', files: { 'main.js': 'safe' } })).status, 201)
  })
  after(() => s.stop())

  it('survives at least 1,000 generated hostile cases, each answered as documented, with the document intact', async () => {
    const random = rng(20261128)
    const tally = new Map<string, number>()
    const count = (kind: string) => tally.set(kind, (tally.get(kind) ?? 0) + 1)

    // A real change to cut up, and a valid change of a document that is not this room's.
    const writer = await RawClient.connect(s.url, sid, await s.token(sid, 'instructor', 'owner', { name: 'Owner' }))
    assert.ok(await writer.waitFor(() => writer.text() === 'safe'))
    let probe = A.clone(writer.doc)
    probe = A.change(probe, (d) => A.splice(d, ['files', 'main.js'], 0, 0, 'x'))
    const realMessage = A.encodeSyncMessage({ heads: A.getHeads(probe), need: [], have: [{ lastSync: A.getHeads(writer.doc), bloom: new Uint8Array(0) }], changes: [A.getLastLocalChange(probe)!] } as A.DecodedSyncMessage)
    const foreign = A.change(A.from({ files: { 'main.js': 'other' } }), (d) => A.splice(d, ['files', 'main.js'], 0, 0, 'evil'))
    const foreignMessage = A.encodeSyncMessage({ heads: A.getHeads(foreign), need: [], have: [{ lastSync: [], bloom: new Uint8Array(0) }], changes: A.getAllChanges(foreign) } as A.DecodedSyncMessage)

    const cases: { kind: string; weight?: number; run: () => Promise<void> }[] = []
    // 1. Random binary frames: not a sync message → 4400.
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 300) + 1 }, () => Math.floor(random() * 256)))
      cases.push({ kind: 'random binary frame', run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: await token(), protocol: 1, sync: true }, [bytes])
        assert.ok(o.close === 4400 || o.close === 4003, `random frame: closed ${o.close}`)
      } })
    }
    // 2. A real sync message cut short → 4400 or 4003 (the change cannot be read).
    for (let i = 0; i < 150; i++) {
      const cut = Math.floor(random() * (realMessage.length - 1)) + 1
      cases.push({ kind: 'truncated sync message', run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: await token(), protocol: 1, sync: true }, [Buffer.from(realMessage.subarray(0, cut))])
        assert.ok(o.close === 4400 || o.close === 4003 || o.close === undefined, `truncated at ${cut}: closed ${o.close}`)
      } })
    }
    // 3. Valid changes of another document → refused, 4003, nothing stored.
    for (let i = 0; i < 50; i++) {
      cases.push({ kind: 'changes of another document', run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: await token(), protocol: 1, sync: true }, [Buffer.from(foreignMessage)])
        assert.equal(o.close, 4003, 'foreign changes are refused')
      } })
    }
    // 4. JSON events with wrong types or unknown names → an error event, the socket stays open.
    const junk: unknown[] = [
      { type: 'chat', text: 42 },
      { type: 'chat' },
      { type: 'chat', text: '' },
      { type: 'chat', text: 'x'.repeat(2001) },
      { type: 'run', run: 'yes' },
      { type: 'run', run: { file: 1 } },
      { type: 'presence', cursor: 'everywhere' },
      { type: 'presence', cursor: { file: null } },
      { type: 'token', token: 17 },
      { type: 'launch-missiles' },
      { type: null },
      [],
      'just a string',
      123,
      { type: '__proto__', __proto__: { polluted: true } },
      { type: 'chat', text: { toString: 'x' } },
      // Lecture mode: wrong types, overlong or control-character questions, bogus user ids, and
      // what a learner may not do (each answered with one error: malformed or forbidden).
      { type: 'follow', on: 'yes' },
      { type: 'follow' },
      { type: 'follow', on: true },
      { type: 'hand' },
      { type: 'hand', raised: 1 },
      { type: 'hand', raised: true, question: 42 },
      { type: 'hand', raised: true, question: 'q'.repeat(281) },
      { type: 'hand', raised: true, question: 'ring\u0007the bell' },
      { type: 'hand', raised: true, question: 'nul\u0000byte' },
      { type: 'hand', raised: true, question: '\u001b[2J' },
      { type: 'hand', raised: true, userId: 'owner' },
      { type: 'hand', raised: true, all: true },
      { type: 'hand', raised: false, all: 'yes' },
      { type: 'hand', raised: false, userId: 7 },
      { type: 'hand', raised: false, userId: '' },
      { type: 'hand', raised: false, userId: 'u'.repeat(201) },
      { type: 'hand', raised: false, userId: 'someone-else' },
      { type: 'spotlight' },
      { type: 'spotlight', userId: { id: 'owner' } },
      { type: 'spotlight', userId: 'nul\u0000id' },
      { type: 'spotlight', userId: 'owner' },
      { type: 'spotlight', userId: null },
      { type: 'spotlight', userId: null, sessionId: 42 },
      { type: 'spotlight', userId: null, sessionId: '' },
      { type: 'spotlight', userId: null, sessionId: 's'.repeat(201) },
      { type: 'spotlight', userId: null, sessionId: 'nul\u0000room' },
      { type: 'spotlight', userId: null, sessionId: 'someone-elses-room' },
    ]
    // Ten to a connection: each gets its own error event, and the connection stays open.
    for (let i = 0; i < 40; i++) {
      const events = Array.from({ length: 10 }, () => junk[Math.floor(random() * junk.length)])
      cases.push({ kind: 'malformed JSON event', weight: 10, run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: await token(), protocol: 1, sync: false }, events.map((e) => JSON.stringify(e)), 3000, 10)
        assert.equal(o.close, undefined, `the socket stays open after ${JSON.stringify(events)}`)
        assert.equal(o.errors.length, 10, `an error for each of ${JSON.stringify(events)}: ${o.errors}`)
      } })
    }
    // 4b. An instructor's lecture events naming nobody, or ids no one has: a documented answer each.
    const bogusIds = ['nobody', '__proto__', 'constructor', "'; drop table raised_hands; --", '../../etc/passwd', '\u202e', 'x'.repeat(200), 'nul\u0000id']
    for (const id of bogusIds) {
      cases.push({ kind: 'bogus ids in lecture events', run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: await token('instructor'), protocol: 1, sync: false }, [JSON.stringify({ type: 'spotlight', userId: id })], 3000, 1)
        assert.equal(o.close, undefined, 'the socket stays open')
        assert.deepEqual(o.errors, [id.includes('\u0000') ? 'malformed' : 'participant_not_found'], `spotlight ${JSON.stringify(id)}`)
      } })
      cases.push({ kind: 'bogus ids in lecture events', run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: await token('instructor'), protocol: 1, sync: false }, [JSON.stringify({ type: 'spotlight', userId: null, sessionId: id })], 3000, 1)
        assert.equal(o.close, undefined, 'the socket stays open')
        assert.deepEqual(o.errors, [id.includes('\u0000') ? 'malformed' : 'not_found'], `room spotlight ${JSON.stringify(id)}`)
      } })
    }

    // 5. Text that is not JSON after the hello → 4400.
    for (let i = 0; i < 50; i++) {
      const text = Array.from({ length: Math.floor(random() * 40) + 1 }, () => String.fromCharCode(33 + Math.floor(random() * 90))).join('') + '{'
      cases.push({ kind: 'text that is not JSON', run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: await token(), protocol: 1, sync: false }, [text])
        assert.equal(o.close, 4400)
      } })
    }
    // 6. Bad hellos and bad tokens.
    const secret = new TextEncoder().encode(TEST_SECRET)
    const now = Math.floor(Date.now() / 1000)
    const claims = { sub: 'mallory', name: 'Mallory', sid, role: 'instructor' }
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, exp: now + 600 })).toString('base64url')}.`
    const badTokens = [
      unsigned,
      await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 600).sign(new TextEncoder().encode('another-secret-' + 'z'.repeat(24))),
      await new SignJWT({ ...claims, sid: 'some-other-room' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 600).sign(secret),
      await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now - 60).sign(secret),
      await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 600).setNotBefore(now + 300).sign(secret),
      await new SignJWT({ ...claims, role: 'superuser' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 600).sign(secret),
      await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(secret),
      'not.a.token',
      '',
    ]
    for (let i = 0; i < 90; i++) {
      const t = badTokens[i % badTokens.length]
      cases.push({ kind: 'bad token', run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: t, protocol: 1, sync: true }, [])
        assert.ok(o.close === 4401 || o.close === 4400, `bad token #${i % badTokens.length}: closed ${o.close}`)
      } })
    }
    for (const hello of ['{', '[]', JSON.stringify({ type: 'hello' }), JSON.stringify({ type: 'hello', token: 'x', protocol: 99 }), JSON.stringify({ type: 'chat', text: 'before hello' })]) {
      for (let i = 0; i < 10; i++) {
        cases.push({ kind: 'bad hello', run: async () => {
          const o = await exchange(s.url, sid, hello, [])
          assert.ok(o.close === 4400 || o.close === 4401, `hello ${hello}: closed ${o.close}`)
        } })
      }
    }
    // 7. Frames over the 1 MiB limit → 4413.
    for (let i = 0; i < 10; i++) {
      cases.push({ kind: 'oversized frame', run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: await token(), protocol: 1, sync: true }, [Buffer.alloc(1024 * 1024 + 1 + i * 1000, 7)], 3000)
        assert.equal(o.close, 4413)
      } })
    }
    // 8. A flood → 4429.
    for (let i = 0; i < 3; i++) {
      cases.push({ kind: 'flood', run: async () => {
        const o = await exchange(s.url, sid, { type: 'hello', token: await token(), protocol: 1, sync: false }, Array.from({ length: 700 }, () => JSON.stringify({ type: 'ping' })), 3000)
        assert.equal(o.close, 4429)
      } })
    }
    // 9. SQL and HTML in every text field of the routes that take text: stored and returned as text.
    const payloads = ["'; drop table events; --", '<img src=x onerror=alert(1)>', '" OR 1=1 --', '${7*7}{{7*7}}', '\u0000\u202e', 'Robert"); DELETE FROM sessions;--']
    const owner = await s.token(sid, 'instructor', 'owner', { name: 'Owner' })
    for (const p of payloads) {
      cases.push({ kind: 'injection in text fields', run: async () => {
        const clean = p.replace(/\u0000/g, '')
        const snap = await s.api('POST', `/v1/sessions/${sid}/snapshots`, owner, { title: clean, description: clean })
        assert.equal(snap.status, 201)
        assert.equal((snap.json as { title: string }).title, clean.trim())
        const rec = await s.api('POST', `/v1/sessions/${sid}/recordings`, owner, { title: clean || 'x' })
        if (rec.status === 201) {
          assert.equal((rec.json as { title: string }).title, (clean || 'x').trim())
          await s.api('DELETE', `/v1/sessions/${sid}/recordings/${(rec.json as { id: string }).id}`, owner)
        }
        const patched = await s.api('PATCH', `/v1/sessions/${sid}`, owner, { title: clean || 'x' })
        assert.ok(patched.status === 200 || patched.status === 400, `title: ${patched.status}`)
        const inv = await s.api('POST', `/v1/sessions/${sid}/invitations`, owner, { email: clean, role: 'learner' })
        assert.equal(inv.status, 400, 'not an address')
      } })
    }

    for (const c of cases) {
      await c.run()
      for (let k = 0; k < (c.weight ?? 1); k++) count(c.kind)
    }

    // Still up, the document as the owner left it, and a newcomer loads it; nobody raised, led or spotlit anything.
    assert.deepEqual((await s.api('GET', '/healthz')).json, { ok: true, db: 'pglite' })
    const [lecture] = await s.db.sql`select (select count(*) from raised_hands where session_id = ${sid})::int as hands, (select count(*) from lectures where session_id = ${sid} and (follow_user_id is not null or spotlight_user_id is not null))::int as leads`
    assert.deepEqual({ ...lecture }, { hands: 0, leads: 0 })
    assert.deepEqual(s.logs.filter((l) => l.includes('could not store')), [], 'every event was answered without a database error')
    const doc = await s.api('GET', `/v1/sessions/${sid}/document`, owner)
    assert.deepEqual((doc.json as { files: Record<string, string> }).files, { 'main.js': 'safe' })
    const newcomer = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'newcomer'))
    assert.ok(await newcomer.waitFor(() => newcomer.text() === 'safe'), 'a newcomer syncs the intact document')
    newcomer.type('main.js', 4, '!')
    assert.ok(await newcomer.waitFor(() => newcomer.acked.size === 1), 'and can still edit')
    newcomer.close()
    writer.close()
    const total = [...tally.values()].reduce((a, b) => a + b, 0)
    assert.ok(total >= 1000, `${total} cases`)
    console.log(`hostile input: ${total} cases (${[...tally].map(([k, n]) => `${n} ${k}`).join(', ')}); the server stayed up and the document is intact`)
  })

  it('numbers and ids in paths and query strings: a documented 400 or 404 for anything that is not one, never a 500', async () => {
    const owner = await s.token(sid, 'instructor', 'owner', { name: 'Owner' })
    const logged = s.logs.length
    // Not whole numbers, out of the bigint range, written in another base or with spaces; a NUL.
    const junk = ['1e20', '-1', '1.5', 'NaN', '', '99999999999999999999', '0x10', '1e3', '%201', '1%20', '+1', '%2B1', 'Infinity', '9007199254740993', '0', '%00', 'a%00b', '%E2%80%AE1', 'abc']
    // Each route with a number or an id in its path or query, and what a bad one gets.
    const routes: { method: string; path: (x: string) => string; expect: number; token?: string; body?: unknown }[] = [
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/chat?before=${x}`, expect: 400 },
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/chat?limit=${x}`, expect: 400 },
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/chat?limit=10&before=${x}`, expect: 400 },
      { method: 'DELETE', path: (x) => `/v1/sessions/${sid}/chat/${x}`, expect: 404 },
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/snapshots/${x}`, expect: 404 },
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/snapshots/${x}/export`, expect: 404 },
      { method: 'POST', path: (x) => `/v1/sessions/${sid}/snapshots/${x}/restore`, expect: 404 },
      { method: 'DELETE', path: (x) => `/v1/sessions/${sid}/snapshots/${x}`, expect: 404 },
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/recordings/${x}`, expect: 404 },
      { method: 'PATCH', path: (x) => `/v1/sessions/${sid}/recordings/${x}`, expect: 404, body: { title: 't' } },
      { method: 'DELETE', path: (x) => `/v1/sessions/${sid}/recordings/${x}`, expect: 404 },
      { method: 'POST', path: (x) => `/v1/sessions/${sid}/recordings/${x}/stop`, expect: 404 },
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/recordings/${x}/events`, expect: 404 },
      { method: 'GET', path: (x) => `/v1/recordings/${x}/public`, expect: 404 },
      { method: 'POST', path: (x) => `/v1/sessions/${sid}/invitations/${x}/resend`, expect: 404, body: {} },
      { method: 'DELETE', path: (x) => `/v1/sessions/${sid}/invitations/${x}`, expect: 404 },
      { method: 'GET', path: (x) => `/v1/invitations/${x}`, expect: 404 },
      { method: 'GET', path: (x) => `/v1/sessions?limit=${x}`, expect: 400, token: TEST_API_KEY },
      { method: 'DELETE', path: (x) => `/v1/sessions/${x}`, expect: 404, token: TEST_API_KEY },
      { method: 'POST', path: (x) => `/v1/sessions/${sid}/participants/${x}/mute`, expect: 404 },
      { method: 'POST', path: (x) => `/v1/sessions/${sid}/participants/${x}/kick`, expect: 404 },
      { method: 'POST', path: (x) => `/v1/sessions/${sid}/participants/${x}/unban`, expect: 404 },
      { method: 'PATCH', path: (x) => `/v1/sessions/${sid}/participants/${x}`, expect: 404, body: { hidden: true } },
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/runs/${x}`, expect: 404 },
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/runs?limit=${x}`, expect: 400 },
      { method: 'GET', path: (x) => `/v1/sessions/${sid}/hidden-files/${x}`, expect: 404 },
      { method: 'DELETE', path: (x) => `/v1/sessions/${sid}/hidden-files/${x}`, expect: 404 },
    ]
    let checked = 0
    for (const route of routes) {
      for (const x of junk) {
        const path = route.path(x)
        const res = await s.api(route.method, path, route.token ?? owner, route.body)
        // An empty path segment is another route, which is not found either.
        assert.equal(res.status, route.expect, `${route.method} ${path}: ${res.status} ${JSON.stringify(res.json)}`)
        assert.equal(typeof res.json?.error?.code, 'string', `${route.method} ${path}: the documented error shape`)
        assert.equal(typeof res.json?.error?.message, 'string')
        checked++
      }
    }
    // The good ones still work: a real message id deletes, limits in range page.
    const page = await s.api('GET', `/v1/sessions/${sid}/chat?limit=200&before=9007199254740991`, owner)
    assert.equal(page.status, 200)
    assert.equal((await s.api('GET', `/v1/sessions/${sid}/chat?limit=201`, owner)).status, 400)
    assert.equal((await s.api('DELETE', `/v1/sessions/${sid}/chat/9007199254740991`, owner)).status, 404)
    // Text with a NUL cannot be stored by PostgreSQL: every body with one is refused up front.
    const nul = 'a\u0000b'
    const bodies: [string, string, unknown, string?][] = [
      ['POST', `/v1/sessions/${sid}/snapshots`, { title: nul }],
      ['POST', `/v1/sessions/${sid}/snapshots`, { title: 'ok', description: nul }],
      ['POST', `/v1/sessions/${sid}/recordings`, { title: nul }],
      ['PATCH', `/v1/sessions/${sid}`, { title: nul }],
      ['POST', `/v1/sessions/${sid}/invitations`, { email: 'nul@example.edu', role: 'learner', name: nul }],
      ['POST', `/v1/sessions/${sid}/files`, { name: 'nul.js', content: nul }],
      ['POST', '/v1/sessions', { title: 'x', ownerId: nul }, TEST_API_KEY],
      ['POST', '/v1/sessions', { title: 'x', ownerId: 'o', files: { 'a.js': nul } }, TEST_API_KEY],
      ['POST', `/v1/sessions/${sid}/snapshots`, { title: 'ok', [nul]: 1 }],
      ['POST', `/v1/sessions/${sid}/runs`, { kind: 'program', file: nul }],
      ['PUT', `/v1/sessions/${sid}/hidden-files/test_nul.py`, { text: nul }],
    ]
    for (const [method, path, body, key] of bodies) {
      const res = await s.api(method, path, key ?? owner, body)
      assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.json)}`)
      assert.match(res.json.error.message, /U\+0000/)
      checked++
    }
    // Over the socket: chat with a NUL is refused with a reason; a run's output with one is shared.
    const learnerSocket = await RawClient.connect(s.url, sid, await token(), { sync: false })
    learnerSocket.send({ type: 'chat', text: `hi${nul}` })
    learnerSocket.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok: true, errors: 0, durationMs: 1, output: `out${nul}put` } })
    assert.ok(await learnerSocket.waitFor(() => learnerSocket.events.some((e) => e.type === 'run') && learnerSocket.events.some((e) => e.type === 'error')))
    assert.deepEqual(learnerSocket.events.filter((e) => e.type === 'error').map((e) => [e.code, /NUL/.test(e.message)]), [['malformed', true]])
    assert.equal(learnerSocket.events.find((e) => e.type === 'run').run.output, 'outa\uFFFDbput')
    learnerSocket.close()
    checked += 2
    const unexpected = s.logs.slice(logged).filter((l) => l.includes('unexpected error') || l.includes('could not store'))
    assert.deepEqual(unexpected.map((l) => l.split('\n')[0]), [], 'no unexpected error in the server log')
    console.log(`hostile parameters: ${checked} requests (${routes.length} routes × ${junk.length} values, ${bodies.length} bodies with a NUL), no 500`)
  })

  it('hidden test files and verified runs: bad names, traversal, bad and huge bodies are refused with their documented error; nothing is stored', async () => {
    const owner = await s.token(sid, 'instructor', 'owner', { name: 'Owner' })
    const logged = s.logs.length
    const put = (name: string, body: string, type = 'application/json') =>
      fetch(`${s.url}/v1/sessions/${sid}/hidden-files/${name}`, { method: 'PUT', headers: { authorization: `Bearer ${owner}`, 'content-type': type }, body }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }))
    const ok = JSON.stringify({ text: 'def test_x():\n    assert True\n' })
    // Names that climb out of a folder, start at the root, hide a control character, or are not test files.
    const names: [string, RegExp][] = [
      ['..%2Ftest_escape.py', /"\." or "\.\." folders/],
      ['a%2F..%2F..%2Ftest_escape.py', /"\." or "\.\." folders/],
      ['.%2Ftest_dot.py', /"\." or "\.\." folders/],
      ['tests%2F%2Ftest_empty.py', /empty/],
      ['%2Fetc%2Ftest_root.py', /cannot start or end with "\/"/],
      ['tests%5Ctest_back.py', /control characters or backslashes/],
      ['test%00_nul.py', /control characters or backslashes/],
      ['test_%0Aline.py', /control characters or backslashes/],
      [`${'x'.repeat(200)}_test.py`, /control characters or backslashes/],
      ['notes.txt', /is not a test file/],
      ['main.py', /is not a test file/],
      ['passwd', /is not a test file/],
    ]
    for (const [name, message] of names) {
      const res = await put(name, ok)
      assert.equal(res.status, 400, `${name}: ${res.status} ${JSON.stringify(res.json)}`)
      assert.equal(res.json.error.code, 'validation_failed')
      assert.equal(res.json.error.field, 'name')
      assert.match(res.json.error.message, message, name)
    }
    // Bodies: not JSON, the wrong shape, a NUL (as JSON and as text/plain), too large, another type.
    const bodies: [string, string, number, string][] = [
      ['{"text":', 'application/json', 400, 'invalid_json'],
      ['{"text": 5}', 'application/json', 400, 'validation_failed'],
      ['{}', 'application/json', 400, 'validation_failed'],
      ['[]', 'application/json', 400, 'validation_failed'],
      [JSON.stringify({ text: 'a\u0000b' }), 'application/json', 400, 'validation_failed'],
      ['a\u0000b', 'text/plain', 400, 'validation_failed'],
      [JSON.stringify({ text: 'x'.repeat(256 * 1024 + 1) }), 'application/json', 413, 'too_large'],
      ['é'.repeat(140 * 1024), 'text/plain; charset=utf-8', 413, 'too_large'],
      ['\x89PNG', 'image/png', 400, 'unsupported_body'],
    ]
    for (const [body, type, status, code] of bodies) {
      const res = await put('test_body.py', body, type)
      assert.equal(res.status, status, `${type} ${body.slice(0, 30)}: ${res.status} ${JSON.stringify(res.json)}`)
      assert.equal(res.json.error.code, code)
    }
    assert.deepEqual((await s.api('GET', `/v1/sessions/${sid}/hidden-files`, owner)).json, { files: [] }, 'nothing was stored')
    // Exactly 256 KB is accepted, as plain text; then removed.
    assert.equal((await put('test_big.py', 'x'.repeat(256 * 1024), 'text/plain')).status, 201)
    assert.equal((await s.api('DELETE', `/v1/sessions/${sid}/hidden-files/test_big.py`, owner)).status, 204)

    // Verified runs: every bad body is refused before any code runs.
    const runs: [unknown, number, string][] = [
      [{}, 400, 'validation_failed'],
      [{ kind: 'compile' }, 400, 'validation_failed'],
      [{ kind: 'program', file: 5 }, 400, 'validation_failed'],
      [{ kind: 'program', file: '../../etc/passwd' }, 404, 'file_not_found'],
      [{ kind: 'program', file: 'x'.repeat(300) }, 400, 'validation_failed'],
      [{ kind: 'program', file: 'a\\b.js' }, 400, 'validation_failed'],
      [{ kind: 'tests', file: 'main.js' }, 409, 'no_tests'],
      ['{"kind":', 400, 'invalid_json'],
    ]
    for (const [body, status, code] of runs) {
      const res = await s.api('POST', `/v1/sessions/${sid}/runs`, owner, body)
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.json)}`)
      assert.equal(res.json.error.code, code)
    }
    assert.deepEqual((await s.api('GET', `/v1/sessions/${sid}/runs`, owner)).json, { runs: [] }, 'no run was stored')
    const unexpected = s.logs.slice(logged).filter((l) => l.includes('unexpected error'))
    assert.deepEqual(unexpected.map((l) => l.split('\n')[0]), [], 'no unexpected error in the server log')
  })

  it('assignments: bad bodies, ids, file names, too many files and huge texts are refused as documented; Markdown is stored as text', async () => {
    const logged = s.logs.length
    const good = { title: 'Hostile', instructions: '# Go', language: 'javascript', files: { 'main.js': 'x' }, ownerId: 'owner' }
    const many = (n: number, name: (i: number) => string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [name(i), '']))
    const bodies: [string, unknown, number, string, RegExp?][] = [
      ['not JSON', '{"title":', 400, 'invalid_json'],
      ['a list', [], 400, 'validation_failed'],
      ['a number as title', { ...good, title: 5 }, 400, 'validation_failed', /title/],
      ['an object as title', { ...good, title: { $gt: '' } }, 400, 'validation_failed', /title/],
      ['no ownerId with the API key', { ...good, ownerId: undefined }, 400, 'validation_failed', /ownerId/],
      ['files as text', { ...good, files: 'main.js' }, 400, 'validation_failed', /files/],
      ['files as a list', { ...good, files: ['main.js'] }, 400, 'validation_failed', /files/],
      ['hidden tests as a list', { ...good, tests: { hidden: ['test_x.py'] } }, 400, 'validation_failed', /hidden/],
      ['no files', { ...good, files: {} }, 400, 'validation_failed', /at least one file/],
      ['a file name with a control character', { ...good, files: { 'ma\u0001in.js': '' } }, 400, 'validation_failed', /control characters/],
      ['a file name with a line break', { ...good, files: { 'main\n.js': '' } }, 400, 'validation_failed', /control characters/],
      ['a file name with a backslash', { ...good, files: { '..\\evil.js': '' } }, 400, 'validation_failed', /backslashes/],
      ['a file name at the root', { ...good, files: { '/etc/passwd': '' } }, 400, 'validation_failed'],
      ['a number as a file’s text', { ...good, files: { 'main.js': 5 } }, 400, 'validation_failed', /text/],
      ['101 files', { ...good, files: many(101, (i) => `f${i}.js`) }, 400, 'validation_failed', /at most 100 files/],
      ['a NUL in the instructions', { ...good, instructions: 'a\u0000b' }, 400, 'validation_failed', /NUL/],
      ['instructions over 100,000 characters', { ...good, instructions: 'x'.repeat(100_001) }, 400, 'validation_failed', /instructions/],
      ['a language the server does not know', { ...good, language: 'cobol' }, 400, 'validation_failed', /language/],
      ['a due time that is not one', { ...good, dueAt: 'tomorrow' }, 400, 'validation_failed', /dueAt/],
      ['a number as due time', { ...good, dueAt: 1700000000 }, 400, 'validation_failed', /dueAt/],
      ['an unknown submit policy', { ...good, submitPolicy: 'never' }, 400, 'validation_failed', /submitPolicy/],
      ['an id that climbs', { ...good, id: '../x' }, 400, 'validation_failed', /id/],
      ['an id of 101 characters', { ...good, id: 'a'.repeat(101) }, 400, 'validation_failed', /id/],
      ['hidden tests that are not test files', { ...good, tests: { hidden: { 'main.py': '' } } }, 400, 'validation_failed', /not a test file/],
      ['hidden tests that climb', { ...good, tests: { hidden: { '../test_x.py': '' } } }, 400, 'validation_failed', /folders/],
      ['21 hidden tests', { ...good, tests: { hidden: many(21, (i) => `test_${i}.py`) } }, 400, 'validation_failed', /at most 20/],
      ['a hidden test over 256 KB', { ...good, tests: { hidden: { 'test_big.py': 'x'.repeat(256 * 1024 + 1) } } }, 400, 'validation_failed', /256 KB/],
      ['tests as a list', { ...good, tests: [] }, 400, 'validation_failed', /tests/],
      ['a visible test named as a starter file', { ...good, tests: { visible: { 'main.js': '' } } }, 400, 'validation_failed', /named twice/],
      ['a hidden test named as a visible one', { ...good, tests: { visible: { 'a.test.js': '' }, hidden: { 'a.test.js': '' } } }, 400, 'validation_failed', /named twice/],
      ['starter files past the room’s size', { ...good, files: { 'a.js': 'x'.repeat(150_000), 'b.js': 'x'.repeat(150_000) } }, 413, 'too_large'],
    ]
    for (const [label, body, status, code, message] of bodies) {
      const res = await s.api('POST', '/v1/assignments', TEST_API_KEY, body)
      assert.equal(res.status, status, `${label}: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`)
      assert.equal(res.json.error.code, code, label)
      if (message) assert.match(res.json.error.message, message, label)
    }
    const [none] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from assignments`
    assert.equal(none!.n, 0, 'nothing was stored')

    // Markdown with a script is the instructor's text: stored and returned as it is, as JSON, never as a page.
    const markdown = '# Hi\n<script>alert(1)</script>\n[click](javascript:alert(1)) <img src=x onerror=alert(1)>'
    const made = await s.api('POST', '/v1/assignments', TEST_API_KEY, { ...good, id: 'hostile-asg', instructions: markdown })
    assert.equal(made.status, 201, JSON.stringify(made.json))
    const read = await s.api('GET', '/v1/assignments/hostile-asg', TEST_API_KEY)
    assert.equal(read.json.instructions, markdown)
    assert.match(read.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(read.headers.get('x-content-type-options'), 'nosniff')

    // Ids in paths that cannot exist: 404, like ones that do not.
    for (const path of ['..%2Fx', 'a'.repeat(101), 'x%00y', '%0A', 'nope']) {
      const res = await s.api('GET', `/v1/assignments/${path}`, TEST_API_KEY)
      assert.equal(res.status, 404, `${path}: ${res.status}`)
      assert.equal(res.json.error.code, 'assignment_not_found')
    }
    for (const user of ['%01', 'a'.repeat(201), 'nobody']) {
      const res = await s.api('POST', `/v1/assignments/hostile-asg/rooms/${user}/open`, TEST_API_KEY)
      assert.equal(res.status, 404, `${user}: ${res.status}`)
    }
    for (const query of ['limit=1e3', 'limit=0', 'limit=-1', 'after=..%2Fx']) {
      assert.equal((await s.api('GET', `/v1/assignments?${query}`, TEST_API_KEY)).status, 400, query)
    }
    // Changes: nothing to change, wrong types, a file list that is not one.
    const patches: [unknown, RegExp][] = [
      [{}, /at least one field/],
      [{ closed: 'yes' }, /closed/],
      [{ files: {} }, /at least one file/],
      [{ files: { 'a\u0007.js': '' } }, /control characters/],
      [{ dueAt: '2030-13-45T00:00:00Z' }, /dueAt/],
    ]
    for (const [body, message] of patches) {
      const res = await s.api('PATCH', '/v1/assignments/hostile-asg', TEST_API_KEY, body)
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.status}`)
      assert.match(res.json.error.message, message)
    }
    // A learner's accept: file names that are not ones.
    const learner = await mintToken({ sub: 'mallory', name: 'Mallory', role: 'learner', assignment: 'hostile-asg' }, TEST_SECRET, { ttl: '1h' })
    assert.equal((await s.api('POST', '/v1/assignments/hostile-asg/open', learner)).status, 201)
    for (const body of [{}, { file: 5 }, { file: 'a\u0001b' }, { file: 'x'.repeat(300) }]) {
      const res = await s.api('POST', '/v1/assignments/hostile-asg/updates/accept', learner, body)
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.status}`)
      assert.equal(res.json.error.code, 'validation_failed')
    }
    assert.equal((await s.api('POST', '/v1/assignments/hostile-asg/updates/accept', learner, { file: '../../etc/passwd' })).json.error.code, 'update_not_found')
    // A token with an assignment id that is not one is refused as a token.
    const odd = await mintToken({ sub: 'm', name: 'M', role: 'learner', sid: 'x' }, TEST_SECRET, { ttl: '1h' })
    assert.equal((await s.api('GET', '/v1/assignments/hostile-asg', odd)).json.error.code, 'token_wrong_assignment')
    const unexpected = s.logs.slice(logged).filter((l) => l.includes('unexpected error'))
    assert.deepEqual(unexpected.map((l) => l.split('\n')[0]), [], 'no unexpected error in the server log')
  })
  it('LTI: garbage to the login, launch, confirm, deep-link and registration routes is answered with a page and a code, never a 500; nothing is kept', async () => {
    const logged = s.logs.length
    const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields) })
    const cases: [string, string, RequestInit | undefined, number, string][] = [
      ['a login without parameters', '/lti/login', undefined, 400, 'lti_login_incomplete'],
      ['a login from an unknown LMS', `/lti/login?iss=${encodeURIComponent('https://nobody.test')}&login_hint=x&target_link_uri=x`, undefined, 403, 'lti_unknown_platform'],
      ['a login with a script in the issuer', `/lti/login?iss=${encodeURIComponent('<script>alert(1)</script>')}&login_hint=x&target_link_uri=x`, undefined, 403, 'lti_unknown_platform'],
      ['a login with control characters', `/lti/login?iss=%00%01&login_hint=%0A&target_link_uri=%0D`, undefined, 400, 'lti_login_invalid'],
      ['a login with a hint of 5,000 characters', `/lti/login?iss=x&login_hint=${'h'.repeat(5000)}&target_link_uri=x`, undefined, 400, 'lti_login_invalid'],
      ['a login posted as JSON', '/lti/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"iss":"x"}' }, 400, 'lti_login_incomplete'],
      ['a launch without a body', '/lti/launch', { method: 'POST' }, 400, 'lti_launch_incomplete'],
      ['a launch posted as JSON', '/lti/launch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id_token":"x","state":"y"}' }, 400, 'lti_launch_incomplete'],
      ['a launch with an unknown state', '/lti/launch', form({ id_token: 'a.b.c', state: 'nope' }), 400, 'lti_state_unknown'],
      ['a launch with a NUL in its state', '/lti/launch', form({ id_token: 'a.b.c', state: 'a\u0000b' }), 400, 'lti_state_unknown'],
      ['a confirm with a NUL in its state', '/lti/launch/confirm', form({ state: '\u0000'.repeat(32), binding: 'x' }), 400, 'lti_state_unknown'],
      ['a launch with a huge state', '/lti/launch', form({ id_token: 'x', state: 'y'.repeat(100_000) }), 400, 'lti_state_unknown'],
      ['a launch the LMS refused', '/lti/launch', form({ error: 'login_required', error_description: '<b>not signed in</b>' }), 400, 'lti_platform_error'],
      ['a confirm without a state', '/lti/launch/confirm', form({ binding: 'x' }), 400, 'lti_state_unknown'],
      ['a deep-link answer not made by the tool', '/lti/deep-link', form({ request: 'e30.e30.x', kind: 'room', title: 'x' }), 400, 'lti_deep_linking_expired'],
      ['a deep-link answer without a request', '/lti/deep-link', form({ kind: 'room' }), 400, 'lti_deep_linking_expired'],
      ['a registration without its link', '/lti/register?openid_configuration=http%3A%2F%2F127.0.0.1%3A1%2F', undefined, 401, ''],
    ]
    for (const [label, path, init, status, code] of cases) {
      const res = await fetch(s.url + path, init)
      const text = await res.text()
      assert.equal(res.status, status, `${label}: ${res.status} ${text.slice(0, 200)}`)
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/, `${label}: a page`)
      if (code) assert.match(text, new RegExp(`<code>${code}</code>`), label)
      assert.doesNotMatch(text, /<script>alert|<b>not signed in<\/b>/, `${label}: what was sent is escaped`)
    }
    const huge = await fetch(s.url + '/lti/launch', form({ id_token: 'x'.repeat(300 * 1024), state: 'y' }))
    assert.equal(huge.status, 413, 'a body over 256 kB')
    // The server stops reading and closes that connection: a throwaway request takes the pool's dead socket.
    await fetch(s.url + '/healthz').catch(() => {})
    const [kept] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from lti_logins`
    assert.equal(kept!.n, 0, 'no login was kept')
    const unexpected = s.logs.slice(logged).filter((l) => l.includes('unexpected error'))
    assert.deepEqual(unexpected.map((l) => l.split('\n')[0]), [], 'no unexpected error in the server log')
  })

  it('recording consent: bad bodies are refused as documented; a flood of decisions stores ten a minute and is answered 429', async () => {
    const mallory = await token()
    const logged = s.logs.length
    // The case before may leave a kept-alive socket the server closed (an answer before a huge body
    // was read): spent here, on a request whose answer does not matter.
    await fetch(`${s.url}/healthz`).catch(() => {})
    const bodies: [unknown, number, string][] = [
      [{}, 400, 'validation_failed'],
      [{ consent: 'yes' }, 400, 'validation_failed'],
      [{ consent: 1 }, 400, 'validation_failed'],
      [{ consent: null }, 400, 'validation_failed'],
      ['{"consent":', 400, 'invalid_json'],
      ['[true]', 400, 'validation_failed'],
    ]
    for (const [body, status, code] of bodies) {
      const res = await s.api('POST', `/v1/sessions/${sid}/recording-consent`, mallory, body)
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.json)}`)
      assert.equal(res.json.error.code, code)
    }
    // Fifty at once, alternating: the per-person lock and count let exactly ten through.
    const flood = await Promise.all(Array.from({ length: 50 }, (_, i) => s.api('POST', `/v1/sessions/${sid}/recording-consent`, mallory, { consent: i % 2 === 0 })))
    assert.equal(flood.filter((r) => r.status === 200).length, 10)
    assert.ok(flood.filter((r) => r.status !== 200).every((r) => r.status === 429 && r.json.error.code === 'rate_limited' && Number(r.headers.get('retry-after')) >= 1))
    const [stored] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from recording_consents where session_id = ${sid} and user_id = ${'attacker-' + counter}`
    assert.equal(stored!.n, 10, 'no more than ten decisions were stored')
    const unexpected = s.logs.slice(logged).filter((l) => l.includes('unexpected error'))
    assert.deepEqual(unexpected.map((l) => l.split('\n')[0]), [], 'no unexpected error in the server log')
  })

  it('webhooks: an endpoint on the server’s own network is refused when registered, however its address is spelled', async () => {
    const logged = s.logs.length
    const urls = [
      'http://127.0.0.1/hook', 'http://localhost:8080/hook', 'http://LOCALHOST/hook', 'http://127.1/', 'http://0x7f000001/', 'http://2130706433/', 'http://0177.0.0.1/',
      'http://0.0.0.0/', 'http://[::1]/', 'http://[0:0:0:0:0:0:0:1]/', 'http://[::]/', 'http://[::ffff:127.0.0.1]/', 'http://[::ffff:169.254.169.254]/',
      'http://169.254.169.254/latest/meta-data/iam/', 'http://100.100.100.200/', 'http://10.0.0.1/', 'http://172.16.5.4/', 'http://192.168.1.1/',
      'http://100.64.0.1/', 'http://[fe80::1]/', 'https://[fd00:ec2::254]/', 'http://[fc00::1]/', 'http://[64:ff9b::7f00:1]/', 'http://[2002:a9fe:a9fe::]/',
    ]
    for (const url of urls) {
      const r = await s.api('POST', '/v1/webhooks', TEST_API_KEY, { url })
      assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.json)}`)
      assert.equal(r.json.error.code, 'webhook_url_private', url)
      assert.equal(r.json.error.field, 'url')
    }
    const [kept] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from webhook_endpoints`
    assert.equal(kept!.n, 0, 'none was registered')
    const unexpected = s.logs.slice(logged).filter((l) => l.includes('unexpected error'))
    assert.deepEqual(unexpected.map((l) => l.split('\n')[0]), [], 'no unexpected error in the server log')
  })

  it('erasure: a token issued before someone was erased brings nothing of them back, over HTTP or the socket; odd ids and periods are answered as documented', async () => {
    const logged = s.logs.length
    const old = await s.token(sid, 'learner', 'erase-me', { name: 'Erin Erased' })
    const before = await RawClient.connect(s.url, sid, old)
    assert.ok(before.welcome, 'in the room before')
    before.close()
    await before.waitClosed()
    assert.equal((await s.api('DELETE', '/v1/users/erase-me', TEST_API_KEY)).status, 200)
    const http = await s.api('GET', `/v1/sessions/${sid}`, old)
    assert.deepEqual([http.status, http.json.error.code], [401, 'token_user_erased'])
    const socket = await RawClient.connect(s.url, sid, old)
    assert.equal(socket.welcome, null, 'the hello is refused')
    assert.equal((await socket.waitClosed())?.code, 4401)
    await new Promise((r) => setTimeout(r, 200))
    const [left] = await s.db.sql<{ n: number }[]>`select (select count(*) from participants where user_id = 'erase-me') + (select count(*) from events where user_id = 'erase-me') + (select count(*) from connections where user_id = 'erase-me') as n`
    assert.equal(Number(left!.n), 0, 'nothing of them was written again')

    for (const id of ['%00', 'a%0Ab', 'x'.repeat(201)]) {
      assert.equal((await s.api('DELETE', `/v1/users/${id}`, TEST_API_KEY)).status, 404, id)
      assert.equal((await s.api('GET', `/v1/users/${id}/export`, TEST_API_KEY)).status, 404, id)
    }
    for (const id of ['lti:plat:sub/../x', "o'brien; drop table sessions", 'ユーザー']) {
      assert.equal((await s.api('DELETE', `/v1/users/${encodeURIComponent(id)}`, TEST_API_KEY)).status, 200, id)
      assert.equal((await s.api('GET', `/v1/users/${encodeURIComponent(id)}/export`, TEST_API_KEY)).json.userId, id)
    }
    assert.equal((await s.api('DELETE', `/v1/users/u?email=${'a'.repeat(400)}@x.org`, TEST_API_KEY)).status, 400)
    assert.equal((await s.api('DELETE', `/v1/users/u?${Array.from({ length: 21 }, (_, i) => `email=a${i}@x.org`).join('&')}`, TEST_API_KEY)).status, 400)

    const owner = await s.token(sid, 'instructor', 'owner')
    for (const retention of ['"7"', '[]', 'null', '{"chat": "7"}', '{"chat": 1e309}', '{"chat": -1}', '{"chat": 36501}', '{"chat": 2.5}', '{"everything": 1}', '{"constructor": 1}', '{"__proto__": {"chat": 1}}']) {
      const r = await s.api('PATCH', `/v1/sessions/${sid}`, owner, `{"retention": ${retention}}`)
      assert.equal(r.status, 400, `${retention} → ${r.status}`)
      assert.equal(r.json.error.code, 'validation_failed')
    }
    const [kept] = await s.db.sql<{ retention: object }[]>`select retention from sessions where id = ${sid}`
    assert.deepEqual(kept!.retention, {}, 'nothing was stored')
    const unexpected = s.logs.slice(logged).filter((l) => l.includes('unexpected error'))
    assert.deepEqual(unexpected.map((l) => l.split('\n')[0]), [], 'no unexpected error in the server log')
  })
})
