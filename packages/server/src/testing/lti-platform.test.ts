import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { serve, type ServerType } from '@hono/node-server'
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose'
import { LTI_SCOPES, SimulatedPlatform } from './lti-platform.js'

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/'
const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'
const INSTRUCTOR = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor'

/** A stand-in for the tool's key set: one RS256 key published at a local JWKS URL. */
async function toolKeys() {
  const key = async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
    const kid = randomUUID()
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } as JWK }
  }
  const published = await key()
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: () => Response.json({ keys: [published.jwk] }), hostname: '127.0.0.1', port: 0 }, () => resolve(s))
  })
  const sign = (privateKey: CryptoKey, kid: string, claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setIssuedAt().setExpirationTime('5m').setJti(randomUUID()).sign(privateKey)
  return {
    jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    sign: (claims: Record<string, unknown>) => sign(published.privateKey, published.kid, claims),
    signUnpublished: async (claims: Record<string, unknown>) => {
      const other = await key()
      return sign(other.privateKey, other.kid, claims)
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe('simulated LTI platform', () => {
  let platform: SimulatedPlatform
  let tool: Awaited<ReturnType<typeof toolKeys>>
  const form = (fields: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) })
  const assertion = (claims: Record<string, unknown> = {}) => tool.sign({ iss: platform.clientId, sub: platform.clientId, aud: platform.tokenUrl, ...claims })
  async function accessToken(scope: string) {
    const res = await fetch(platform.tokenUrl, form({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(),
      scope,
    }))
    assert.equal(res.status, 200, await res.clone().text())
    return ((await res.json()) as { access_token: string }).access_token
  }

  before(async () => {
    platform = await SimulatedPlatform.start()
    tool = await toolKeys()
    platform.toolJwksUrl = tool.jwksUrl
    platform.toolLoginUrl = 'http://127.0.0.1:9/lti/login'
    platform.toolLaunchUrl = 'http://127.0.0.1:9/lti/launch'
    platform.addUser('ada', { sub: 'u-ada', name: 'Ada Lovelace', email: 'ada@example.edu', roles: [LEARNER] })
  })
  after(async () => {
    await platform.close()
    await tool.close()
  })

  it('signs id_tokens its JWKS verifies, keeps old keys published after a rotation, and never publishes the stranger key', async () => {
    assert.match(platform.url, /^http:\/\/localhost:\d+$/)
    const hint = platform.message({ kind: 'resource', resourceLinkId: 'rl-1', contextId: 'c1', contextTitle: 'Algorithms', custom: { room: 'r1' } })
    const jwks = async () => createLocalJWKSet((await (await fetch(platform.jwksUrl)).json()) as JSONWebKeySet)
    const verify = async (token: string) => (await jwtVerify(token, await jwks(), { issuer: platform.issuer, audience: platform.clientId })).payload
    const claims = await verify(await platform.idToken('ada', hint, 'n-1'))
    assert.equal(claims.sub, 'u-ada')
    assert.equal(claims.nonce, 'n-1')
    assert.equal(claims[LTI + 'message_type'], 'LtiResourceLinkRequest')
    assert.deepEqual(claims[LTI + 'resource_link'], { id: 'rl-1' })
    assert.deepEqual(claims[LTI + 'custom'], { room: 'r1' })
    assert.equal((claims['https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice'] as any).context_memberships_url, platform.membershipsUrl('c1'))

    const old = decodeProtectedHeader(await platform.idToken('ada', hint, 'n')).kid
    const kid = await platform.rotateKey()
    const rotated = await platform.idToken('ada', hint, 'n-2')
    assert.equal(decodeProtectedHeader(rotated).kid, kid)
    assert.deepEqual(((await (await fetch(platform.jwksUrl)).json()) as { keys: JWK[] }).keys.map((k) => k.kid), [old, kid])
    await verify(rotated)

    const stranger = await platform.idToken('ada', hint, 'n-3', { signWith: 'stranger', kid })
    await assert.rejects(verify(stranger), /signature verification failed/)
    const hostile = await verify(await platform.idToken('ada', hint, 'n-4', { claims: { [LTI + 'deployment_id']: undefined, email: 'x@evil.test' } }))
    assert.equal(hostile[LTI + 'deployment_id'], undefined)
    assert.equal(hostile.email, 'x@evil.test')
  })

  it('answers a valid authentication request with an auto-submitting form and refuses a wrong one by name', async () => {
    const hint = platform.message({ kind: 'deep-linking', contextId: 'c1', data: 'opaque' })
    const login = platform.loginParams('ada', hint, { storageTarget: '_parent' })
    assert.equal(login.get('lti_storage_target'), '_parent')
    assert.equal(login.get('target_link_uri'), platform.toolLaunchUrl)
    const request = new URLSearchParams({
      scope: 'openid', response_type: 'id_token', response_mode: 'form_post', prompt: 'none', client_id: platform.clientId,
      redirect_uri: platform.toolLaunchUrl!, login_hint: 'ada', lti_message_hint: hint, nonce: 'n-5', state: 's-5',
    })
    const answer = await platform.authorize(request)
    assert.equal(answer.state, 's-5')
    const settings = decodeJwt(answer.idToken)['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings']
    assert.equal(settings.deep_link_return_url, platform.deepLinkReturnUrl)
    assert.equal(settings.data, 'opaque')

    const res = await fetch(`${platform.authUrl}?${request}`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-frame-options'), null, 'works inside an iframe')
    const html = await res.text()
    assert.match(html, new RegExp(`<form id="launch" method="post" action="${platform.toolLaunchUrl}">`))
    assert.match(html, /name="state" value="s-5"/)

    const wrong = new URLSearchParams(request)
    wrong.set('response_mode', 'fragment')
    await assert.rejects(platform.authorize(wrong), /response_mode must be "form_post"/)
    const bad = await fetch(platform.authUrl, form(Object.fromEntries(wrong)))
    assert.equal(bad.status, 400)
    assert.match(await bad.text(), /response_mode/)
    wrong.set('response_mode', 'form_post')
    wrong.set('redirect_uri', 'https://evil.test/steal')
    await assert.rejects(platform.authorize(wrong), /redirect_uri "https:\/\/evil.test\/steal" is not registered/)
  })

  it('grants client credentials to an assertion signed by a key at the tool\'s JWKS, once per jti, and to no stranger', async () => {
    const token = await accessToken(`${LTI_SCOPES.score} ${LTI_SCOPES.memberships}`)
    assert.ok(token)
    assert.deepEqual(platform.tokenRequests.at(-1), { scope: `${LTI_SCOPES.score} ${LTI_SCOPES.memberships}`, clientId: platform.clientId })
    const grant = (clientAssertion: string, scope: string = LTI_SCOPES.score) =>
      fetch(platform.tokenUrl, form({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: clientAssertion, scope }))

    const stranger = await grant(await tool.signUnpublished({ iss: platform.clientId, sub: platform.clientId, aud: platform.tokenUrl }))
    assert.equal(stranger.status, 401)
    assert.equal(((await stranger.json()) as { error: string }).error, 'invalid_client')

    const once = await assertion({ aud: platform.issuer })
    assert.equal((await grant(once)).status, 200)
    const replay = await grant(once)
    assert.equal(replay.status, 400)
    assert.match(((await replay.json()) as { error_description: string }).error_description, /already used/)

    assert.equal((await grant(await assertion({ iss: 'someone-else', sub: 'someone-else' }))).status, 401)
    assert.equal((await grant(await assertion(), 'https://example.test/scope/everything')).status, 400)
    platform.failNext('token', 1, 503)
    assert.equal((await grant(await assertion())).status, 503)
    assert.equal((await grant(await assertion())).status, 200)
  })

  it('lists members with NRPS: bearer scope, role filter and Link paging', async () => {
    platform.members.set('c1', [
      { user_id: 'u-1', name: 'One', roles: [INSTRUCTOR] },
      ...[2, 3, 4, 5].map((n) => ({ user_id: `u-${n}`, roles: [LEARNER] })),
    ])
    const url = platform.membershipsUrl('c1')
    const accept = 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json'
    assert.equal((await fetch(url, { headers: { accept } })).status, 401)
    const scoreOnly = await accessToken(LTI_SCOPES.score)
    assert.equal((await fetch(url, { headers: { accept, authorization: `Bearer ${scoreOnly}` } })).status, 403)

    const token = await accessToken(LTI_SCOPES.memberships)
    const headers = { accept, authorization: `Bearer ${token}` }
    const seen: string[] = []
    let next: string | undefined = `${url}?limit=2`
    let pages = 0
    while (next) {
      const res = await fetch(next, { headers })
      assert.equal(res.headers.get('content-type'), accept)
      const body = (await res.json()) as { context: { id: string }; members: { user_id: string; status: string }[] }
      assert.equal(body.context.id, 'c1')
      assert.ok(body.members.every((m) => m.status === 'Active'))
      seen.push(...body.members.map((m) => m.user_id))
      next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1]
      pages++
    }
    assert.equal(pages, 3)
    assert.deepEqual(seen, ['u-1', 'u-2', 'u-3', 'u-4', 'u-5'])
    for (const role of ['Instructor', INSTRUCTOR]) {
      const body = (await (await fetch(`${url}?role=${encodeURIComponent(role)}`, { headers })).json()) as { members: { user_id: string }[] }
      assert.deepEqual(body.members.map((m) => m.user_id), ['u-1'])
    }
  })

  it('validates AGS scores and records the good ones', async () => {
    const lineItem = platform.addLineItem('c1', { label: 'Quiz 1', scoreMaximum: 10, resourceLinkId: 'rl-1' })
    const token = await accessToken(`${LTI_SCOPES.score} ${LTI_SCOPES.lineItem}`)
    const post = (score: unknown, contentType = 'application/vnd.ims.lis.v1.score+json') =>
      fetch(`${lineItem}/scores`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: JSON.stringify(score) })
    const good = { userId: 'u-2', scoreGiven: 7, scoreMaximum: 10, activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: new Date().toISOString() }

    const refusals: [unknown, RegExp][] = [
      [{ ...good, scoreGiven: 11 }, /above scoreMaximum/],
      [{ ...good, activityProgress: 'Done' }, /activityProgress/],
      [{ ...good, gradingProgress: undefined }, /gradingProgress/],
      [{ ...good, timestamp: 'yesterday' }, /timestamp/],
      [{ ...good, userId: '' }, /userId/],
      [{ ...good, scoreMaximum: undefined }, /scoreMaximum is required/],
    ]
    for (const [score, why] of refusals) {
      const res = await post(score)
      assert.equal(res.status, 400)
      assert.match(await res.text(), why)
    }
    assert.equal((await post(good, 'application/json')).status, 415)
    assert.equal((await post(good)).status, 204)
    assert.deepEqual(platform.scores, [{ lineItem, score: good }])
    assert.equal((await post({ ...good, timestamp: new Date(Date.now() - 60_000).toISOString() })).status, 400, 'an older score does not replace a newer one')

    platform.failNext('scores', 1, 502)
    assert.equal((await post({ ...good, timestamp: new Date(Date.now() + 1000).toISOString() })).status, 502)
    assert.equal(platform.scores.length, 1)

    const created = await fetch(platform.lineItemsUrl('c1'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.ims.lis.v2.lineitem+json' },
      body: JSON.stringify({ label: 'Session', scoreMaximum: 100, tag: 'session-kit' }),
    })
    assert.equal(created.status, 201)
    const item = (await created.json()) as { id: string }
    assert.ok(platform.lineItems.has(item.id))
    const listed = (await (await fetch(`${platform.lineItemsUrl('c1')}?tag=session-kit`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string }[]
    assert.deepEqual(listed.map((i) => i.id), [item.id])
  })

  it('verifies and records a deep linking response signed by the tool', async () => {
    const response = (claims: Record<string, unknown> = {}) =>
      tool.sign({
        iss: platform.clientId, aud: platform.issuer, nonce: randomUUID(),
        [LTI + 'message_type']: 'LtiDeepLinkingResponse', [LTI + 'version']: '1.3.0', [LTI + 'deployment_id']: platform.deploymentId,
        'https://purl.imsglobal.org/spec/lti-dl/claim/content_items': [{ type: 'ltiResourceLink', title: 'Pair programming', url: 'http://127.0.0.1:9/lti/launch' }],
        'https://purl.imsglobal.org/spec/lti-dl/claim/data': 'opaque',
        ...claims,
      })
    const ok = await fetch(platform.deepLinkReturnUrl, form({ JWT: await response() }))
    assert.equal(ok.status, 200)
    assert.match(await ok.text(), /Added 1 item\(s\)/)
    assert.equal(platform.deepLinkResponses.length, 1)
    assert.equal(platform.deepLinkResponses[0]!.data, 'opaque')
    assert.equal(platform.deepLinkResponses[0]!.contentItems[0].title, 'Pair programming')

    assert.equal((await fetch(platform.deepLinkReturnUrl, form({ JWT: await response({ [LTI + 'deployment_id']: 'dep-other' }) }))).status, 400)
    assert.equal((await fetch(platform.deepLinkReturnUrl, form({ JWT: await response({ aud: 'https://other.test' }) }))).status, 400)
    assert.equal(platform.deepLinkResponses.length, 1)
  })

  it('registers a tool dynamically with a registration token that works once', async () => {
    const config = (await (await fetch(platform.openidConfigurationUrl)).json()) as Record<string, any>
    assert.equal(config.registration_endpoint, `${platform.url}/register`)
    assert.deepEqual(config.token_endpoint_auth_methods_supported, ['private_key_jwt'])
    assert.equal(config['https://purl.imsglobal.org/spec/lti-platform-configuration'].product_family_code, 'session-kit-simulated-lms')

    const tool2 = 'http://127.0.0.1:8'
    const registration = {
      application_type: 'web', response_types: ['id_token'], grant_types: ['implicit', 'client_credentials'],
      initiate_login_uri: `${tool2}/lti/login`, redirect_uris: [`${tool2}/lti/launch`], client_name: 'Session Kit',
      jwks_uri: tool.jwksUrl, token_endpoint_auth_method: 'private_key_jwt', scope: `${LTI_SCOPES.score} ${LTI_SCOPES.memberships}`,
      'https://purl.imsglobal.org/spec/lti-tool-configuration': {
        domain: '127.0.0.1:8', target_link_uri: `${tool2}/lti/launch`,
        messages: [{ type: 'LtiDeepLinkingRequest', target_link_uri: `${tool2}/lti/launch` }],
      },
    }
    const initiation = new URL(platform.registrationInitiationUrl(`${tool2}/lti/register`))
    assert.equal(initiation.searchParams.get('openid_configuration'), platform.openidConfigurationUrl)
    const register = (token: string, body: unknown) =>
      fetch(config.registration_endpoint, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })

    const token = initiation.searchParams.get('registration_token')!
    const invalid = await register(platform.registrationToken(), { ...registration, token_endpoint_auth_method: 'client_secret_basic' })
    assert.equal(invalid.status, 400)
    assert.match(((await invalid.json()) as { error_description: string }).error_description, /private_key_jwt/)

    const res = await register(token, registration)
    assert.equal(res.status, 200)
    const answer = (await res.json()) as Record<string, any>
    assert.match(answer.client_id, /^sk-client-/)
    assert.equal(answer['https://purl.imsglobal.org/spec/lti-tool-configuration'].deployment_id, platform.deploymentId)
    assert.equal(platform.clientId, answer.client_id)
    assert.equal(platform.toolLoginUrl, `${tool2}/lti/login`)
    assert.equal(platform.toolLaunchUrl, `${tool2}/lti/launch`)
    assert.equal(platform.toolDeepLinkUrl, `${tool2}/lti/launch`)
    assert.deepEqual(platform.registrations, [registration])
    assert.equal((await register(token, registration)).status, 401, 'a registration token works once')

    // The new client gets only the scopes it registered.
    await accessToken(LTI_SCOPES.score)
    const extra = await fetch(platform.tokenUrl, form({
      grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(), scope: LTI_SCOPES.lineItem,
    }))
    assert.equal(extra.status, 400)
  })
})

function decodeJwt(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
}
