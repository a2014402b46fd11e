import { randomBytes } from 'node:crypto'
import { Hono, type Context } from 'hono'
import { html, raw } from 'hono/html'
import { errors, jwtVerify, SignJWT } from 'jose'
import { parseTtl } from '../auth/tokens.js'
import { AppError } from '../errors.js'
import type { AppEnv } from '../http/context.js'
import { page as basePage } from '../pages/page.js'
import { pageHeaders } from '../pages/routes.js'
import { upsertPlatform, type PlatformRow } from '../store/lti.js'
import { hostAudit, recordAction } from '../audit/record.js'
import { toolOrigin } from './routes.js'

/*
 * LTI Dynamic Registration 1.0 (https://www.imsglobal.org/spec/lti-dr/v1p0): an LMS administrator
 * pastes our registration URL into the LMS, the LMS opens it with its OpenID configuration URL and
 * a one-time registration token, we read the configuration and post our own; the LMS answers with
 * the client id (and usually the deployment) it gave us, and the platform is registered.
 *
 * Our server fetches a URL it is handed (SSRF), and whoever completes the flow registers an LMS that
 * may then launch into Session Kit: so the URL carries `reg`, a short-lived proof signed with the
 * server's secret that an administrator (CLI or API key) made it. Without it nothing is fetched.
 */

const PURPOSE = 'lti-registration'
/** How long a registration URL stays valid unless told otherwise, and at most. */
export const REGISTRATION_TTL_DEFAULT = '7d'
export const REGISTRATION_TTL_MAX_S = 30 * 86400
const REGISTRATION_TTL_MIN_S = 60
/** What we accept from an LMS while registering: answers within 5 s, JSON up to 256 kB. */
const FETCH_TIMEOUT_MS = 5_000
const MAX_JSON_BYTES = 256 * 1024

const TOOL_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-tool-configuration'
const PLATFORM_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-platform-configuration'

/** The LTI Advantage scopes the tool asks for: grades (AGS) and the course roster (NRPS). */
export const LTI_TOOL_SCOPES = [
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
] as const

/** The names LMSs give themselves in their configuration (product_family_code), as people know them. */
const PRODUCTS: Record<string, string> = {
  moodle: 'Moodle',
  canvas: 'Canvas',
  desire2learn: 'D2L Brightspace',
  sakai: 'Sakai',
  blackboard: 'Blackboard Learn',
  schoology: 'Schoology',
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1'])

/**
 * Why the URL of an LMS (its issuer or an endpoint) is refused, or undefined when it is fine:
 * https, or plain http only on this machine (localhost, 127.0.0.1: development and tests).
 */
export function platformUrlProblem(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be a full URL, such as https://lms.example.edu'
  }
  if (url.protocol === 'http:') {
    if (!LOCAL_HOSTS.has(url.hostname)) return 'must use https (plain http only for localhost or 127.0.0.1)'
  } else if (url.protocol !== 'https:') return 'must be an https URL'
  if (url.username || url.password) return 'must not hold a user name or password'
  return undefined
}

/** A new platform id: `p` and 10 hex digits. */
export function newPlatformId(): string {
  return `p${randomBytes(5).toString('hex')}`
}

/** What the tool is to an LMS that registers it by hand (the same URLs Dynamic Registration posts). */
export interface ToolConfiguration {
  /** OpenID Connect login initiation URL. */
  loginUrl: string
  /** The redirect URI and target link URI of launches. */
  launchUrl: string
  /** Our public keys. */
  jwksUrl: string
  /** Where Deep Linking requests go (the launch URL: one endpoint reads the message type). */
  deepLinkingUrl: string
  /** The tool's host (with its port when not the default). */
  domain: string
}

export function toolConfiguration(origin: string): ToolConfiguration {
  const launchUrl = `${origin}/lti/launch`
  return { loginUrl: `${origin}/lti/login`, launchUrl, jwksUrl: `${origin}/lti/jwks`, deepLinkingUrl: launchUrl, domain: new URL(origin).host }
}

/** The registration we post to an LMS (LTI Dynamic Registration 1.0, section 3.4). */
export function toolRegistration(origin: string) {
  const tool = toolConfiguration(origin)
  return {
    application_type: 'web',
    response_types: ['id_token'],
    grant_types: ['implicit', 'client_credentials'],
    initiate_login_uri: tool.loginUrl,
    redirect_uris: [tool.launchUrl],
    client_name: 'Session Kit',
    jwks_uri: tool.jwksUrl,
    logo_uri: `${origin}/favicon.ico`,
    token_endpoint_auth_method: 'private_key_jwt',
    scope: LTI_TOOL_SCOPES.join(' '),
    [TOOL_CONFIGURATION]: {
      domain: tool.domain,
      target_link_uri: tool.launchUrl,
      claims: ['iss', 'sub', 'name', 'given_name', 'family_name', 'email', 'picture'],
      messages: [
        { type: 'LtiResourceLinkRequest', label: 'Session Kit' },
        { type: 'LtiDeepLinkingRequest', target_link_uri: tool.deepLinkingUrl, label: 'Session Kit', placements: ['ContentArea'] },
      ],
    },
  }
}

/** A registration URL's lifetime in seconds, from a duration like 1h or 7d; throws a sentence (without the field's name) when out of range. */
export function registrationTtlSeconds(ttl: string): number {
  let seconds: number
  try {
    seconds = parseTtl(ttl)
  } catch {
    seconds = NaN
  }
  if (!(seconds >= REGISTRATION_TTL_MIN_S && seconds <= REGISTRATION_TTL_MAX_S)) throw new Error(`must be a duration from 1m to 30d, such as 1h or 7d (not "${ttl}")`)
  return seconds
}

/** The URL an administrator pastes into an LMS to register Session Kit there, valid for `ttlS` seconds. */
export async function registrationLink(origin: string, secret: string, opts: { ttlS: number; now?: Date }): Promise<{ url: string; expiresAt: Date }> {
  const now = Math.floor((opts.now?.getTime() ?? Date.now()) / 1000)
  const exp = now + opts.ttlS
  const reg = await new SignJWT({ purpose: PURPOSE })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .setJti(randomBytes(9).toString('base64url'))
    .sign(new TextEncoder().encode(secret))
  return { url: `${origin}/lti/register?reg=${reg}`, expiresAt: new Date(exp * 1000) }
}

const ADMIN_HINT = 'Ask the Session Kit administrator for a new registration URL (session-kit-server lti registration-url, or POST /v1/lti/registration-url) and paste that one into the LMS.'

/** Throws, as a sentence for the page, unless `reg` is a registration URL's proof this server signed and that has not expired. */
export async function verifyRegistrationLink(reg: string | undefined, secret: string, now: Date): Promise<void> {
  if (!reg) throw new AppError(401, 'lti_registration_link_missing', `This registration URL lacks its reg parameter, so Session Kit cannot tell that an administrator made it. ${ADMIN_HINT}`)
  try {
    const { payload } = await jwtVerify(reg, new TextEncoder().encode(secret), { algorithms: ['HS256'], requiredClaims: ['exp'], currentDate: now })
    if (payload.purpose !== PURPOSE) throw new Error('not a registration proof')
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw new AppError(401, 'lti_registration_link_expired', `This registration URL has expired. ${ADMIN_HINT}`)
    throw new AppError(401, 'lti_registration_link_invalid', `This registration URL was not made by this Session Kit server (its reg parameter is not valid). ${ADMIN_HINT}`)
  }
}

/** LTI Dynamic Registration: GET /lti/register?reg=…&openid_configuration=…&registration_token=… */
export function registrationRoutes() {
  const r = new Hono<AppEnv>()

  r.get('/register', async (c) => {
    const { config, db, clock, log } = c.var.services
    const q = c.req.query()
    const configUrl = q.openid_configuration
    try {
      await verifyRegistrationLink(q.reg, config.secret, clock())
      if (!configUrl) throw new AppError(400, 'lti_registration_incomplete', 'The LMS opened this page without its openid_configuration parameter: start the registration from the LMS (its LTI Dynamic Registration or "register a tool by URL" page), not by opening this URL yourself.')
      const urlProblem = platformUrlProblem(configUrl)
      if (urlProblem) throw new AppError(400, 'lti_registration_bad_url', `The LMS's OpenID configuration URL ${urlProblem}.`)

      const platform = checkPlatformConfiguration(await fetchJson(configUrl, { method: 'GET', headers: { accept: 'application/json' } }, 'its OpenID configuration'), configUrl)
      const origin = toolOrigin(c)
      const sent = await fetchJson(
        platform.registrationEndpoint,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...(q.registration_token ? { authorization: `Bearer ${q.registration_token}` } : {}) },
          body: JSON.stringify(toolRegistration(origin)),
        },
        'the registration',
      )
      const { clientId, deploymentId } = readRegistrationAnswer(sent)
      const { row, created } = await upsertPlatform(db.sql, {
        id: newPlatformId(),
        issuer: platform.issuer,
        clientId,
        name: platform.name,
        authUrl: platform.authUrl,
        tokenUrl: platform.tokenUrl,
        jwksUrl: platform.jwksUrl,
        deploymentIds: deploymentId ? [deploymentId] : [],
        registeredBy: 'dynamic',
      })
      // The host's doing: the registration URL is the administrator's signed consent.
      await recordAction(db.sql, { ...hostAudit(c), action: 'lti.platform_added', targetId: row.id, details: { created, registeredBy: 'dynamic', deployments: row.deploymentIds.length } })
      log(`lti: ${created ? 'registered' : 'updated'} platform ${row.id} (${row.issuer}, client id ${row.clientId}) by dynamic registration${deploymentId ? `, deployment ${deploymentId}` : ', without a deployment'}`)
      framed(c, configUrl)
      return c.html(registeredPage(row, deploymentId))
    } catch (e) {
      const err = e instanceof AppError ? e : new AppError(500, 'internal', 'Something went wrong on the server while registering; it has been logged.')
      if (e instanceof AppError) log(`lti: registration refused: ${err.code}: ${err.message}`)
      else log(`lti: unexpected error on ${c.req.method} ${c.req.path}: ${(e as Error).stack ?? e}`)
      framed(c, configUrl)
      return c.html(registrationErrorPage(err), err.status)
    }
  })

  return r
}

/** The page is shown in the LMS's frame or a window it opened: framed by the allowed origins and the LMS itself. */
function framed(c: Context<AppEnv>, configUrl: string | undefined) {
  const { allowedOrigins } = c.var.services.config
  if (!allowedOrigins.length) return pageHeaders(c, '*')
  const lms = configUrl && !platformUrlProblem(configUrl) ? [new URL(configUrl).origin] : []
  pageHeaders(c, ["'self'", ...allowedOrigins, ...lms].join(' '))
}

interface PlatformConfiguration {
  issuer: string
  authUrl: string
  tokenUrl: string
  jwksUrl: string
  registrationEndpoint: string
  name: string
}

/** The LMS's OpenID configuration, checked as LTI Dynamic Registration 1.0 (section 3.5) asks. */
function checkPlatformConfiguration(json: unknown, configUrl: string): PlatformConfiguration {
  const bad = (message: string, code = 'lti_platform_configuration_invalid') => new AppError(502, code, message)
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad("The LMS's OpenID configuration is not a JSON object.")
  const conf = json as Record<string, unknown>
  const url = (field: string) => {
    const value = conf[field]
    if (typeof value !== 'string' || !value) {
      if (field === 'registration_endpoint') throw bad("The LMS's OpenID configuration has no registration_endpoint: it does not offer LTI Dynamic Registration. Register it by hand instead (session-kit-server lti add-platform, or POST /v1/lti/platforms).", 'lti_registration_unsupported')
      throw bad(`The LMS's OpenID configuration lacks ${field}.`)
    }
    const problem = platformUrlProblem(value)
    if (problem) throw bad(`The LMS's OpenID configuration gives ${field} "${value}", which ${problem}.`)
    return value
  }
  const issuer = url('issuer')
  // The issuer must be where the configuration was read from (same origin, and a prefix of its path):
  // else any LMS could register itself under another's issuer.
  if (!issuerMatches(issuer, configUrl)) {
    throw new AppError(400, 'lti_issuer_mismatch', `The LMS's OpenID configuration names the issuer "${issuer}", but it was read from ${configUrl}, which is not under that issuer: Session Kit registers an LMS only from its own address.`)
  }
  const listed = (field: string, value: string) => Array.isArray(conf[field]) && (conf[field] as unknown[]).includes(value)
  if (!listed('id_token_signing_alg_values_supported', 'RS256')) throw bad('The LMS does not sign its launches with RS256 (id_token_signing_alg_values_supported), which LTI 1.3 requires.', 'lti_platform_unsupported')
  if (!listed('token_endpoint_auth_methods_supported', 'private_key_jwt')) throw bad('The LMS does not accept private_key_jwt at its token endpoint (token_endpoint_auth_methods_supported), which LTI Advantage services require.', 'lti_platform_unsupported')
  const platformConf = conf[PLATFORM_CONFIGURATION] as { product_family_code?: unknown } | undefined
  const family = typeof platformConf?.product_family_code === 'string' ? platformConf.product_family_code.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 200) : ''
  return {
    issuer,
    authUrl: url('authorization_endpoint'),
    tokenUrl: url('token_endpoint'),
    jwksUrl: url('jwks_uri'),
    registrationEndpoint: url('registration_endpoint'),
    name: PRODUCTS[family.toLowerCase()] ?? (family || new URL(issuer).host),
  }
}

/** Whether `configUrl` lies under `issuer`: the same origin, and the issuer's path a prefix of its path at a segment boundary. */
function issuerMatches(issuer: string, configUrl: string): boolean {
  const i = new URL(issuer)
  const u = new URL(configUrl)
  if (i.origin !== u.origin) return false
  const base = i.pathname.replace(/\/+$/, '')
  return u.pathname === base || u.pathname.startsWith(`${base}/`)
}

/** The client id and deployment from the LMS's answer to our registration. */
function readRegistrationAnswer(json: unknown): { clientId: string; deploymentId?: string } {
  const answer = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>
  const id = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '')
  const clientId = id(answer.client_id)
  if (!clientId || clientId.length > 255) throw new AppError(502, 'lti_registration_answer_invalid', 'The LMS accepted the registration but did not answer with a client_id (or one longer than 255 characters), so Session Kit cannot recognise its launches.')
  const deploymentId = id((answer[TOOL_CONFIGURATION] as Record<string, unknown> | undefined)?.deployment_id)
  if (deploymentId.length > 255) throw new AppError(502, 'lti_registration_answer_invalid', 'The LMS answered with a deployment_id longer than 255 characters.')
  return { clientId, ...(deploymentId ? { deploymentId } : {}) }
}

/**
 * A JSON request to the LMS: no redirect followed (the URL we were given is the one we call), an
 * answer within 5 s and at most 256 kB. Any other answer is an error page naming what happened.
 */
async function fetchJson(url: string, init: RequestInit, what: string): Promise<unknown> {
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS)
  const timedOut = () => new AppError(504, 'lti_platform_timeout', `The LMS did not answer ${what} within ${FETCH_TIMEOUT_MS / 1000} seconds (${url}).`)
  let res: Response
  try {
    res = await fetch(url, { ...init, redirect: 'manual', signal })
  } catch (e) {
    if (signal.aborted) throw timedOut()
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    throw new AppError(502, 'lti_platform_unreachable', `Session Kit could not reach the LMS for ${what} at ${url} (${cause?.code ?? cause?.message ?? (e as Error).message}).`)
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => {})
    throw new AppError(502, 'lti_platform_redirect', `The LMS answered ${what} at ${url} with a redirect${res.headers.get('location') ? ` to ${res.headers.get('location')}` : ''}; Session Kit follows none, so the LMS must give its final address.`)
  }
  let text: string
  try {
    text = await readCapped(res, MAX_JSON_BYTES)
  } catch (e) {
    if (e instanceof AppError) throw new AppError(502, 'lti_platform_too_large', `The LMS's answer to ${what} is larger than ${MAX_JSON_BYTES / 1024} kB.`)
    if (signal.aborted) throw timedOut()
    throw new AppError(502, 'lti_platform_unreachable', `The LMS's answer to ${what} was cut short (${(e as Error).message}).`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  if (!res.ok) {
    const described = describeRefusal(json)
    if (what === 'the registration') throw new AppError(502, 'lti_registration_refused', `The LMS refused the registration (HTTP ${res.status}${described ? `: ${described}` : ''}). A registration link from the LMS works once: start again from the LMS.`)
    throw new AppError(502, 'lti_platform_error', `The LMS answered ${what} at ${url} with HTTP ${res.status}${described ? `: ${described}` : ''}.`)
  }
  if (json === undefined) throw new AppError(502, 'lti_platform_bad_json', `The LMS's answer to ${what} is not JSON.`)
  return json
}

/** The body, refusing more than `max` bytes (an AppError, whatever its code: the caller names it). */
async function readCapped(res: Response, max: number): Promise<string> {
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel().catch(() => {})
    throw new AppError(502, 'too_large', 'too large')
  }
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel().catch(() => {})
      throw new AppError(502, 'too_large', 'too large')
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** An OAuth error (error, error_description) or Canvas's `errors`, as a short phrase. */
function describeRefusal(json: unknown): string {
  if (!json || typeof json !== 'object') return ''
  const body = json as { error?: unknown; error_description?: unknown; errors?: unknown }
  const parts = [body.error, body.error_description, ...(Array.isArray(body.errors) ? body.errors : [])].filter((p): p is string => typeof p === 'string' && p !== '')
  return parts.join(', ').slice(0, 300)
}

// ---- pages ------------------------------------------------------------------------------------

function page(title: string, body: unknown) {
  return basePage(title, false, body, 'lti')
}

/** The script tells the LMS that registration is done (org.imsglobal.lti.close): it closes its window or frame. */
const CLOSE_SCRIPT = raw('<script type="application/json" id="session-kit-lti">{"mode":"close"}</script><script type="module" src="/lti/assets/lti.js"></script>')

function registeredPage(p: PlatformRow, deploymentId: string | undefined) {
  const addCommand = `session-kit-server lti add-platform --issuer ${p.issuer} --client-id ${p.clientId} --auth-url ${p.authUrl} --token-url ${p.tokenUrl} --jwks-url ${p.jwksUrl} --deployment <deployment id>`
  const next = deploymentId
    ? html`<p>${p.name} gave Session Kit the client id <code>${p.clientId}</code> and the deployment <code>${deploymentId}</code>.</p>
        <p>What happens next: once the tool is enabled in ${p.name} (some LMSs ask an administrator to review and activate it first), teachers add Session Kit to a course as an activity, or pick a room or an assignment with the LMS's content picker. Everyone who opens it from the course is signed in with their name and course role.</p>`
    : html`<p>${p.name} gave Session Kit the client id <code>${p.clientId}</code> but did not say which deployment of the tool this is, so no course can open Session Kit yet.</p>
        <p class="warning" role="alert">An administrator must add the deployment id ${p.name} shows for Session Kit: <code>${addCommand}</code> (or <code>POST /v1/lti/platforms</code> with the API key).</p>
        <p><button type="button" class="lti-button" id="session-kit-close">Close</button></p>`
  return page(
    'registered',
    html`<section class="lti-card" aria-labelledby="lti-title">
        <h1 id="lti-title">Session Kit is registered with ${p.name}</h1>
        ${next}
      </section>
      ${CLOSE_SCRIPT}`,
  )
}

function registrationErrorPage(err: { code: string; message: string; status: number }) {
  const retry = err.status >= 500 ? 'Try again from the LMS in a moment; if it keeps failing, give the Session Kit administrator the code below.' : 'Nothing was registered. Give the Session Kit administrator the code below if it is not clear what to change.'
  return page(
    'registration failed',
    html`<section class="lti-card" role="alert" aria-labelledby="lti-title">
      <h1 id="lti-title">Session Kit could not be registered</h1>
      <p>${err.message}</p>
      <p>${retry}</p>
      <p class="lti-code">Error code: <code>${err.code}</code></p>
    </section>`,
  )
}
