import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { jwtVerify } from 'jose'
import { oneBackend } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'

let made = 0

/** A platform as an administrator types it in, on a host of its own. */
function platformBody(extra: Record<string, unknown> = {}) {
  const base = `https://lms-${++made}.example.edu`
  return { issuer: base, clientId: `client-${made}`, authUrl: `${base}/auth`, tokenUrl: `${base}/token`, jwksUrl: `${base}/jwks`, deploymentIds: ['1'], name: 'Moodle', ...extra }
}

for (const backend of [oneBackend()]) {
  describe(`LTI platforms, registered by an administrator, on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    it('are created, updated (deployments added), read, listed and deleted', async () => {
      const input = platformBody({ deploymentIds: ['1', '2', '1'] })
      const created = await s.api('POST', '/v1/lti/platforms', TEST_API_KEY, input)
      assert.equal(created.status, 201, JSON.stringify(created.json))
      const p = created.json
      assert.match(p.id, /^p[0-9a-f]{10}$/)
      assert.deepEqual({ ...p, id: undefined, createdAt: undefined }, { ...input, id: undefined, createdAt: undefined, deploymentIds: ['1', '2'], registeredBy: 'admin' })
      assert.ok(Math.abs(Date.parse(p.createdAt) - Date.now()) < 60_000)

      // The same issuer and client id: the same registration, its endpoints replaced and its deployments added to.
      const updated = await s.api('POST', '/v1/lti/platforms', TEST_API_KEY, { ...input, authUrl: `${input.issuer}/new-auth`, deploymentIds: ['3'], name: undefined })
      assert.equal(updated.status, 200, JSON.stringify(updated.json))
      assert.equal(updated.json.id, p.id)
      assert.equal(updated.json.authUrl, `${input.issuer}/new-auth`)
      assert.deepEqual(updated.json.deploymentIds, ['1', '2', '3'])
      assert.equal(updated.json.name, 'Moodle', 'a registration without a name keeps the one it had')

      // Another client id of the same issuer (Canvas: one issuer, a client id per registration) is another platform.
      const other = await s.api('POST', '/v1/lti/platforms', TEST_API_KEY, { ...input, clientId: 'another' })
      assert.equal(other.status, 201)
      assert.notEqual(other.json.id, p.id)

      const got = await s.api('GET', `/v1/lti/platforms/${p.id}`, TEST_API_KEY)
      assert.equal(got.status, 200)
      assert.deepEqual(got.json, updated.json)
      const list = await s.api('GET', '/v1/lti/platforms', TEST_API_KEY)
      assert.equal(list.status, 200)
      assert.deepEqual(
        list.json.platforms.filter((x: { issuer: string }) => x.issuer === input.issuer).map((x: { id: string }) => x.id),
        [p.id, other.json.id],
      )

      assert.equal((await s.api('DELETE', `/v1/lti/platforms/${p.id}`, TEST_API_KEY)).status, 204)
      for (const [method, path] of [['GET', `/v1/lti/platforms/${p.id}`], ['DELETE', `/v1/lti/platforms/${p.id}`], ['GET', '/v1/lti/platforms/not-an-id']]) {
        const gone = await s.api(method!, path!, TEST_API_KEY)
        assert.equal(gone.status, 404, `${method} ${path}`)
        assert.equal(gone.json.error.code, 'platform_not_found')
      }
      assert.ok(!(await s.api('GET', '/v1/lti/platforms', TEST_API_KEY)).json.platforms.some((x: { id: string }) => x.id === p.id))
    })

    it('need the API key', async () => {
      const routes: [string, string, unknown?][] = [
        ['POST', '/v1/lti/platforms', platformBody()],
        ['GET', '/v1/lti/platforms'],
        ['GET', '/v1/lti/platforms/p0123456789'],
        ['DELETE', '/v1/lti/platforms/p0123456789'],
        ['POST', '/v1/lti/registration-url', {}],
        ['GET', '/v1/lti/tool'],
      ]
      const roomToken = await s.token('lti-room', 'instructor', 'ada')
      for (const [method, path, body] of routes) {
        const none = await s.api(method, path, undefined, body)
        assert.equal(none.status, 401, `${method} ${path} without a key`)
        assert.equal(none.json.error.code, 'api_key_missing')
        const wrong = await s.api(method, path, 'not-the-key', body)
        assert.equal(wrong.status, 401)
        assert.equal(wrong.json.error.code, 'api_key_invalid')
        assert.equal((await s.api(method, path, roomToken, body)).status, 401, 'a room token is not the API key')
      }
      const refused = (routes[0]![2] as { issuer: string }).issuer
      assert.ok(!(await s.api('GET', '/v1/lti/platforms', TEST_API_KEY)).json.platforms.some((x: { issuer: string }) => x.issuer === refused), 'nothing was registered')

      // A server without an API key has no host routes at all.
      const closed = await startTestServer(backend, { env: { SESSION_KIT_API_KEY: '' } })
      try {
        const res = await closed.api('POST', '/v1/lti/platforms', TEST_API_KEY, platformBody())
        assert.equal(res.status, 403)
        assert.equal(res.json.error.code, 'api_disabled')
      } finally {
        await closed.stop()
      }
    })

    it('refuse bad URLs, ids and deployments, naming the field', async () => {
      const cases: [Record<string, unknown>, string, RegExp?][] = [
        [{ issuer: 'http://lms.example.edu' }, 'issuer', /https/],
        [{ issuer: 'https://lms.example.edu/?tenant=1' }, 'issuer', /query or fragment/],
        [{ issuer: 'lms.example.edu' }, 'issuer', /full URL/],
        [{ authUrl: 'not a url' }, 'authUrl', /full URL/],
        [{ tokenUrl: 'http://10.0.0.5/token' }, 'tokenUrl', /https/],
        [{ jwksUrl: 'ftp://lms.example.edu/jwks' }, 'jwksUrl', /https/],
        [{ jwksUrl: 'https://user:pw@lms.example.edu/jwks' }, 'jwksUrl', /user name or password/],
        [{ jwksUrl: undefined }, 'jwksUrl'],
        [{ clientId: '' }, 'clientId', /empty/],
        [{ clientId: 'x'.repeat(256) }, 'clientId', /255/],
        [{ deploymentIds: [] }, 'deploymentIds', /at least one/],
        [{ deploymentIds: 'd1' }, 'deploymentIds'],
        [{ deploymentIds: Array.from({ length: 51 }, (_, i) => `d${i}`) }, 'deploymentIds', /50/],
        [{ deploymentIds: ['ok', 'y'.repeat(256)] }, 'deploymentIds.1', /255/],
        [{ deploymentIds: ['a\nb'] }, 'deploymentIds.0', /control/],
        [{ name: 'x'.repeat(201) }, 'name', /200/],
      ]
      for (const [change, field, message] of cases) {
        const res = await s.api('POST', '/v1/lti/platforms', TEST_API_KEY, platformBody(change))
        assert.equal(res.status, 400, `${JSON.stringify(change)} → ${JSON.stringify(res.json)}`)
        assert.equal(res.json.error.code, 'validation_failed')
        assert.equal(res.json.error.field, field, JSON.stringify(change))
        assert.ok(res.json.error.message.startsWith(`${field}: `), res.json.error.message)
        if (message) assert.match(res.json.error.message, message)
      }
      // Plain http is for this machine only: a platform running beside the tool in development.
      for (const host of ['localhost:8080', '127.0.0.1:9000']) {
        const res = await s.api('POST', '/v1/lti/platforms', TEST_API_KEY, platformBody({ issuer: `http://${host}`, authUrl: `http://${host}/auth`, tokenUrl: `http://${host}/token`, jwksUrl: `http://${host}/jwks` }))
        assert.equal(res.status, 201, JSON.stringify(res.json))
      }
    })

    it('the tool configuration an administrator types into an LMS, and registration URLs', async () => {
      const tool = await s.api('GET', '/v1/lti/tool', TEST_API_KEY)
      assert.equal(tool.status, 200)
      assert.deepEqual(tool.json, {
        loginUrl: `${s.url}/lti/login`,
        launchUrl: `${s.url}/lti/launch`,
        jwksUrl: `${s.url}/lti/jwks`,
        deepLinkingUrl: `${s.url}/lti/launch`,
        domain: new URL(s.url).host,
      })
      const jwks = await fetch(tool.json.jwksUrl)
      assert.equal(jwks.status, 200, 'the key set is where the configuration says')

      const verify = async (url: string) => (await jwtVerify(new URL(url).searchParams.get('reg')!, new TextEncoder().encode(TEST_SECRET))).payload
      const withLink = await s.api('GET', '/v1/lti/tool?registrationTtl=1d', TEST_API_KEY)
      assert.equal(withLink.status, 200)
      assert.ok(withLink.json.registrationUrl.startsWith(`${s.url}/lti/register?reg=`), withLink.json.registrationUrl)
      assert.ok(Math.abs(Date.parse(withLink.json.registrationExpiresAt) - (Date.now() + 86_400_000)) < 60_000)
      assert.equal((await verify(withLink.json.registrationUrl)).purpose, 'lti-registration')

      const link = await s.api('POST', '/v1/lti/registration-url', TEST_API_KEY, { ttl: '2h' })
      assert.equal(link.status, 200, JSON.stringify(link.json))
      assert.deepEqual(Object.keys(link.json).sort(), ['expiresAt', 'url'])
      const claims = await verify(link.json.url)
      assert.equal(claims.exp! - claims.iat!, 7200)
      assert.equal(Date.parse(link.json.expiresAt), claims.exp! * 1000)
      const byDefault = await s.api('POST', '/v1/lti/registration-url', TEST_API_KEY)
      assert.equal(byDefault.status, 200)
      const d = await verify(byDefault.json.url)
      assert.equal(d.exp! - d.iat!, 7 * 86400, 'a week unless told')

      for (const ttl of ['forever', '0', '10s', '31d', 5]) {
        const bad = await s.api('POST', '/v1/lti/registration-url', TEST_API_KEY, { ttl })
        assert.equal(bad.status, 400, `ttl ${ttl}`)
        assert.equal(bad.json.error.field, 'ttl')
      }
      const badQuery = await s.api('GET', '/v1/lti/tool?registrationTtl=never', TEST_API_KEY)
      assert.equal(badQuery.status, 400)
      assert.equal(badQuery.json.error.field, 'registrationTtl')
    })
  })
}
