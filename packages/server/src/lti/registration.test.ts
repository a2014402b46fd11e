import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { serve, type ServerType } from '@hono/node-server'
import { oneBackend } from '../testing/db.js'
import { SimulatedPlatform } from '../testing/lti-platform.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'
import { registrationLink } from './registration.js'

const TOOL_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-tool-configuration'
const CLOSE_BLOCK = '<script type="application/json" id="session-kit-lti">{"mode":"close"}</script><script type="module" src="/lti/assets/lti.js"></script>'
const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'

const errorCode = (html: string) => /Error code: <code>([a-z_]+)<\/code>/.exec(html)?.[1]

/**
 * An LMS whose answers a test writes (a configuration without a deployment, a redirect, a body
 * too large…), on 127.0.0.1; it counts the requests it gets.
 */
async function scriptedLms() {
  let handle: (req: Request, url: URL) => Response | Promise<Response> = () => new Response('not set', { status: 500 })
  const lms = {
    url: '',
    hits: 0,
    answer(h: typeof handle) {
      handle = h
    },
    /** A complete OpenID configuration of this LMS, with `extra` fields replaced. */
    configuration(extra: Record<string, unknown> = {}) {
      const base = lms.url
      return {
        issuer: base,
        authorization_endpoint: `${base}/auth`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
        registration_endpoint: `${base}/register`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        'https://purl.imsglobal.org/spec/lti-platform-configuration': { product_family_code: 'moodle' },
        ...extra,
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: (req) => (lms.hits++, handle(req, new URL(req.url))), hostname: '127.0.0.1', port: 0 }, () => resolve(s))
  })
  lms.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return lms
}

for (const backend of [oneBackend()]) {
  describe(`LTI Dynamic Registration on ${backend}`, () => {
    let s: TestServer
    let lms: SimulatedPlatform
    let stub: Awaited<ReturnType<typeof scriptedLms>>
    /** The URL the LMS opened for the successful registration (its registration token is used by then). */
    let usedUrl = ''

    before(async () => {
      s = await startTestServer(backend)
      lms = await SimulatedPlatform.start()
      stub = await scriptedLms()
    })
    after(async () => {
      await stub.close()
      await lms.close()
      await s.stop()
    })

    /** The URL an administrator pastes into an LMS (from the API). */
    async function registrationUrl(): Promise<string> {
      const res = await s.api('POST', '/v1/lti/registration-url', TEST_API_KEY, { ttl: '1h' })
      assert.equal(res.status, 200, JSON.stringify(res.json))
      return res.json.url
    }

    /** The LMS opens our registration URL with its configuration URL and a registration token. */
    async function open(url: string) {
      const res = await fetch(url, { redirect: 'manual' })
      return { status: res.status, html: await res.text(), headers: res.headers }
    }

    /** Our registration URL as the scripted LMS opens it. */
    const stubUrl = (url: string, configPath = '/.well-known/openid-configuration') => {
      const u = new URL(url)
      u.searchParams.set('openid_configuration', stub.url + configPath)
      u.searchParams.set('registration_token', 'stub-token')
      return u.href
    }

    const platforms = async () => (await s.api('GET', '/v1/lti/platforms', TEST_API_KEY)).json.platforms as { issuer: string; clientId: string; deploymentIds: string[]; [k: string]: unknown }[]

    it('refuses a URL without a reg this server made, before fetching anything', async () => {
      stub.answer(() => Response.json(stub.configuration()))
      const hitsBefore = stub.hits
      const room = await s.token('lti-reg', 'instructor', 'ada')
      const cases: [string, string][] = [
        [`${s.url}/lti/register`, 'lti_registration_link_missing'],
        [`${s.url}/lti/register?reg=`, 'lti_registration_link_missing'],
        [`${s.url}/lti/register?reg=not-a-jwt`, 'lti_registration_link_invalid'],
        [(await registrationLink(s.url, 'another-server-secret-0123456789', { ttlS: 3600 })).url, 'lti_registration_link_invalid'],
        // A room token is signed with the same secret, but is not a registration proof.
        [`${s.url}/lti/register?reg=${room}`, 'lti_registration_link_invalid'],
        [(await registrationLink(s.url, TEST_SECRET, { ttlS: 600, now: new Date(Date.now() - 3_600_000) })).url, 'lti_registration_link_expired'],
      ]
      for (const [url, code] of cases) {
        for (const opened of [stubUrl(url), lms.registrationInitiationUrl(url)]) {
          const page = await open(opened)
          assert.equal(page.status, 401, opened)
          assert.equal(errorCode(page.html), code, opened)
          assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
          assert.match(page.html, /Session Kit could not be registered/)
          assert.match(page.html, /registration-url/, 'the page says how to get a good URL')
          assert.doesNotMatch(page.html, /<script type="module"/, 'an error page runs no script')
        }
      }
      assert.equal(stub.hits, hitsBefore, 'the LMS was never asked for anything')
      assert.equal(lms.registrations.length, 0)

      const incomplete = await open(await registrationUrl())
      assert.equal(incomplete.status, 400)
      assert.equal(errorCode(incomplete.html), 'lti_registration_incomplete')
      const plainHttp = new URL(await registrationUrl())
      plainHttp.searchParams.set('openid_configuration', 'http://lms.example.edu/.well-known/openid-configuration')
      const refused = await open(plainHttp.href)
      assert.equal(refused.status, 400)
      assert.equal(errorCode(refused.html), 'lti_registration_bad_url')
      assert.deepEqual(await platforms(), [])
    })

    it('refuses an LMS whose issuer is not where its configuration was read', async () => {
      const elsewhere = await SimulatedPlatform.start({ issuer: 'https://lms.example.edu' })
      try {
        const page = await open(elsewhere.registrationInitiationUrl(await registrationUrl()))
        assert.equal(page.status, 400)
        assert.equal(errorCode(page.html), 'lti_issuer_mismatch')
        assert.match(page.html, /names the issuer &quot;https:\/\/lms\.example\.edu&quot;/)
        assert.equal(elsewhere.registrations.length, 0, 'nothing was posted to it')
      } finally {
        await elsewhere.close()
      }
      // Same origin, another tenant's path: not under the issuer either (nor under a shorter name that starts the same).
      for (const issuerPath of ['/tenant-a', '/tenant']) {
        stub.answer((_req, url) => (url.pathname.endsWith('openid-configuration') ? Response.json(stub.configuration({ issuer: stub.url + issuerPath })) : new Response('no', { status: 404 })))
        const page = await open(stubUrl(await registrationUrl(), '/tenant-b/.well-known/openid-configuration'))
        assert.equal(page.status, 400, issuerPath)
        assert.equal(errorCode(page.html), 'lti_issuer_mismatch')
      }
      assert.deepEqual(await platforms(), [])
    })

    it('registers the LMS: our registration as the LMS received it, the platform stored with its deployment, and launches work', async () => {
      usedUrl = lms.registrationInitiationUrl(await registrationUrl())
      const page = await open(usedUrl)
      assert.equal(page.status, 200, page.html)
      assert.match(page.html, /Session Kit is registered with session-kit-simulated-lms/)
      assert.match(page.html, new RegExp(`deployment <code>${lms.deploymentId}</code>`))
      assert.ok(page.html.includes(CLOSE_BLOCK), 'the page tells the LMS to close it')
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
      const script = await (await fetch(`${s.url}/lti/assets/lti.js`)).text()
      assert.match(script, /data\.mode === 'close'/)
      assert.match(script, /org\.imsglobal\.lti\.close/)

      assert.equal(lms.registrations.length, 1)
      assert.deepEqual(lms.registrations[0], {
        application_type: 'web',
        response_types: ['id_token'],
        grant_types: ['implicit', 'client_credentials'],
        initiate_login_uri: `${s.url}/lti/login`,
        redirect_uris: [`${s.url}/lti/launch`],
        client_name: 'Session Kit',
        jwks_uri: `${s.url}/lti/jwks`,
        logo_uri: `${s.url}/favicon.ico`,
        token_endpoint_auth_method: 'private_key_jwt',
        scope: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly https://purl.imsglobal.org/spec/lti-ags/scope/score https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
        [TOOL_CONFIGURATION]: {
          domain: new URL(s.url).host,
          target_link_uri: `${s.url}/lti/launch`,
          claims: ['iss', 'sub', 'name', 'given_name', 'family_name', 'email', 'picture'],
          messages: [
            { type: 'LtiResourceLinkRequest', label: 'Session Kit' },
            { type: 'LtiDeepLinkingRequest', target_link_uri: `${s.url}/lti/launch`, label: 'Session Kit', placements: ['ContentArea'] },
          ],
        },
      })

      const stored = await platforms()
      assert.equal(stored.length, 1)
      assert.deepEqual({ ...stored[0], id: undefined, createdAt: undefined }, {
        id: undefined,
        createdAt: undefined,
        issuer: lms.issuer,
        clientId: lms.clientId,
        name: 'session-kit-simulated-lms',
        authUrl: lms.authUrl,
        tokenUrl: lms.tokenUrl,
        jwksUrl: lms.jwksUrl,
        deploymentIds: [lms.deploymentId],
        registeredBy: 'dynamic',
      })

      // The LMS now launches Session Kit with what it was given, and Session Kit accepts the launch.
      lms.addUser('grace', { sub: 'u-grace', name: 'Grace Hopper', roles: [LEARNER] })
      const hint = lms.message({ kind: 'resource', resourceLinkId: 'reg-rl-1', title: 'Loops', contextId: 'cs-reg', contextTitle: 'CS 101' })
      const login = await fetch(`${lms.toolLoginUrl}?${lms.loginParams('grace', hint)}`, { redirect: 'manual' })
      assert.equal(login.status, 302)
      const { redirectUri, idToken, state } = await lms.authorize(new URL(login.headers.get('location')!).searchParams)
      const launch = await fetch(redirectUri, { method: 'POST', body: new URLSearchParams({ id_token: idToken, state }), headers: { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0]! } })
      const launched = await launch.text()
      assert.equal(launch.status, 200, launched.slice(0, 600))
      assert.match(launched, /"mode":"launch"/)
    })

    it('uses the LMS registration token once: the same URL again is refused by the LMS and stores nothing more', async () => {
      assert.ok(usedUrl, 'the registration above ran')
      const before = await platforms()
      const page = await open(usedUrl)
      assert.equal(page.status, 502)
      assert.equal(errorCode(page.html), 'lti_registration_refused')
      assert.match(page.html, /invalid_token/, "the LMS's own reason is shown")
      assert.equal(lms.registrations.length, 1)
      assert.deepEqual(await platforms(), before)
    })

    it('an LMS that gives no deployment is registered without one, and the page says an administrator must add it', async () => {
      const got: { auth?: string | null; body?: unknown } = {}
      stub.answer(async (req, url) => {
        if (url.pathname === '/.well-known/openid-configuration') return Response.json(stub.configuration())
        if (url.pathname === '/register' && req.method === 'POST') {
          got.auth = req.headers.get('authorization')
          got.body = await req.json()
          return Response.json({ ...(got.body as object), client_id: 'stub-client' })
        }
        return new Response('no', { status: 404 })
      })
      const page = await open(stubUrl(await registrationUrl()))
      assert.equal(page.status, 200, page.html)
      assert.equal(got.auth, 'Bearer stub-token')
      assert.match(page.html, /Session Kit is registered with Moodle/)
      assert.match(page.html, /did not say which deployment/)
      assert.match(page.html, /session-kit-server lti add-platform --issuer http:\/\/127\.0\.0\.1:\d+ --client-id stub-client .*--deployment &lt;deployment id&gt;/)
      assert.match(page.html, /id="session-kit-close"/, 'the LMS is told to close only when the person has read it')
      assert.ok(page.html.includes(CLOSE_BLOCK))
      const stored = (await platforms()).find((p) => p.issuer === stub.url)
      assert.ok(stored)
      assert.equal(stored.clientId, 'stub-client')
      assert.deepEqual(stored.deploymentIds, [])
      assert.equal(stored.name, 'Moodle')
      assert.equal(stored.registeredBy, 'dynamic')
    })

    it('refuses what an LMS answers wrongly, with a page naming it', async () => {
      const cases: [string, (req: Request, url: URL) => Response | Promise<Response>, number, string][] = [
        ['a redirect', () => new Response(null, { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }), 502, 'lti_platform_redirect'],
        ['a body over 256 kB', () => Response.json({ ...stub.configuration(), padding: 'x'.repeat(300 * 1024) }), 502, 'lti_platform_too_large'],
        ['not JSON', () => new Response('<html>hello</html>', { headers: { 'content-type': 'text/html' } }), 502, 'lti_platform_bad_json'],
        ['an error', () => new Response('down', { status: 500 }), 502, 'lti_platform_error'],
        ['no registration endpoint', () => Response.json(stub.configuration({ registration_endpoint: undefined })), 502, 'lti_registration_unsupported'],
        ['no RS256', () => Response.json(stub.configuration({ id_token_signing_alg_values_supported: ['ES256'] })), 502, 'lti_platform_unsupported'],
        ['no private_key_jwt', () => Response.json(stub.configuration({ token_endpoint_auth_methods_supported: ['client_secret_basic'] })), 502, 'lti_platform_unsupported'],
        ['a plain-http endpoint elsewhere', () => Response.json(stub.configuration({ token_endpoint: 'http://lms.example.edu/token' })), 502, 'lti_platform_configuration_invalid'],
        ['no client_id', (_req, url) => (url.pathname === '/register' ? Response.json({ ok: true }) : Response.json(stub.configuration())), 502, 'lti_registration_answer_invalid'],
      ]
      const count = (await platforms()).length
      for (const [what, answer, status, code] of cases) {
        stub.answer(answer)
        const page = await open(stubUrl(await registrationUrl()))
        assert.equal(page.status, status, `${what}: ${page.html.slice(0, 400)}`)
        assert.equal(errorCode(page.html), code, what)
      }
      assert.equal((await platforms()).length, count, 'nothing was registered')
    })
  })
}
