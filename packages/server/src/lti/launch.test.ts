import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { SimulatedPlatform } from '../testing/lti-platform.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { getSession } from '../store/sessions.js'
import { upsertPlatform } from '../store/lti.js'
import { roomIdOf } from './open.js'

const ROLE = {
  instructor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  ta: 'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant',
  learner: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  mentor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor',
  institutionInstructor: 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor',
  admin: 'http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator',
  testUser: 'http://purl.imsglobal.org/vocab/lti/system/person#TestUser',
}

/** What a launch page hands its script: the token and who it is for. */
function launchData(html: string): { mode: string; kind?: string; token?: string; role?: string; userId?: string; [k: string]: unknown } {
  const m = /<script type="application\/json" id="session-kit-lti">(.*?)<\/script>/s.exec(html)
  assert.ok(m, `a page with the launch's data, got: ${html.slice(0, 400)}`)
  return JSON.parse(m[1]!)
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
const errorCode = (html: string) => /Error code: <code>([a-z_]+)<\/code>/.exec(html)?.[1]

for (const backend of [oneBackend()]) {
  describe(`LTI 1.3 launch on ${backend}`, () => {
    let s: TestServer
    let lms: SimulatedPlatform
    let platformId: string
    let links = 0

    before(async () => {
      s = await startTestServer(backend)
      lms = await SimulatedPlatform.start()
      lms.toolLaunchUrl = `${s.url}/lti/launch`
      lms.toolJwksUrl = `${s.url}/lti/jwks`
      lms.toolLoginUrl = `${s.url}/lti/login`
      platformId = 'p' + randomBytes(5).toString('hex')
      await upsertPlatform(s.db.sql, { id: platformId, issuer: lms.issuer, clientId: lms.clientId, name: 'Simulated LMS', authUrl: lms.authUrl, tokenUrl: lms.tokenUrl, jwksUrl: lms.jwksUrl, deploymentIds: [lms.deploymentId], registeredBy: 'admin' })
      lms.addUser('ada', { sub: 'u-ada', name: 'Ada Lovelace', email: 'ada@school.test', picture: 'https://lms.test/ada.png', roles: [ROLE.instructor, ROLE.institutionInstructor] })
      lms.addUser('tom', { sub: 'u-tom', name: 'Tom Assistant', roles: [ROLE.instructor, ROLE.ta] })
      lms.addUser('grace', { sub: 'u-grace', givenName: 'Grace', familyName: 'Hopper', roles: [ROLE.learner] })
      lms.addUser('mo', { sub: 'u-mo', name: 'Mo Mentor', roles: [ROLE.mentor] })
      lms.addUser('dean', { sub: 'u-dean', name: 'Dean', roles: [ROLE.institutionInstructor, ROLE.admin] })
      lms.addUser('view', { sub: 'u-view', name: 'Test Student', roles: [ROLE.learner, ROLE.testUser] })
    })
    after(async () => {
      await lms.close()
      await s.stop()
    })

    const newLink = (extra: { custom?: Record<string, string>; title?: string } = {}) =>
      lms.message({ kind: 'resource', resourceLinkId: `rl-${++links}`, title: extra.title ?? `Week ${links}: loops`, contextId: 'cs101', contextTitle: 'CS 101', ...(extra.custom ? { custom: extra.custom } : {}) })

    /** The login initiation, answered with a redirect to the LMS's sign-in and a cookie. */
    async function login(user: string, hint: string, opts: { storageTarget?: string } = {}) {
      const res = await fetch(`${s.url}/lti/login?${lms.loginParams(user, hint, opts)}`, { redirect: 'manual' })
      const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!
      return { res, cookie }
    }

    /** A whole launch on the cookie path: login, the LMS's sign-in, the form post back. */
    async function launch(user: string, hint: string, opts: { cookie?: boolean; tamper?: (form: URLSearchParams) => void | Promise<void> } = {}) {
      const { res, cookie } = await login(user, hint)
      assert.equal(res.status, 302, 'the login redirects to the LMS')
      const auth = new URL(res.headers.get('location')!)
      const { redirectUri, idToken, state } = await lms.authorize(auth.searchParams)
      const form = new URLSearchParams({ id_token: idToken, state })
      await opts.tamper?.(form)
      const page = await fetch(redirectUri, { method: 'POST', body: form, headers: opts.cookie === false ? {} : { cookie } })
      return { status: page.status, html: await page.text(), state, idToken, cookie, redirectUri, nonce: auth.searchParams.get('nonce')! }
    }

    it('sends the login to the LMS with the OIDC parameters, and answers an unknown LMS with a page that says so', async () => {
      const { res, cookie } = await login('ada', newLink())
      const auth = new URL(res.headers.get('location')!)
      assert.equal(auth.origin + auth.pathname, lms.authUrl)
      for (const [k, want] of Object.entries({ scope: 'openid', response_type: 'id_token', response_mode: 'form_post', prompt: 'none', client_id: lms.clientId, redirect_uri: `${s.url}/lti/launch`, login_hint: 'ada' })) {
        assert.equal(auth.searchParams.get(k), want, k)
      }
      assert.ok(auth.searchParams.get('state')!.length >= 32 && auth.searchParams.get('nonce')!.length >= 32)
      assert.match(res.headers.get('set-cookie')!, /HttpOnly/i)
      assert.match(res.headers.get('set-cookie')!, /SameSite=None/i)
      assert.ok(cookie.includes('='))

      const unknown = await fetch(`${s.url}/lti/login?iss=${encodeURIComponent('https://other.lms.test')}&login_hint=x&target_link_uri=${encodeURIComponent(s.url + '/lti/launch')}`)
      assert.equal(unknown.status, 403)
      const html = await unknown.text()
      assert.equal(errorCode(html), 'lti_unknown_platform')
      assert.match(html, /No LMS is registered with issuer/)
      const incomplete = await fetch(`${s.url}/lti/login`, { method: 'POST', body: new URLSearchParams({ iss: lms.issuer }) })
      assert.equal(incomplete.status, 400)
      assert.match(await incomplete.text(), /lacks login_hint, target_link_uri/)
    })

    it('opens a live room for the course, owned by the first instructor, with the LMS name, email and picture', async () => {
      const hint = newLink({ title: 'Week 1: loops' })
      const ada = await launch('ada', hint)
      assert.equal(ada.status, 200, ada.html.slice(0, 500))
      assert.match(ada.html, /<session-room server="[^"]+" session="lti-[0-9a-f]{24}"/)
      assert.match(ada.html, /<session-moderation>/, 'an instructor gets the moderation panel')
      const data = launchData(ada.html)
      assert.equal(data.mode, 'launch')
      assert.equal(data.role, 'instructor')
      const claims = claimsOf(data.token!)
      assert.equal(claims.sid, roomIdOf(platformId, lms.deploymentId, `rl-${links}`))
      assert.equal(claims.sub, `lti:${platformId}:u-ada`)
      assert.equal(claims.name, 'Ada Lovelace')
      assert.equal(claims.email, 'ada@school.test')
      assert.equal(claims.avatar, 'https://lms.test/ada.png')
      assert.equal(claims.iss, 'session-kit', 'a token this server signs, so the page can renew it')
      const session = await getSession(s.db.sql, claims.sid)
      assert.equal(session?.title, 'Week 1: loops')
      assert.equal(session?.ownerId, claims.sub)

      // The token opens the room; the person shows with their LMS name and email.
      const client = await RawClient.connect(s.url, claims.sid, data.token!)
      assert.ok(await client.waitFor(() => client.text() !== undefined), 'synced')
      const people = await s.api('GET', `/v1/sessions/${claims.sid}/participants`, data.token)
      assert.equal(people.status, 200, JSON.stringify(people.json))
      const me = people.json.participants.find((p: { userId: string }) => p.userId === claims.sub)
      assert.equal(me.name, 'Ada Lovelace')
      client.close()

      // The page's token renews through the existing refresh.
      const fresh = await s.api('POST', '/v1/tokens/refresh', data.token)
      assert.equal(fresh.status, 200, JSON.stringify(fresh.json))
      assert.equal(claimsOf(fresh.json.token).sid, claims.sid)

      // A second launch of the same link is the same room; a learner joins it as a learner.
      const grace = launchData((await launch('grace', hint)).html)
      assert.equal(claimsOf(grace.token!).sid, claims.sid)
      assert.equal(grace.role, 'learner')
      assert.equal(claimsOf(grace.token!).name, 'Grace Hopper', 'given and family names when the LMS sends no name')
    })

    it('maps course roles by least privilege: an assistant instructs without owning, mentors and institution roles observe, student view is a marked learner', async () => {
      const hint = newLink()
      const tom = launchData((await launch('tom', hint)).html)
      assert.equal(tom.role, 'instructor')
      const sid = claimsOf(tom.token!).sid
      assert.equal((await getSession(s.db.sql, sid))?.ownerId, '', 'an assistant who launches first does not own the room')
      const ada = launchData((await launch('ada', hint)).html)
      assert.equal((await getSession(s.db.sql, sid))?.ownerId, claimsOf(ada.token!).sub, 'the first instructor who may own it takes it')
      assert.equal(launchData((await launch('mo', hint)).html).role, 'observer')
      const dean = launchData((await launch('dean', hint)).html)
      assert.equal(dean.role, 'observer', 'institution and system roles alone grant nothing in a course')
      const view = launchData((await launch('view', hint)).html)
      assert.equal(view.role, 'learner')
      assert.equal(claimsOf(view.token!).test, true, 'student view is marked as a test user')
    })

    it('refuses hostile launches, each with a page that names what is wrong', async () => {
      const cases: { label: string; code: string; status: number; tamper: (f: URLSearchParams, nonce: string) => Promise<void> | void }[] = [
        { label: 'a signature by another key', code: 'lti_bad_signature', status: 401, tamper: async (f, nonce) => f.set('id_token', await lms.idToken('ada', hint, nonce, { signWith: 'stranger', kid: currentKid(f) })) },
        { label: 'an unknown kid', code: 'lti_unknown_key', status: 401, tamper: async (f, nonce) => f.set('id_token', await lms.idToken('ada', hint, nonce, { signWith: 'stranger', kid: 'nobody-knows' })) },
        { label: 'a wrong audience', code: 'lti_wrong_audience', status: 401, tamper: async (f, nonce) => f.set('id_token', await lms.idToken('ada', hint, nonce, { claims: { aud: 'another-tool' } })) },
        { label: 'several audiences without our azp', code: 'lti_wrong_audience', status: 401, tamper: async (f, nonce) => f.set('id_token', await lms.idToken('ada', hint, nonce, { claims: { aud: [lms.clientId, 'another-tool'], azp: 'another-tool' } })) },
        { label: 'an expired token', code: 'lti_expired', status: 401, tamper: async (f, nonce) => f.set('id_token', await lms.idToken('ada', hint, nonce, { issuedAt: Math.floor(Date.now() / 1000) - 3600, expiresIn: 600 })) },
        { label: 'another issuer', code: 'lti_wrong_issuer', status: 401, tamper: async (f, nonce) => f.set('id_token', await lms.idToken('ada', hint, nonce, { claims: { iss: 'https://evil.test' } })) },
        { label: 'no deployment', code: 'lti_missing_deployment', status: 400, tamper: async (f, nonce) => f.set('id_token', await lms.idToken('ada', hint, nonce, { claims: { 'https://purl.imsglobal.org/spec/lti/claim/deployment_id': undefined } })) },
        { label: 'an unregistered deployment', code: 'lti_unknown_deployment', status: 403, tamper: async (f, nonce) => f.set('id_token', await lms.idToken('ada', hint, nonce, { claims: { 'https://purl.imsglobal.org/spec/lti/claim/deployment_id': 'dep-unknown' } })) },
        { label: 'another LTI version', code: 'lti_version', status: 400, tamper: async (f, nonce) => f.set('id_token', await lms.idToken('ada', hint, nonce, { claims: { 'https://purl.imsglobal.org/spec/lti/claim/version': '1.1' } })) },
        { label: 'another nonce', code: 'lti_nonce_mismatch', status: 401, tamper: async (f) => f.set('id_token', await lms.idToken('ada', hint, 'a-nonce-we-never-sent')) },
        { label: 'an unknown state', code: 'lti_state_unknown', status: 400, tamper: (f) => f.set('state', 'made-up-state') },
        { label: 'not a JWT', code: 'lti_token_malformed', status: 400, tamper: (f) => f.set('id_token', 'not-a-token') },
      ]
      const hint = newLink()
      const currentKid = (f: URLSearchParams) => JSON.parse(Buffer.from(f.get('id_token')!.split('.')[0]!, 'base64url').toString()).kid as string
      for (const c of cases) {
        // The nonce of this login, for a token made anew.
        const r = await launch('ada', hint, { tamper: (f) => c.tamper(f, claimsOf(f.get('id_token')!).nonce) })
        assert.equal(errorCode(r.html), c.code, `${c.label}: ${r.html.slice(0, 300)}`)
        assert.equal(r.status, c.status, c.label)
        assert.match(r.html, /Session Kit could not open this activity/, c.label)
      }
    })

    it('accepts a launch once: the same form again, or its token with another sign-in, is refused', async () => {
      const hint = newLink()
      const first = await launch('grace', hint)
      assert.equal(first.status, 200)
      const again = await fetch(first.redirectUri, { method: 'POST', body: new URLSearchParams({ id_token: first.idToken, state: first.state }), headers: { cookie: first.cookie } })
      assert.equal(again.status, 400)
      assert.equal(errorCode(await again.text()), 'lti_replayed')
      // Its token with a new sign-in's state: not that sign-in's nonce.
      const { res, cookie } = await login('grace', hint)
      const state = new URL(res.headers.get('location')!).searchParams.get('state')!
      const replay = await fetch(first.redirectUri, { method: 'POST', body: new URLSearchParams({ id_token: first.idToken, state }), headers: { cookie } })
      assert.equal(errorCode(await replay.text()), 'lti_nonce_mismatch')
    })

    it('a launch in another browser than the sign-in (no cookie, or another one) opens nothing and offers a new window', async () => {
      const hint = newLink()
      const bare = await launch('grace', hint, { cookie: false })
      assert.equal(bare.status, 401)
      assert.match(bare.html, /Open Session Kit in a new window/)
      const link = /href="([^"]+)" target="_blank"/.exec(bare.html)![1]!.replaceAll('&amp;', '&')
      const again = new URL(link)
      assert.equal(again.pathname, '/lti/login')
      assert.equal(again.searchParams.get('login_hint'), 'grace')
      assert.equal(again.searchParams.get('lti_storage_target'), null, 'the new window keeps its sign-in in a first-party cookie')
      assert.doesNotMatch(bare.html, /session-kit-lti/, 'no token on the page')

      // Another login's cookie does not prove this one.
      const other = await login('grace', hint)
      const { res } = await login('grace', hint)
      const auth = new URL(res.headers.get('location')!)
      const { idToken, state, redirectUri } = await lms.authorize(auth.searchParams)
      const crossed = await fetch(redirectUri, { method: 'POST', body: new URLSearchParams({ id_token: idToken, state }), headers: { cookie: other.cookie } })
      assert.equal(crossed.status, 401)
      assert.match(await crossed.text(), /new window/)
    })

    it('keeps the sign-in in the platform storage when the LMS offers it (no cookie needed)', async () => {
      const hint = newLink()
      const res = await fetch(`${s.url}/lti/login?${lms.loginParams('grace', hint, { storageTarget: 'post_message_forwarding' })}`)
      assert.equal(res.status, 200)
      const put = launchData(await res.text())
      assert.equal(put.mode, 'put')
      assert.equal(put.target, 'post_message_forwarding')
      assert.equal(put.origin, new URL(lms.authUrl).origin)
      const next = new URL(put.next as string)
      const { idToken, state, redirectUri } = await lms.authorize(next.searchParams)
      assert.equal(put.key, `session_kit_${state.slice(0, 16)}`)

      // The launch, without a cookie: a page that reads the secret back from the platform's storage.
      const confirm = await fetch(redirectUri, { method: 'POST', body: new URLSearchParams({ id_token: idToken, state }) })
      assert.equal(confirm.status, 200)
      const get = launchData(await confirm.text())
      assert.equal(get.mode, 'get')
      assert.equal(get.key, put.key)

      const wrong = await fetch(`${s.url}/lti/launch/confirm`, { method: 'POST', body: new URLSearchParams({ state, binding: 'someone-else' }) })
      assert.equal(wrong.status, 401)
      assert.equal(errorCode(await wrong.text()), 'lti_state_mismatch')
      const none = await fetch(`${s.url}/lti/launch/confirm`, { method: 'POST', body: new URLSearchParams({ state, binding: '' }) })
      assert.equal(none.status, 401)
      assert.match(await none.text(), /Open Session Kit in a new window/, 'no storage and no cookie: a new window')

      const ok = await fetch(`${s.url}/lti/launch/confirm`, { method: 'POST', body: new URLSearchParams({ state, binding: put.value as string }) })
      assert.equal(ok.status, 200)
      const data = launchData(await ok.text())
      assert.equal(data.mode, 'launch')
      assert.equal(data.role, 'learner')
      const twice = await fetch(`${s.url}/lti/launch/confirm`, { method: 'POST', body: new URLSearchParams({ state, binding: put.value as string }) })
      assert.equal(errorCode(await twice.text()), 'lti_replayed')
    })

    it('checks launches signed with a key the LMS rotated to (its key set fetched again for an unknown kid)', async () => {
      const hint = newLink()
      assert.equal((await launch('grace', hint)).status, 200)
      await lms.rotateKey()
      // The key set is fetched again at most every few seconds, whatever kids launches name.
      await new Promise((r) => setTimeout(r, 5_500))
      const after = await launch('grace', hint)
      assert.equal(after.status, 200, after.html.slice(0, 300))
    })

    it('publishes our keys, and a rotation keeps the old one published', async () => {
      const before = await s.api('GET', '/lti/jwks')
      assert.equal(before.status, 200)
      assert.ok(before.json.keys.length >= 1)
      for (const k of before.json.keys) {
        assert.equal(k.kty, 'RSA')
        assert.equal(k.alg, 'RS256')
        assert.equal(k.d, undefined, 'no private part')
      }
      const kid = await s.services.ltiKeys.rotate()
      const afterRotation = (await s.api('GET', '/lti/jwks')).json.keys.map((k: { kid: string }) => k.kid)
      assert.equal(afterRotation[0], kid)
      for (const k of before.json.keys) assert.ok(afterRotation.includes(k.kid), 'the retired key is still published')
      const signed = await s.services.ltiKeys.sign({ hello: 'platform' })
      const { protectedHeader } = await jwtVerify(signed, createRemoteJWKSet(new URL(`${s.url}/lti/jwks`)))
      assert.equal(protectedHeader.kid, kid)
    })

    it('deep linking: an instructor picks an assignment, the LMS gets a signed link, and launches of it open the assignment', async () => {
      const dl = lms.message({ kind: 'deep-linking', contextId: 'cs101', contextTitle: 'CS 101', data: 'opaque-lms-data' })
      const picker = await launch('ada', dl)
      assert.equal(picker.status, 200)
      assert.match(picker.html, /Add Session Kit to CS 101/)
      const request = /name="request" value="([^"]+)"/.exec(picker.html)![1]!
      const post = (fields: Record<string, string>) => fetch(`${s.url}/lti/deep-link`, { method: 'POST', body: new URLSearchParams({ request, ...fields }) })

      const untitled = await post({ kind: 'assignment', title: ' ', language: 'python' })
      assert.equal(untitled.status, 400)
      assert.match(await untitled.text(), /Give the activity a title/)

      const res = await post({
        kind: 'assignment',
        title: 'Sum a list',
        language: 'python',
        instructions: 'Write `total(xs)`.',
        starterName: 'main.py',
        starter: 'def total(xs):\n    return 0\n',
        visibleName: 'test_main.py',
        visible: 'from main import total\n\ndef test_empty():\n    assert total([]) == 0\n',
        hiddenName: 'test_hidden.py',
        hidden: 'from main import total\n\ndef test_three():\n    assert total([1, 2, 3]) == 6\n',
        submitPolicy: 'keep-editing',
        dueAt: '2030-01-02T09:30',
      })
      assert.equal(res.status, 200)
      const page = await res.text()
      const action = /<form method="post" action="([^"]+)" id="session-kit-return">/.exec(page)![1]!
      assert.equal(action, lms.deepLinkReturnUrl)
      const jwt = /name="JWT" value="([^"]+)"/.exec(page)![1]!
      const back = await fetch(action, { method: 'POST', body: new URLSearchParams({ JWT: jwt }) })
      assert.equal(back.status, 200, await back.clone().text())
      const answer = lms.deepLinkResponses.at(-1)!
      assert.equal(answer.data, 'opaque-lms-data')
      const [item] = answer.contentItems
      assert.equal(item.type, 'ltiResourceLink')
      assert.equal(item.title, 'Sum a list')
      assert.equal(item.lineItem.scoreMaximum, 100, 'an assignment with tests gets a grade column')
      const aid = item.custom.session_kit_assignment as string
      assert.ok(aid)

      // The LMS launches the new link: learners get their assignment, instructors the class overview.
      const linkHint = lms.message({ kind: 'resource', resourceLinkId: `rl-dl-${aid}`, title: 'Sum a list', contextId: 'cs101', custom: item.custom })
      const grace = await launch('grace', linkHint)
      assert.match(grace.html, new RegExp(`<session-assignment server="[^"]+" assignment="${aid}">`))
      const g = launchData(grace.html)
      assert.equal(claimsOf(g.token!).assignment, aid)
      const opened = await s.api('POST', `/v1/assignments/${aid}/open`, g.token)
      assert.equal(opened.status, 201, JSON.stringify(opened.json))
      const seen = await s.api('GET', `/v1/assignments/${aid}`, g.token)
      assert.equal(seen.json.tests?.hidden, undefined, 'learners never see hidden tests')
      assert.equal(seen.json.dueAt, '2030-01-02T09:30:00.000Z', 'the picker’s due time is UTC, as its label says')
      const ada = await launch('ada', linkHint)
      assert.match(ada.html, new RegExp(`<session-classroom server="[^"]+" assignment="${aid}">`))
      const rooms = await s.api('GET', `/v1/assignments/${aid}/rooms`, launchData(ada.html).token)
      assert.equal(rooms.status, 200)

      // Another LMS cannot open it by naming it.
      const stranger = lms.message({ kind: 'resource', resourceLinkId: 'rl-guess', contextId: 'cs101', custom: { session_kit_assignment: 'no-such-assignment' } })
      const guessed = await launch('grace', stranger)
      assert.equal(guessed.status, 404)
      assert.equal(errorCode(guessed.html), 'lti_assignment_not_found')
    })

    it('deep linking is for instructors; a learner sees why', async () => {
      const dl = lms.message({ kind: 'deep-linking', contextId: 'cs101' })
      const r = await launch('grace', dl)
      assert.equal(r.status, 403)
      assert.equal(errorCode(r.html), 'lti_deep_linking_forbidden')
      const forged = await fetch(`${s.url}/lti/deep-link`, { method: 'POST', body: new URLSearchParams({ request: 'forged', kind: 'room', title: 'x' }) })
      assert.equal(forged.status, 400)
      assert.equal(errorCode(await forged.text()), 'lti_deep_linking_expired')
    })
  })
}
