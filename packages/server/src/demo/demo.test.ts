import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ConfigError } from '../config.js'
import { createServer, type SessionKitServer } from '../server.js'
import { oneBackend, removeDir } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET } from '../testing/server.js'

for (const backend of [oneBackend()]) {
  describe(`the demo page on ${backend}`, () => {
    it('lists the demo session’s own mail in its outbox, never another session’s invitation links', async () => {
      const s = await startTestServer(backend, { demo: true })
      try {
        const demo = await s.api('POST', '/v1/sessions/demo/invitations', await s.token('demo', 'instructor', 'demo-instructor'), { email: 'demo-guest@example.edu', role: 'learner' })
        assert.equal(demo.status, 201)
        assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: 'private-class', title: 'Private', ownerId: 'prof' })).status, 201)
        const other = await s.api('POST', '/v1/sessions/private-class/invitations', await s.token('private-class', 'instructor', 'prof'), { email: 'student@example.edu', role: 'learner' })
        assert.equal(other.status, 201)
        const html = await (await fetch(s.url + '/')).text()
        const invite = (link: string) => new URL(link).searchParams.get('invite')!
        assert.ok(html.includes(invite(demo.json.link)), 'the demo’s own invitation link is on the page (the demo opens it)')
        assert.ok(!html.includes(invite(other.json.link)), 'another session’s invitation link is not')
        assert.ok(!html.includes('student@example.edu'), 'nor its address')
      } finally {
        await s.stop()
      }
    })

    it('the demo assignment: each learner’s token opens a room of their own from the starter files; the instructor’s lists both', async () => {
      const s = await startTestServer(backend, { demo: true })
      try {
        const page = await (await fetch(s.url + '/demo-assignment')).text()
        assert.equal(page.match(/<session-assignment /g)?.length, 2, 'two learners’ pages')
        assert.equal(page.match(/<session-classroom /g)?.length, 1, 'one overview')
        assert.match(await (await fetch(s.url + '/')).text(), /href="\/demo-assignment"/, 'the shared room’s page links to it')
        const tokens = [...page.matchAll(/assignment="demo-assignment" token="([^"]+)"/g)].map((m) => m[1]!)
        assert.equal(tokens.length, 3)
        const opened = []
        for (const token of tokens.slice(0, 2)) {
          const res = await s.api('POST', '/v1/assignments/demo-assignment/open', token)
          assert.equal(res.status, 201, JSON.stringify(res.json))
          opened.push(res.json as { sessionId: string; token: string })
        }
        assert.notEqual(opened[0]!.sessionId, opened[1]!.sessionId, 'a room each')
        const doc = await s.api('GET', `/v1/sessions/${encodeURIComponent(opened[0]!.sessionId)}/document`, opened[0]!.token)
        assert.match(JSON.stringify(doc.json), /function fizzbuzz\(n\)/, 'the room starts from the starter file')
        assert.doesNotMatch(JSON.stringify(doc.json), /FizzBuzz'\)/, 'and holds no hidden test')
        const rooms = await s.api('GET', '/v1/assignments/demo-assignment/rooms', tokens[2]!)
        assert.equal(rooms.status, 200)
        assert.deepEqual((rooms.json as { rooms: { userId: string }[] }).rooms.map((r) => r.userId).sort(), ['demo-learner', 'demo-learner-2'])
      } finally {
        await s.stop()
      }
    })

    it('every page it serves has an icon, and /favicon.ico answers (no 404 in the browser)', async () => {
      const s = await startTestServer(backend, { demo: true })
      try {
        const icon = await fetch(s.url + '/favicon.ico')
        assert.equal(icon.status, 200)
        assert.equal(icon.headers.get('content-type'), 'image/svg+xml')
        assert.match(await icon.text(), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
        for (const path of ['/', '/demo-assignment', '/invite', '/recordings/some-recording']) {
          const page = await fetch(s.url + path)
          assert.match(await page.text(), /<link rel="icon" href="data:image\/svg\+xml,%3Csvg/, `${path} links its icon inline`)
          assert.match(page.headers.get('content-security-policy') ?? '', /img-src [^;]*\bdata:/, `${path}'s policy allows the inline icon`)
        }
      } finally {
        await s.stop()
      }
    })
  })
}

describe('demo mode in production', () => {
  it('the server refuses to start with --demo when NODE_ENV=production, before opening anything', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sk-demo-prod-'))
    let started: SessionKitServer | undefined
    try {
      await assert.rejects(
        async () => {
          started = await createServer({ demo: true, listen: false, dataDir, env: { NODE_ENV: 'production', SESSION_KIT_SECRET: TEST_SECRET }, log: () => {} })
        },
        (e: Error) => e instanceof ConfigError && /SESSION_KIT_DEMO_IN_PRODUCTION=1/.test(e.message),
      )
      assert.deepEqual(readdirSync(dataDir), [], 'no database was opened')
    } finally {
      await started?.close()
      removeDir(dataDir)
    }
  })
})
