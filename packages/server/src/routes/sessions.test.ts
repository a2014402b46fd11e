import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { mintGuestToken } from '../auth/tokens.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'
import { RawClient } from '../testing/client.js'

const BIN = fileURLToPath(new URL('../../bin/session-kit-server.js', import.meta.url))
const run = promisify(execFile)

for (const backend of [oneBackend()]) {
  describe(`HTTP API on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend, { demo: true })
    })
    after(() => s.stop())
    const host = { authorization: `Bearer ${TEST_API_KEY}` }
    const create = (body: unknown, headers: Record<string, string> = host) => s.api('POST', '/v1/sessions', undefined, body, headers)

    it('answers /healthz with the database kind', async () => {
      const r = await s.api('GET', '/healthz')
      assert.deepEqual(r.json, { ok: true, db: backend })
    })

    it('a token printed by the CLI opens the seeded demo session and no other', async () => {
      const { stdout } = await run(process.execPath, [BIN, 'token', '--session', 'demo', '--role', 'learner', '--user', 'u1', '--name', 'Demo Learner', '--secret', TEST_SECRET])
      const token = stdout.trim()
      assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/)
      const ok = await s.api('GET', '/v1/sessions/demo', token)
      assert.equal(ok.status, 200)
      assert.equal(ok.json.you.role, 'learner')
      assert.ok(!ok.json.you.permissions.includes('MANAGE_SESSION'), 'a learner cannot manage the session')
      assert.equal((await create({ id: 'other', title: 'Other', ownerId: 'o' })).status, 201)
      const other = await s.api('GET', '/v1/sessions/other', token)
      assert.equal(other.status, 401)
      assert.equal(other.json.error.code, 'token_wrong_session')
    })

    it('the CLI explains what is missing', async () => {
      await assert.rejects(run(process.execPath, [BIN, 'token', '--session', 'demo', '--role', 'teacher', '--user', 'u', '--name', 'N', '--secret', 's']), (e: { stderr: string; code: number }) => {
        assert.match(e.stderr, /--role must be one of instructor, learner, observer/)
        assert.equal(e.code, 2)
        return true
      })
      // A claim the server would refuse is explained in one line, without a stack trace.
      await assert.rejects(run(process.execPath, [BIN, 'token', '--session', 'demo', '--role', 'learner', '--user', 'u', '--name', 'x\u202ey', '--secret', 's'.repeat(32)]), (e: { stderr: string; code: number }) => {
        assert.match(e.stderr, /^session-kit-server: Cannot mint this token: /)
        assert.doesNotMatch(e.stderr, /\n\s+at /)
        assert.equal(e.code, 2)
        return true
      })
    })

    it('creating a session needs the API key', async () => {
      assert.equal((await create({ title: 'T', ownerId: 'o' }, {})).status, 401)
      const wrong = await create({ title: 'T', ownerId: 'o' }, { authorization: 'Bearer nope' })
      assert.equal(wrong.status, 401)
      assert.equal(wrong.json.error.code, 'api_key_invalid')
      const ok = await create({ id: 'py-101', title: 'Python 101', language: 'python', ownerId: 'teacher', files: { 'main.py': 'print(1)\n' } })
      assert.equal(ok.status, 201)
      assert.equal(ok.json.language, 'python')
      assert.equal((await create({ id: 'py-101', title: 'Again', ownerId: 'o' })).status, 409)
      const bad = await create({ title: '', ownerId: 'o' })
      assert.equal(bad.status, 400)
      assert.match(bad.json.error.message, /title/)
      const doc = await s.api('GET', '/v1/sessions/py-101/document', await s.token('py-101', 'observer', 'o1'))
      assert.deepEqual(doc.json.files, { 'main.py': 'print(1)\n' })
      assert.equal(doc.json.heads.length, 1)
    })

    it('the code of a room nobody has open is served from its stored text, without loading the room', async () => {
      await create({ id: 'closed-room', title: 'Closed', ownerId: 'teacher', files: { 'main.js': 'let a = 1\n' } })
      const token = await s.token('closed-room', 'learner', 'reader')
      const loaded = () => s.hub.rooms.has('closed-room')
      const fresh = await s.api('GET', '/v1/sessions/closed-room/document', token)
      assert.deepEqual(fresh.json.files, { 'main.js': 'let a = 1\n' })
      assert.equal(loaded(), false, 'reading the code did not load the room')
      // Someone types; the room unloads once empty and stores its text with the new base.
      s.hub.deps.idleUnloadMs = 50
      const writer = await RawClient.connect(s.url, 'closed-room', await s.token('closed-room', 'learner', 'writer'))
      assert.ok(await writer.waitFor(() => writer.text('main.js') === 'let a = 1\n'))
      const hash = writer.type('main.js', 10, 'let b = 2\n')
      assert.ok(await writer.waitFor(() => writer.acked.has(hash)), 'the edit was saved')
      const open = await s.api('GET', '/v1/sessions/closed-room/document', token)
      assert.equal(open.json.files['main.js'], 'let a = 1\nlet b = 2\n', 'an open room answers with its latest code')
      writer.close()
      assert.ok(await writer.waitFor(() => !loaded(), 5000), 'the empty room unloaded')
      let after = await s.api('GET', '/v1/sessions/closed-room/document', token)
      // Compaction finishes just after the unload; until then the room is loaded to answer.
      for (let i = 0; i < 100 && loaded(); i++) {
        await new Promise((r) => setTimeout(r, 50))
        after = await s.api('GET', '/v1/sessions/closed-room/document', token)
      }
      assert.equal(loaded(), false, 'answered from the stored text')
      assert.equal(after.json.files['main.js'], 'let a = 1\nlet b = 2\n')
      assert.deepEqual(after.json.heads, open.json.heads)
      s.hub.deps.idleUnloadMs = undefined
    })

    it('lists and deletes sessions for the host', async () => {
      await create({ id: 'to-delete', title: 'Bye', ownerId: 'o' })
      const list = await s.api('GET', '/v1/sessions?limit=200', undefined, undefined, host)
      assert.ok(list.json.sessions.some((x: { id: string }) => x.id === 'to-delete'), 'listed')
      assert.equal((await s.api('DELETE', '/v1/sessions/to-delete', undefined, undefined, host)).status, 204)
      assert.equal((await s.api('GET', '/v1/sessions/to-delete', await s.token('to-delete', 'instructor', 'o'))).status, 404)
      assert.equal((await s.api('DELETE', '/v1/sessions/to-delete', undefined, undefined, host)).status, 404)
    })

    it('PATCH is for the owner only: refused for a learner and another instructor', async () => {
      await create({ id: 'settings', title: 'Before', ownerId: 'owner' })
      const learner = await s.api('PATCH', '/v1/sessions/settings', await s.token('settings', 'learner', 'l'), { title: 'Hacked' })
      assert.equal(learner.status, 403)
      assert.deepEqual(learner.json.error.permission, 'MANAGE_SESSION')
      assert.equal((await s.api('PATCH', '/v1/sessions/settings', await s.token('settings', 'instructor', 'assistant'), { title: 'Hacked' })).status, 403)
      const owner = await s.api('PATCH', '/v1/sessions/settings', await s.token('settings', 'instructor', 'owner'), { title: 'After', language: 'typescript' })
      assert.equal(owner.status, 200)
      assert.equal(owner.json.title, 'After')
      assert.equal(owner.json.language, 'typescript')
      assert.equal((await s.api('PATCH', '/v1/sessions/settings', await s.token('settings', 'instructor', 'owner'), '{nope')).json.error.code, 'invalid_json')
      assert.equal((await s.api('PATCH', '/v1/sessions/settings', await s.token('settings', 'instructor', 'owner'), { language: 'cobol' })).status, 400)
    })

    it('lock and unlock need MUTE_PARTICIPANT', async () => {
      await create({ id: 'locking', title: 'L', ownerId: 'owner' })
      for (const role of ['learner', 'observer'] as const) {
        const r = await s.api('POST', '/v1/sessions/locking/lock', await s.token('locking', role, 'x'))
        assert.equal(r.status, 403)
        assert.equal(r.json.error.permission, 'MUTE_PARTICIPANT')
      }
      const r = await s.api('POST', '/v1/sessions/locking/lock', await s.token('locking', 'instructor', 'owner'))
      assert.equal(r.json.editingLocked, true)
      const view = await s.api('GET', '/v1/sessions/locking', await s.token('locking', 'learner', 'x'))
      assert.ok(!view.json.you.permissions.includes('EDIT_CODE'), 'locked learners cannot edit')
    })

    it('files are managed by instructors only', async () => {
      await create({ id: 'files', title: 'F', ownerId: 'owner' })
      const ins = await s.token('files', 'instructor', 'owner')
      const lea = await s.token('files', 'learner', 'l')
      assert.equal((await s.api('POST', '/v1/sessions/files/files', lea, { name: 'x.js' })).status, 403)
      const added = await s.api('POST', '/v1/sessions/files/files', ins, { name: 'util.js', content: 'export {}' })
      assert.equal(added.status, 201)
      assert.deepEqual(Object.keys(added.json.files).sort(), ['main.js', 'util.js'])
      assert.equal((await s.api('POST', '/v1/sessions/files/files', ins, { name: 'util.js' })).status, 409)
      const renamed = await s.api('PATCH', '/v1/sessions/files/files/util.js', ins, { name: 'helpers.js' })
      assert.equal(renamed.json.files['helpers.js'], 'export {}')
      assert.equal((await s.api('DELETE', '/v1/sessions/files/files/helpers.js', lea)).status, 403)
      assert.deepEqual(Object.keys((await s.api('DELETE', '/v1/sessions/files/files/helpers.js', ins)).json.files), ['main.js'])
      assert.equal((await s.api('DELETE', '/v1/sessions/files/files/main.js', ins)).status, 409)
    })

    it('answers unknown routes, missing tokens and CORS preflights in the documented shape', async () => {
      const missing = await s.api('GET', '/v1/nothing')
      assert.equal(missing.status, 404)
      assert.equal(missing.json.error.code, 'not_found')
      const noToken = await s.api('GET', '/v1/sessions/demo')
      assert.equal(noToken.status, 401)
      assert.equal(noToken.json.error.code, 'token_missing')
      const pre = await fetch(s.url + '/v1/sessions/demo', { method: 'OPTIONS', headers: { origin: 'https://lms.example.edu', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization' } })
      assert.ok(pre.headers.get('access-control-allow-origin'), 'CORS allows embedding hosts')
    })

    it('serves the demo page with a token per role and a frame-ancestors policy', async () => {
      const res = await fetch(s.url + '/')
      const html = await res.text()
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors/)
      const tokens = [...html.matchAll(/token="([^"]+)"/g)].map((m) => m[1]!)
      assert.equal(tokens.length, 3)
      const roles = await Promise.all(tokens.map(async (t) => (await s.api('GET', '/v1/sessions/demo', t)).json.you.role))
      assert.deepEqual(roles, ['instructor', 'learner', 'observer'])
    })

    it('says nosniff on every response, and the pages it serves send no Referer', async () => {
      for (const path of ['/healthz', '/v1/sessions/demo', '/no-such-route', '/', '/invite', '/recordings/some-id']) {
        const res = await fetch(s.url + path)
        await res.arrayBuffer()
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path)
      }
      for (const path of ['/', '/invite', '/recordings/some-id']) {
        const res = await fetch(s.url + path)
        await res.arrayBuffer()
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path)
        assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors/, path)
      }
    })

    it('refreshes server-signed guest tokens only', async () => {
      const demo = (await s.api('GET', '/v1/sessions/demo', await s.token('demo', 'observer', 'o'))).json
      const guest = await mintGuestToken({ sub: 'g', name: 'Guest', sid: 'demo', role: 'learner' }, { createdAt: new Date(demo.createdAt) }, TEST_SECRET)
      const r = await s.api('POST', '/v1/tokens/refresh', guest)
      assert.equal(r.status, 200)
      assert.equal(r.json.sessionId, 'demo')
      assert.equal((await s.api('GET', '/v1/sessions/demo', r.json.token)).status, 200)
      const hostToken = await s.api('POST', '/v1/tokens/refresh', await s.token('demo', 'learner', 'h'))
      assert.equal(hostToken.status, 403)
      assert.equal(hostToken.json.error.code, 'not_refreshable')
    })
  })
}
