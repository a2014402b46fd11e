/**
 * A simulated LTI 1.3 platform (an LMS as far as LTI Advantage goes) that runs in the test's own
 * process: OIDC third-party initiated login and id_token form_post (LTI 1.3 core and the security
 * framework), Deep Linking 2.0, Names and Role Provisioning 2.0, Assignment and Grade Services
 * 2.0, LTI Dynamic Registration 1.0, and client credentials with private_key_jwt.
 *
 * It listens on `localhost` by default so that, in a browser, it is a different site from a tool on
 * 127.0.0.1 — the situation of a real LMS embedding a tool in an iframe. Every service records what
 * it received (`tokenRequests`, `scores`, `deepLinkResponses`, `registrations`) for the test to
 * inspect, and `failNext` / `idToken(…, overrides)` make the hostile cases easy to write.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { SignJWT, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWK, type JWTPayload } from 'jose'

export interface SimulatedUser { sub: string; name?: string; givenName?: string; familyName?: string; email?: string; picture?: string; roles: string[] }
export interface ResourceLinkMessage {
  kind: 'resource'
  resourceLinkId: string
  title?: string
  contextId: string
  contextTitle?: string
  custom?: Record<string, string>
  /** A line item URL of this platform (from `addLineItem`), sent in the AGS claim. */
  lineItem?: string
}
export interface DeepLinkingMessage { kind: 'deep-linking'; contextId: string; contextTitle?: string; data?: string }
export type PlatformMessage = ResourceLinkMessage | DeepLinkingMessage
/** One member of a context as NRPS 2.0 lists it. */
export interface PlatformMember { user_id: string; name?: string; given_name?: string; family_name?: string; email?: string; picture?: string; roles: string[]; status?: 'Active' | 'Inactive' }
export interface IdTokenOverrides {
  /** Claims replaced, or deleted when the value is undefined (applied last, so any claim). */
  claims?: Record<string, unknown>
  /** 'stranger' signs with a key this platform never publishes. */
  signWith?: 'platform' | 'stranger'
  /** The header's kid instead of the signing key's own. */
  kid?: string
  /** exp − iat in seconds (default 300; negative for a token already expired). */
  expiresIn?: number
  /** iat in seconds since the epoch (default now). */
  issuedAt?: number
}

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/'
const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim/'
const TOOL_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-tool-configuration'
const PRODUCT = 'session-kit-simulated-lms'
export const LTI_SCOPES = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  memberships: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
} as const
const AGS_SCOPES = [LTI_SCOPES.lineItem, LTI_SCOPES.lineItemReadonly, LTI_SCOPES.resultReadonly, LTI_SCOPES.score]
const MEDIA = {
  memberships: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItems: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  results: 'application/vnd.ims.lis.v2.resultcontainer+json',
  score: 'application/vnd.ims.lis.v1.score+json',
}
const ACTIVITY = ['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed']
const GRADING = ['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady']
const ISO_8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/

interface SigningKey { kid: string; privateKey: CryptoKey; jwk: JWK }
interface AccessToken { scopes: Set<string>; clientId: string; expires: number }
type Endpoint = 'scores' | 'token' | 'nrps'

async function newKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const kid = `sim-${randomBytes(6).toString('hex')}`
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } }
}

function listen(fetch: (req: Request) => Response | Promise<Response>, hostname: string, port: number) {
  return new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch, hostname, port }, () => resolve(s))
    s.once('error', reject)
  })
}

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!)
const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escape(title)}</title></head><body>${body}</body></html>`
const isUrl = (v: unknown) => typeof v === 'string' && /^https?:\/\//.test(v) && URL.canParse(v)
const str = (v: unknown) => (typeof v === 'string' ? v : '')

export class SimulatedPlatform {
  /** Start a platform on a free port of `host` (default 'localhost'). */
  static async start(opts: { host?: string; issuer?: string; clientId?: string; deploymentId?: string } = {}): Promise<SimulatedPlatform> {
    const host = opts.host ?? 'localhost'
    let platform: SimulatedPlatform | undefined
    const fetch = (req: Request) => (platform ? platform.app.fetch(req) : new Response('starting', { status: 503 }))
    // 'localhost' is 127.0.0.1 on some machines and ::1 on others: answer on both, same port.
    const servers = [await listen(fetch, host === 'localhost' ? '127.0.0.1' : host, 0)]
    const port = (servers[0]!.address() as AddressInfo).port
    if (host === 'localhost') await listen(fetch, '::1', port).then((s) => servers.push(s), () => {})
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    platform = new SimulatedPlatform(url, opts, servers, await newKey())
    return platform
  }

  readonly url: string
  readonly issuer: string
  clientId: string
  readonly deploymentId: string
  readonly authUrl: string
  readonly tokenUrl: string
  readonly jwksUrl: string
  readonly openidConfigurationUrl: string
  readonly registrationUrl: string
  readonly deepLinkReturnUrl: string
  toolJwksUrl?: string
  toolLoginUrl?: string
  toolLaunchUrl?: string
  toolDeepLinkUrl?: string
  users = new Map<string, SimulatedUser>()
  members = new Map<string, PlatformMember[]>()
  readonly tokenRequests: { scope: string; clientId: string }[] = []
  readonly scores: { lineItem: string; score: any }[] = []
  readonly lineItems = new Map<string, any>()
  readonly deepLinkResponses: { contentItems: any[]; data?: string; claims: any }[] = []
  readonly registrations: any[] = []
  /** The redirect URIs the tool registered (dynamic registration), besides toolLaunchUrl/toolDeepLinkUrl. */
  readonly redirectUris = new Set<string>()

  private readonly app = this.routes()
  private readonly guid = randomUUID()
  private keys: SigningKey[]
  private current: SigningKey
  private stranger?: SigningKey
  private messages = new Map<string, PlatformMessage>()
  private targetLinks = new Map<string, string>()
  private contexts = new Map<string, { title?: string }>()
  private tokens = new Map<string, AccessToken>()
  private usedJti = new Set<string>()
  private usedNonces = new Set<string>()
  private registrationTokens = new Set<string>()
  /** The scopes the tool asked for at registration: the token endpoint grants no others. */
  private registeredScopes?: Set<string>
  private failures = new Map<Endpoint, { n: number; status: number }>()
  private results = new Map<string, Map<string, any>>()
  private toolJwks?: { url: string; get: ReturnType<typeof createRemoteJWKSet> }
  private seq = 0

  private constructor(url: string, opts: { issuer?: string; clientId?: string; deploymentId?: string }, private servers: ServerType[], key: SigningKey) {
    this.url = url
    this.issuer = opts.issuer ?? url
    this.clientId = opts.clientId ?? 'sk-client-1'
    this.deploymentId = opts.deploymentId ?? 'dep-1'
    this.authUrl = `${url}/auth`
    this.tokenUrl = `${url}/token`
    this.jwksUrl = `${url}/jwks`
    this.openidConfigurationUrl = `${url}/.well-known/openid-configuration`
    this.registrationUrl = `${url}/register`
    this.deepLinkReturnUrl = `${url}/deep-link-return`
    this.keys = [key]
    this.current = key
  }

  addUser(loginHint: string, user: SimulatedUser): void {
    this.users.set(loginHint, user)
  }

  /** Register a message; returns the lti_message_hint to send in the login initiation. */
  message(m: PlatformMessage): string {
    const hint = `msg-${++this.seq}`
    this.messages.set(hint, m)
    this.context(m.contextId, m.contextTitle)
    return hint
  }

  /** The query of a third-party initiated login for the tool's login URL. */
  loginParams(loginHint: string, messageHint: string, opts: { storageTarget?: string; targetLinkUri?: string } = {}): URLSearchParams {
    const m = this.messages.get(messageHint)
    if (!m) throw new Error(`unknown lti_message_hint "${messageHint}": register the message with message() first`)
    if (opts.targetLinkUri) this.targetLinks.set(messageHint, opts.targetLinkUri)
    const params = new URLSearchParams({
      iss: this.issuer,
      login_hint: loginHint,
      target_link_uri: this.targetLinkUri(messageHint, m),
      lti_message_hint: messageHint,
      client_id: this.clientId,
      lti_deployment_id: this.deploymentId,
    })
    if (opts.storageTarget) params.set('lti_storage_target', opts.storageTarget)
    return params
  }

  /** A page of this platform that shows the tool in an iframe, the way a course page does (for browsers). */
  launchPageUrl(loginHint: string, messageHint: string, opts: { storageTarget?: string; targetLinkUri?: string } = {}): string {
    const q = new URLSearchParams({ user: loginHint, message: messageHint })
    if (opts.storageTarget) q.set('storage', opts.storageTarget)
    if (opts.targetLinkUri) q.set('target', opts.targetLinkUri)
    return `${this.url}/launch?${q}`
  }

  /** The authorization endpoint's checks and answer, callable without HTTP. Throws naming what is wrong. */
  async authorize(params: URLSearchParams): Promise<{ redirectUri: string; idToken: string; state: string }> {
    const get = (name: string) => params.get(name) ?? ''
    const expect = (name: string, want: string) => {
      if (get(name) !== want) throw new Error(`invalid_request: ${name} must be "${want}" (got "${get(name)}")`)
    }
    if (!get('scope').split(' ').includes('openid')) throw new Error(`invalid_scope: scope must include "openid" (got "${get('scope')}")`)
    expect('response_type', 'id_token')
    expect('response_mode', 'form_post')
    expect('prompt', 'none')
    if (get('client_id') !== this.clientId) throw new Error(`unauthorized_client: client_id "${get('client_id')}" is not registered here (expected "${this.clientId}")`)
    const allowed = new Set([this.toolLaunchUrl, this.toolDeepLinkUrl, ...this.redirectUris].filter((u): u is string => !!u))
    if (!allowed.size) throw new Error('invalid_request: no redirect URI is registered; set toolLaunchUrl (or register the tool)')
    if (!allowed.has(get('redirect_uri'))) throw new Error(`invalid_request: redirect_uri "${get('redirect_uri')}" is not registered (registered: ${[...allowed].join(', ')})`)
    if (!this.users.has(get('login_hint'))) throw new Error(`login_required: login_hint "${get('login_hint')}" is not a user of this platform`)
    if (!this.messages.has(get('lti_message_hint'))) throw new Error(`invalid_request: lti_message_hint "${get('lti_message_hint')}" is unknown`)
    if (!get('nonce')) throw new Error('invalid_request: nonce is missing')
    if (!get('state')) throw new Error('invalid_request: state is missing')
    return { redirectUri: get('redirect_uri'), idToken: await this.idToken(get('login_hint'), get('lti_message_hint'), get('nonce')), state: get('state') }
  }

  /** Sign an id_token for a message and user, with overrides for hostile tests. */
  async idToken(loginHint: string, messageHint: string, nonce: string, overrides: IdTokenOverrides = {}): Promise<string> {
    const user = this.users.get(loginHint)
    if (!user) throw new Error(`unknown login_hint "${loginHint}": add the user with addUser() first`)
    const m = this.messages.get(messageHint)
    if (!m) throw new Error(`unknown lti_message_hint "${messageHint}"`)
    const iat = overrides.issuedAt ?? Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      aud: this.clientId,
      azp: this.clientId,
      sub: user.sub,
      iat,
      exp: iat + (overrides.expiresIn ?? 300),
      nonce,
      name: user.name,
      given_name: user.givenName,
      family_name: user.familyName,
      email: user.email,
      picture: user.picture,
      [LTI + 'message_type']: m.kind === 'resource' ? 'LtiResourceLinkRequest' : 'LtiDeepLinkingRequest',
      [LTI + 'version']: '1.3.0',
      [LTI + 'deployment_id']: this.deploymentId,
      [LTI + 'target_link_uri']: this.targetLinkUri(messageHint, m),
      [LTI + 'roles']: user.roles,
      [LTI + 'context']: { id: m.contextId, label: m.contextId, title: m.contextTitle ?? this.contexts.get(m.contextId)?.title ?? m.contextId, type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'] },
      [LTI + 'launch_presentation']: { document_target: 'iframe', return_url: `${this.url}/return` },
      [LTI + 'tool_platform']: { guid: this.guid, name: 'Simulated LMS', product_family_code: PRODUCT, version: '1.0' },
      'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice': { context_memberships_url: this.membershipsUrl(m.contextId), service_versions: ['2.0'] },
      'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint': { scope: AGS_SCOPES, lineitems: this.lineItemsUrl(m.contextId), ...(m.kind === 'resource' && m.lineItem ? { lineitem: m.lineItem } : {}) },
    }
    if (m.kind === 'resource') {
      claims[LTI + 'resource_link'] = { id: m.resourceLinkId, title: m.title }
      if (m.custom) claims[LTI + 'custom'] = m.custom
    } else {
      claims[DL + 'deep_linking_settings'] = {
        deep_link_return_url: this.deepLinkReturnUrl,
        accept_types: ['ltiResourceLink'],
        accept_presentation_document_targets: ['iframe', 'window'],
        accept_multiple: false,
        auto_create: true,
        ...(m.data !== undefined ? { data: m.data } : {}),
      }
    }
    for (const [name, value] of Object.entries(overrides.claims ?? {})) {
      if (value === undefined) delete claims[name]
      else claims[name] = value
    }
    const key = overrides.signWith === 'stranger' ? (this.stranger ??= await newKey()) : this.current
    return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: overrides.kid ?? key.kid }).sign(key.privateKey)
  }

  /** A new signing key with a new kid; the old one stays published. Returns the new kid. */
  async rotateKey(): Promise<string> {
    this.current = await newKey()
    this.keys.push(this.current)
    return this.current.kid
  }

  /** Add a line item to a context (as an instructor would in the gradebook); returns its URL. */
  addLineItem(contextId: string, item: { label: string; scoreMaximum: number; resourceLinkId?: string; tag?: string; resourceId?: string }): string {
    this.context(contextId)
    const id = `${this.lineItemsUrl(contextId)}/${++this.seq}`
    this.lineItems.set(id, { id, ...item })
    return id
  }

  /** Fail the next n requests to an endpoint with this HTTP status (default 500). */
  failNext(endpoint: Endpoint, n: number, status = 500): void {
    this.failures.set(endpoint, { n, status })
  }

  /** A registration_token the registration endpoint accepts once. */
  registrationToken(): string {
    const token = randomBytes(18).toString('base64url')
    this.registrationTokens.add(token)
    return token
  }

  /** The URL the platform opens to start dynamic registration with a tool (openid_configuration and a fresh registration_token). */
  registrationInitiationUrl(toolRegistrationUrl: string): string {
    const u = new URL(toolRegistrationUrl)
    u.searchParams.set('openid_configuration', this.openidConfigurationUrl)
    u.searchParams.set('registration_token', this.registrationToken())
    return u.href
  }

  membershipsUrl(contextId: string): string {
    return `${this.url}/nrps/${encodeURIComponent(contextId)}/memberships`
  }

  lineItemsUrl(contextId: string): string {
    return `${this.url}/ags/${encodeURIComponent(contextId)}/lineitems`
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve())
        // Keep-alive connections of fetch would hold close() open.
        ;(s as { closeAllConnections?: () => void }).closeAllConnections?.()
      })),
    )
  }

  private context(id: string, title?: string) {
    if (!this.contexts.has(id) || title) this.contexts.set(id, { title: title ?? this.contexts.get(id)?.title })
  }

  private targetLinkUri(hint: string, m: PlatformMessage): string {
    const uri = this.targetLinks.get(hint) ?? (m.kind === 'deep-linking' ? (this.toolDeepLinkUrl ?? this.toolLaunchUrl) : this.toolLaunchUrl)
    if (!uri) throw new Error('the platform does not know where the tool lives: set toolLaunchUrl (or register the tool)')
    return uri
  }

  /** The tool's keys, fetched from toolJwksUrl. jose caches them and refetches on an unknown kid. */
  private toolKeys() {
    if (!this.toolJwksUrl) throw new Error('the platform does not know the tool\'s keys: set toolJwksUrl (or register the tool)')
    if (this.toolJwks?.url !== this.toolJwksUrl) this.toolJwks = { url: this.toolJwksUrl, get: createRemoteJWKSet(new URL(this.toolJwksUrl), { cooldownDuration: 0 }) }
    return this.toolJwks.get
  }

  /** A failure planned by failNext, consumed. */
  private injected(c: Context, endpoint: Endpoint): Response | undefined {
    const f = this.failures.get(endpoint)
    if (!f || f.n <= 0) return undefined
    f.n--
    return c.json({ error: 'server_error', error_description: `a failure planned by the test (${endpoint})` }, f.status as 500)
  }

  /** The access token of the request, if it grants one of the scopes; else the 401/403 answer. */
  private bearer(c: Context, anyOf: string[]): Response | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')
    const token = m ? this.tokens.get(m[1]!) : undefined
    if (!token || token.expires < Date.now() || token.clientId !== this.clientId) {
      c.header('WWW-Authenticate', 'Bearer error="invalid_token"')
      return c.text('invalid_token: send a valid Bearer access token from the token endpoint', 401)
    }
    if (!anyOf.some((s) => token.scopes.has(s))) {
      c.header('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${anyOf.join(' ')}"`)
      return c.text(`insufficient_scope: this needs the scope ${anyOf.join(' or ')}`, 403)
    }
    return undefined
  }

  /** ?limit=N&page=P paging with a Link rel="next" header, as NRPS and AGS containers do. */
  private paged<T>(c: Context, items: T[]): T[] {
    const limit = Number(c.req.query('limit') ?? 0)
    if (!Number.isInteger(limit) || limit <= 0) return items
    const pageNo = Math.max(1, Number(c.req.query('page') ?? 1) || 1)
    if (pageNo * limit < items.length) {
      const next = new URL(c.req.url)
      next.searchParams.set('page', String(pageNo + 1))
      c.header('Link', `<${next.href}>; rel="next"`)
    }
    return items.slice((pageNo - 1) * limit, pageNo * limit)
  }

  private routes(): Hono {
    const app = new Hono()

    app.on(['GET', 'POST'], '/auth', async (c) => {
      const params =
        c.req.method === 'GET' ? new URL(c.req.url).searchParams : new URLSearchParams(Object.entries(await c.req.parseBody()).map(([k, v]): [string, string] => [k, str(v)]))
      try {
        const { redirectUri, idToken, state } = await this.authorize(params)
        // No X-Frame-Options or frame-ancestors: an LMS runs this step inside the tool's iframe.
        return c.html(page('Simulated LMS: launching', `<form id="launch" method="post" action="${escape(redirectUri)}">
<input type="hidden" name="id_token" value="${escape(idToken)}"><input type="hidden" name="state" value="${escape(state)}">
<button type="submit">Continue to the tool</button></form><script>document.getElementById('launch').submit()</script>`))
      } catch (e) {
        return c.text((e as Error).message, 400)
      }
    })

    app.get('/jwks', (c) => c.json({ keys: this.keys.map((k) => k.jwk) }))

    app.post('/token', async (c) => {
      const fail = (status: 400 | 401, error: string, description: string) => c.json({ error, error_description: description }, status)
      const injected = this.injected(c, 'token')
      if (injected) return injected
      const form = await c.req.parseBody()
      if (str(form.grant_type) !== 'client_credentials') return fail(400, 'unsupported_grant_type', `grant_type must be client_credentials (got "${str(form.grant_type)}")`)
      if (str(form.client_assertion_type) !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
        return fail(400, 'invalid_request', 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      if (!str(form.client_assertion)) return fail(400, 'invalid_request', 'client_assertion is missing')
      let jti: string
      try {
        const { payload } = await jwtVerify(str(form.client_assertion), this.toolKeys(), {
          algorithms: ['RS256'],
          issuer: this.clientId,
          subject: this.clientId,
          audience: [this.tokenUrl, this.issuer],
          requiredClaims: ['exp', 'iat', 'jti'],
          clockTolerance: 5,
        })
        jti = String(payload.jti)
      } catch (e) {
        return fail(401, 'invalid_client', `client_assertion refused: ${(e as Error).message}`)
      }
      if (this.usedJti.has(jti)) return fail(400, 'invalid_grant', `client_assertion jti "${jti}" was already used`)
      this.usedJti.add(jti)
      const scopes = str(form.scope).split(' ').filter(Boolean)
      const grantable = this.registeredScopes ?? new Set(Object.values(LTI_SCOPES))
      const refused = scopes.filter((s) => !grantable.has(s))
      if (!scopes.length || refused.length) return c.json({ error: 'invalid_scope', error_description: scopes.length ? `scope not granted: ${refused.join(' ')}` : 'scope is missing' }, 400)
      const accessToken = randomBytes(24).toString('base64url')
      this.tokens.set(accessToken, { scopes: new Set(scopes), clientId: this.clientId, expires: Date.now() + 3600_000 })
      this.tokenRequests.push({ scope: scopes.join(' '), clientId: this.clientId })
      c.header('Cache-Control', 'no-store')
      return c.json({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600, scope: scopes.join(' ') })
    })

    app.get('/nrps/:contextId/memberships', (c) => {
      const denied = this.injected(c, 'nrps') ?? this.bearer(c, [LTI_SCOPES.memberships])
      if (denied) return denied
      const accept = c.req.header('accept')
      if (accept && !accept.includes(MEDIA.memberships) && !accept.includes('*/*')) return c.text(`not_acceptable: Accept must allow ${MEDIA.memberships}`, 406)
      const contextId = c.req.param('contextId')
      if (!this.contexts.has(contextId) && !this.members.has(contextId)) return c.text(`not_found: no context "${contextId}"`, 404)
      const role = c.req.query('role')
      // A role filter is a full role URI or, as platforms also accept, its short name ("Learner").
      const hasRole = (r: string) => r === role || (!role!.includes(':') && r.endsWith(`#${role}`))
      const members = (this.members.get(contextId) ?? []).filter((m) => !role || m.roles.some(hasRole))
      c.header('Content-Type', MEDIA.memberships)
      return c.body(JSON.stringify({
        id: c.req.url,
        context: { id: contextId, label: contextId, title: this.contexts.get(contextId)?.title ?? contextId },
        members: this.paged(c, members).map((m) => ({ status: 'Active', ...m })),
      }))
    })

    app.get('/ags/:contextId/lineitems', (c) => {
      const denied = this.bearer(c, [LTI_SCOPES.lineItem, LTI_SCOPES.lineItemReadonly])
      if (denied) return denied
      const prefix = `${this.lineItemsUrl(c.req.param('contextId'))}/`
      const q = c.req.query()
      const items = [...this.lineItems.values()].filter(
        (i) => i.id.startsWith(prefix) && (!q.resource_link_id || i.resourceLinkId === q.resource_link_id) && (!q.resource_id || i.resourceId === q.resource_id) && (!q.tag || i.tag === q.tag),
      )
      c.header('Content-Type', MEDIA.lineItems)
      return c.body(JSON.stringify(this.paged(c, items)))
    })

    app.post('/ags/:contextId/lineitems', async (c) => {
      const denied = this.bearer(c, [LTI_SCOPES.lineItem])
      if (denied) return denied
      if (!(c.req.header('content-type') ?? '').includes(MEDIA.lineItem)) return c.text(`unsupported_media_type: Content-Type must be ${MEDIA.lineItem}`, 415)
      const body = await c.req.json().catch(() => null)
      if (!body || typeof body.label !== 'string' || !body.label) return c.text('invalid_line_item: label must be a non-empty string', 400)
      if (typeof body.scoreMaximum !== 'number' || !(body.scoreMaximum > 0)) return c.text('invalid_line_item: scoreMaximum must be a number above 0', 400)
      const { label, scoreMaximum, resourceLinkId, resourceId, tag, startDateTime, endDateTime } = body
      const id = this.addLineItem(c.req.param('contextId'), { label, scoreMaximum, resourceLinkId, resourceId, tag })
      Object.assign(this.lineItems.get(id), startDateTime ? { startDateTime } : {}, endDateTime ? { endDateTime } : {})
      c.header('Content-Type', MEDIA.lineItem)
      return c.body(JSON.stringify(this.lineItems.get(id)), 201)
    })

    app.get('/ags/:contextId/lineitems/:id', (c) => {
      const denied = this.bearer(c, [LTI_SCOPES.lineItem, LTI_SCOPES.lineItemReadonly])
      if (denied) return denied
      const item = this.lineItems.get(`${this.lineItemsUrl(c.req.param('contextId'))}/${c.req.param('id')}`)
      if (!item) return c.text('not_found: no such line item', 404)
      c.header('Content-Type', MEDIA.lineItem)
      return c.body(JSON.stringify(item))
    })

    app.get('/ags/:contextId/lineitems/:id/results', (c) => {
      const denied = this.bearer(c, [LTI_SCOPES.resultReadonly])
      if (denied) return denied
      const url = `${this.lineItemsUrl(c.req.param('contextId'))}/${c.req.param('id')}`
      if (!this.lineItems.has(url)) return c.text('not_found: no such line item', 404)
      const userId = c.req.query('user_id')
      const results = [...(this.results.get(url) ?? new Map<string, any>()).entries()]
        .filter(([u]) => !userId || u === userId)
        .map(([u, s]) => ({ id: `${url}/results/${encodeURIComponent(u)}`, scoreOf: url, userId: u, resultScore: s.scoreGiven, resultMaximum: s.scoreMaximum, comment: s.comment }))
      c.header('Content-Type', MEDIA.results)
      return c.body(JSON.stringify(this.paged(c, results)))
    })

    app.post('/ags/:contextId/lineitems/:id/scores', async (c) => {
      const denied = this.injected(c, 'scores') ?? this.bearer(c, [LTI_SCOPES.score])
      if (denied) return denied
      if (!(c.req.header('content-type') ?? '').includes(MEDIA.score)) return c.text(`unsupported_media_type: Content-Type must be ${MEDIA.score}`, 415)
      const url = `${this.lineItemsUrl(c.req.param('contextId'))}/${c.req.param('id')}`
      if (!this.lineItems.has(url)) return c.text('not_found: no such line item', 404)
      const score = await c.req.json().catch(() => null)
      const problem = scoreProblem(score)
      if (problem) return c.text(`invalid_score: ${problem}`, 400)
      const byUser = this.results.get(url) ?? new Map<string, any>()
      const last = byUser.get(score.userId)
      // The spec orders scores by timestamp: an older one must not replace a newer one.
      if (last && Date.parse(score.timestamp) < Date.parse(last.timestamp)) return c.text(`invalid_score: timestamp ${score.timestamp} is older than the last score's (${last.timestamp})`, 400)
      this.results.set(url, byUser.set(score.userId, score))
      this.scores.push({ lineItem: url, score })
      return c.body(null, 204)
    })

    app.post('/deep-link-return', async (c) => {
      const jwt = str((await c.req.parseBody()).JWT)
      if (!jwt) return c.text('invalid_request: the form has no JWT field', 400)
      let claims: JWTPayload
      try {
        ;({ payload: claims } = await jwtVerify(jwt, this.toolKeys(), { algorithms: ['RS256'], issuer: this.clientId, audience: this.issuer, requiredClaims: ['iat', 'exp', 'nonce'], clockTolerance: 5 }))
      } catch (e) {
        return c.text(`invalid_deep_linking_response: ${(e as Error).message}`, 400)
      }
      const claim = (name: string) => claims[name]
      if (claim(LTI + 'message_type') !== 'LtiDeepLinkingResponse') return c.text('invalid_deep_linking_response: message_type must be LtiDeepLinkingResponse', 400)
      if (claim(LTI + 'version') !== '1.3.0') return c.text('invalid_deep_linking_response: version must be 1.3.0', 400)
      if (claim(LTI + 'deployment_id') !== this.deploymentId) return c.text(`invalid_deep_linking_response: deployment_id must be "${this.deploymentId}"`, 400)
      if (this.usedNonces.has(String(claims.nonce))) return c.text('invalid_deep_linking_response: nonce was already used', 400)
      this.usedNonces.add(String(claims.nonce))
      const items = claim(DL + 'content_items') ?? []
      if (!Array.isArray(items)) return c.text('invalid_deep_linking_response: content_items must be an array', 400)
      // What the request's deep_linking_settings allowed: one ltiResourceLink.
      if (items.length > 1) return c.text('invalid_deep_linking_response: accept_multiple is false, send at most one item', 400)
      if (items.some((i) => i?.type !== 'ltiResourceLink')) return c.text('invalid_deep_linking_response: accept_types is ["ltiResourceLink"]', 400)
      const data = claim(DL + 'data')
      this.deepLinkResponses.push({ contentItems: items, ...(typeof data === 'string' ? { data } : {}), claims })
      const msg = str(claim(DL + 'msg'))
      return c.html(page('Simulated LMS', `<p role="status">Added ${items.length} item(s)</p>${msg ? `<p>${escape(msg)}</p>` : ''}`))
    })

    app.get('/.well-known/openid-configuration', (c) =>
      c.json({
        issuer: this.issuer,
        authorization_endpoint: this.authUrl,
        token_endpoint: this.tokenUrl,
        jwks_uri: this.jwksUrl,
        registration_endpoint: this.registrationUrl,
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', ...Object.values(LTI_SCOPES)],
        response_types_supported: ['id_token'],
        subject_types_supported: ['public', 'pairwise'],
        claims_supported: ['iss', 'aud', 'sub', 'iat', 'exp', 'nonce', 'name', 'given_name', 'family_name', 'email', 'picture'],
        'https://purl.imsglobal.org/spec/lti-platform-configuration': {
          product_family_code: PRODUCT,
          version: '1.0',
          messages_supported: [{ type: 'LtiResourceLinkRequest' }, { type: 'LtiDeepLinkingRequest' }],
          variables: [],
        },
      }),
    )

    app.post('/register', async (c) => {
      const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')
      // One use: delete() is true only the first time.
      if (!m || !this.registrationTokens.delete(m[1]!)) return c.json({ error: 'invalid_token', error_description: 'the registration token is missing, unknown or already used' }, 401)
      const reg = await c.req.json().catch(() => null)
      const problem = registrationProblem(reg)
      if (problem) return c.json({ error: 'invalid_client_metadata', error_description: problem }, 400)
      this.registrations.push(reg)
      const config = reg[TOOL_CONFIGURATION]
      this.clientId = `sk-client-${randomBytes(5).toString('hex')}`
      this.toolJwksUrl = reg.jwks_uri
      this.toolLoginUrl = reg.initiate_login_uri
      this.toolLaunchUrl = reg.redirect_uris[0]
      const deepLinking = (Array.isArray(config.messages) ? config.messages : []).find((x: any) => x?.type === 'LtiDeepLinkingRequest')
      if (isUrl(deepLinking?.target_link_uri)) this.toolDeepLinkUrl = deepLinking.target_link_uri
      this.redirectUris.clear()
      for (const u of reg.redirect_uris) this.redirectUris.add(u)
      if (typeof reg.scope === 'string') this.registeredScopes = new Set(reg.scope.split(' ').filter(Boolean))
      return c.json({ ...reg, client_id: this.clientId, [TOOL_CONFIGURATION]: { ...config, deployment_id: this.deploymentId } })
    })

    // A course page holding the tool in an iframe. With ?storage=_parent it answers the LTI
    // client-side postMessages (lti.capabilities, lti.put_data, lti.get_data) for the tool's origin,
    // which is how a tool keeps its login state without a third-party cookie.
    app.get('/launch', (c) => {
      const q = c.req.query()
      let src: string
      try {
        if (!this.toolLoginUrl) throw new Error('the platform does not know the tool\'s login URL: set toolLoginUrl (or register the tool)')
        const params = this.loginParams(q.user ?? '', q.message ?? '', { storageTarget: q.storage, targetLinkUri: q.target })
        src = `${this.toolLoginUrl}${this.toolLoginUrl.includes('?') ? '&' : '?'}${params}`
      } catch (e) {
        return c.text((e as Error).message, 400)
      }
      const origins = [this.toolLoginUrl, this.toolLaunchUrl, this.toolDeepLinkUrl].filter((u): u is string => !!u).map((u) => new URL(u).origin)
      const m = this.messages.get(q.message!)!
      return c.html(page(`Simulated LMS: ${m.contextTitle ?? m.contextId}`, `<h1>${escape(m.contextTitle ?? m.contextId)}</h1>
<iframe name="tool" title="Tool" src="${escape(src)}" style="width:100%;height:80vh;border:1px solid #ccc" allow="clipboard-write; fullscreen"></iframe>
<script>
const origins = ${JSON.stringify(origins).replace(/</g, '\\u003c')}, store = {}
addEventListener('message', (e) => {
  const m = e.data
  if (!m || typeof m.subject !== 'string' || !origins.includes(e.origin)) return
  const reply = (r) => e.source.postMessage({ message_id: m.message_id, ...r }, e.origin)
  const own = (store[e.origin] ??= {})
  if (m.subject === 'lti.capabilities') reply({ subject: 'lti.capabilities.response', supported_messages: [{ subject: 'lti.capabilities' }, { subject: 'lti.put_data' }, { subject: 'lti.get_data' }] })
  else if (m.subject === 'lti.put_data') { own[m.key] = m.value; reply({ subject: 'lti.put_data.response', key: m.key, value: m.value }) }
  else if (m.subject === 'lti.get_data') reply(m.key in own ? { subject: 'lti.get_data.response', key: m.key, value: own[m.key] } : { subject: 'lti.get_data.response', key: m.key, error: { code: 'bad_request', message: 'no value under this key' } })
})
</script>`))
    })

    app.get('/return', (c) => {
      const { lti_msg: msg, lti_errormsg: error } = c.req.query()
      return c.html(page('Simulated LMS', `<p role="status">Back in the course.</p>${msg ? `<p>${escape(msg)}</p>` : ''}${error ? `<p role="alert">${escape(error)}</p>` : ''}`))
    })

    return app
  }
}

/** What is wrong with an AGS score (https://www.imsglobal.org/spec/lti-ags/v2p0#score-publish-service), or undefined. */
function scoreProblem(s: any): string | undefined {
  if (!s || typeof s !== 'object' || Array.isArray(s)) return 'the body must be a JSON object'
  if (typeof s.userId !== 'string' || !s.userId) return 'userId must be a non-empty string'
  if (!ACTIVITY.includes(s.activityProgress)) return `activityProgress must be one of ${ACTIVITY.join(', ')}`
  if (!GRADING.includes(s.gradingProgress)) return `gradingProgress must be one of ${GRADING.join(', ')}`
  if (typeof s.timestamp !== 'string' || !ISO_8601.test(s.timestamp) || Number.isNaN(Date.parse(s.timestamp))) return 'timestamp must be an ISO 8601 date-time with a time zone'
  if (s.scoreMaximum !== undefined && (typeof s.scoreMaximum !== 'number' || !(s.scoreMaximum > 0))) return 'scoreMaximum must be a number above 0'
  if (s.scoreGiven !== undefined && s.scoreGiven !== null) {
    if (typeof s.scoreGiven !== 'number' || !Number.isFinite(s.scoreGiven) || s.scoreGiven < 0) return 'scoreGiven must be a number of at least 0'
    if (s.scoreMaximum === undefined) return 'scoreMaximum is required with scoreGiven'
    if (s.scoreGiven > s.scoreMaximum) return `scoreGiven ${s.scoreGiven} is above scoreMaximum ${s.scoreMaximum}`
  }
  if (s.comment !== undefined && typeof s.comment !== 'string') return 'comment must be a string'
  return undefined
}

/** What is wrong with a tool's registration (LTI Dynamic Registration 1.0, section 3.5), or undefined. */
function registrationProblem(r: any): string | undefined {
  if (!r || typeof r !== 'object') return 'the body must be a JSON object'
  if (r.application_type !== 'web') return 'application_type must be "web"'
  if (!Array.isArray(r.response_types) || !r.response_types.includes('id_token')) return 'response_types must include "id_token"'
  if (!Array.isArray(r.grant_types) || !r.grant_types.includes('implicit') || !r.grant_types.includes('client_credentials'))
    return 'grant_types must include "implicit" and "client_credentials"'
  if (!isUrl(r.initiate_login_uri)) return 'initiate_login_uri must be a URL'
  if (!Array.isArray(r.redirect_uris) || !r.redirect_uris.length || !r.redirect_uris.every(isUrl)) return 'redirect_uris must be a non-empty list of URLs'
  if (!isUrl(r.jwks_uri)) return 'jwks_uri must be a URL'
  if (r.token_endpoint_auth_method !== 'private_key_jwt') return 'token_endpoint_auth_method must be "private_key_jwt"'
  const config = r[TOOL_CONFIGURATION]
  if (!config || typeof config !== 'object') return `${TOOL_CONFIGURATION} is missing`
  if (typeof config.domain !== 'string' || !config.domain) return `${TOOL_CONFIGURATION}.domain must be a host name`
  if (!isUrl(config.target_link_uri)) return `${TOOL_CONFIGURATION}.target_link_uri must be a URL`
  return undefined
}
