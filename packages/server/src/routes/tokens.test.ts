import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { mintToken } from '../auth/tokens.js'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'

// Reliability (authorization): tokens do not outlive their session. Before the fix,
// POST /v1/tokens/refresh kept issuing 12-hour guest tokens after the session was deleted, and the
// old guest instructor's token then recreated the deleted id at its next hello and owned it (the
// host's own POST /v1/sessions with that id got 409).

for (const backend of [oneBackend()]) {
  describe(`tokens and the life of a session on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    const host = (method: string, path: string, body?: unknown) => s.api(method, path, TEST_API_KEY, body)
    /** A guest instructor invited by the owner: the token the invitation gives. */
    async function guestInstructor(sid: string) {
      const owner = await s.token(sid, 'instructor', 'owner')
      const inv = await s.api('POST', `/v1/sessions/${sid}/invitations`, owner, { email: `co-teacher-${sid}@school.example`, role: 'instructor' })
      assert.equal(inv.status, 201)
      const invite = new URL(inv.json.link).searchParams.get('invite')!
      const accepted = await s.api('POST', `/v1/invitations/${invite}/accept`, undefined, { name: 'Co Teacher' })
      assert.equal(accepted.status, 200)
      return accepted.json.token as string
    }
    const hello = async (sid: string, token: string) => {
      const c = await RawClient.connect(s.url, sid, token)
      const out = { welcome: c.welcome !== null, closed: await c.waitClosed(3000), error: c.event('error') }
      c.close()
      return out
    }

    it('a guest token stops working with its session, and cannot recreate or own the id', async () => {
      const sid = 'ends-' + backend
      assert.equal((await host('POST', '/v1/sessions', { id: sid, title: 'Ends', ownerId: 'owner' })).status, 201)
      const guest = await guestInstructor(sid)
      const refreshed = await s.api('POST', '/v1/tokens/refresh', guest)
      assert.equal(refreshed.status, 200, 'while the session lives, the guest renews the token')
      const oldHost = await s.token(sid, 'instructor', 'owner')

      assert.equal((await host('DELETE', `/v1/sessions/${sid}`)).status, 204)
      for (const t of [guest, refreshed.json.token]) {
        const again = await s.api('POST', '/v1/tokens/refresh', t)
        assert.equal(again.status, 410, 'no fresh token for a deleted session')
        assert.equal(again.json.error.code, 'token_session_gone')
        const h = await hello(sid, t)
        assert.equal(h.welcome, false)
        assert.equal(h.closed?.code, 4401)
        assert.equal(h.error?.code, 'token_session_gone')
      }
      // A host token issued before the deletion cannot bring the id back either.
      const h = await hello(sid, oldHost)
      assert.equal(h.closed?.code, 4401)
      assert.equal(h.error?.code, 'token_session_deleted')
      assert.equal((await host('GET', `/v1/sessions?limit=200`)).json.sessions.some((x: { id: string }) => x.id === sid), false, 'the id was not recreated')

      // The host can create it again; the old guest token is no good for the new session.
      assert.equal((await host('POST', '/v1/sessions', { id: sid, title: 'Ends, again', ownerId: 'owner' })).status, 201)
      const h2 = await hello(sid, guest)
      assert.equal(h2.closed?.code, 4401)
      assert.match(h2.error?.message ?? '', /earlier session/)
      assert.equal((await s.api('GET', `/v1/sessions/${sid}`, guest)).status, 401)
      assert.equal((await s.api('POST', '/v1/tokens/refresh', guest)).status, 410)
      // A guest invited to the new session is welcome, and can renew.
      const fresh = await guestInstructor(sid)
      assert.equal((await hello(sid, fresh)).welcome, true)
      assert.equal((await s.api('POST', '/v1/tokens/refresh', fresh)).status, 200)
    })

    it('a host token valid for years is refused, at the hello and by the routes', async () => {
      const sid = 'forever-' + backend
      assert.equal((await host('POST', '/v1/sessions', { id: sid, title: 'Forever', ownerId: 'owner' })).status, 201)
      const forever = await mintToken({ sid, role: 'instructor', sub: 'owner', name: 'Owner' }, TEST_SECRET, { ttl: '3650d' })
      const h = await hello(sid, forever)
      assert.equal(h.closed?.code, 4401)
      assert.equal(h.error?.code, 'token_lifetime')
      assert.match(h.error?.message ?? '', /at most 24 hours/)
      assert.equal((await s.api('GET', `/v1/sessions/${sid}`, forever)).status, 401)
      const day = await mintToken({ sid, role: 'instructor', sub: 'owner', name: 'Owner' }, TEST_SECRET, { ttl: '24h' })
      assert.equal((await hello(sid, day)).welcome, true, 'a day is fine')
    })

    it('an instructor token issued after a deletion may open the id again, as before', async () => {
      const sid = 'reopen-' + backend
      assert.equal((await host('POST', '/v1/sessions', { id: sid, title: 'Reopen', ownerId: 'owner' })).status, 201)
      assert.equal((await host('DELETE', `/v1/sessions/${sid}`)).status, 204)
      // Issued (by the clock) after the deletion: the host means a new session.
      const later = await mintToken({ sid, role: 'instructor', sub: 'new-owner', name: 'New owner' }, TEST_SECRET, { now: Date.now() + 1500 })
      const h = await hello(sid, later)
      assert.equal(h.welcome, true, JSON.stringify(h))
      assert.equal((await s.api('GET', `/v1/sessions/${sid}`, later)).json.ownerId, 'new-owner')
    })
  })
}
