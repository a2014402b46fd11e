import { randomBytes } from 'node:crypto'
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { getCookie, setCookie, deleteCookie } from 'hono/cookie'
import type { AppEnv } from '../http/context.js'
import { AppError } from '../errors.js'
import { bundleBuilt, pageHeaders } from '../pages/routes.js'
import { getLogin, getPlatform, holdLaunch, insertLogin, platformsOf, purgeExpired, recordNonce, useLogin, type LoginRequest, type LoginRow, type PlatformRow } from '../store/lti.js'
import { LTI_SCRIPT } from './assets.js'
import { LaunchError, verifyIdToken, type Launch } from './launch.js'
import { openLaunch } from './open.js'
import { confirmPage, launchErrorPage, launchPage, ltiFrameAncestors, newWindowPage, storagePage } from './pages.js'
import { deepLinkingRoutes, deepLinkingPickerPage } from './deep-linking.js'
import { registrationRoutes } from './registration.js'

/** How long a login waits for its launch. */
const LOGIN_TTL_MS = 10 * 60_000
/** The cookie that ties a launch to the browser that started its login (where the browser keeps it). */
const cookieName = (state: string) => `lti_${state.slice(0, 16)}`
/** The platform-storage key of a login's secret. */
const storageKey = (state: string) => `session_kit_${state.slice(0, 16)}`

const random = () => randomBytes(24).toString('base64url')
/** What our states look like: anything else is not one of ours (and is never looked up). */
const STATE = /^[A-Za-z0-9_-]{32}$/
/** The parameters of a login initiation that are kept and sent on. */
const LOGIN_PARAMS = ['iss', 'login_hint', 'target_link_uri', 'lti_message_hint', 'lti_deployment_id', 'client_id', 'lti_storage_target'] as const

/** Where the LMS reaches this tool: SESSION_KIT_PUBLIC_URL when set, else the address it was asked at. */
export function toolOrigin(c: Context<AppEnv>): string {
  const { config } = c.var.services
  return config.explicitUrls.publicUrl ? config.publicUrl : new URL(c.req.url).origin
}

/** The LTI 1.3 tool: login initiation, launch, our key set, Dynamic Registration, Deep Linking. */
export function ltiRoutes() {
  const r = new Hono<AppEnv>()
  r.use('*', bodyLimit({ maxSize: 256 * 1024, onError: () => { throw new AppError(413, 'too_large', 'The request body is larger than 256 kB.') } }))

  // Pages shown in the LMS's frame: framed by anyone the host allows, and by the platforms themselves.
  const framed = async (c: Context<AppEnv>, platform?: PlatformRow) => pageHeaders(c, ltiFrameAncestors(c.var.services.config, platform))
  const fail = async (c: Context<AppEnv>, e: unknown, platform?: PlatformRow) => {
    const err = e instanceof AppError ? e : new LaunchError(500, 'internal', 'Something went wrong on the server; it has been logged.')
    if (!(e instanceof AppError)) c.var.services.log(`lti: unexpected error on ${c.req.method} ${c.req.path}: ${(e as Error).stack ?? e}`)
    else c.var.services.log(`lti: refused ${c.req.method} ${c.req.path}: ${err.code}: ${err.message}`)
    await framed(c, platform)
    return c.html(launchErrorPage(err), err.status)
  }

  // OIDC third-party initiated login: the LMS says who wants in; we send them to its sign-in with a state and a nonce.
  const login = async (c: Context<AppEnv>) => {
    const { db, clock } = c.var.services
    const params = c.req.method === 'POST' ? stringsOf(await c.req.parseBody()) : c.req.query()
    let platform: PlatformRow | undefined
    try {
      const missing = (['iss', 'login_hint', 'target_link_uri'] as const).filter((k) => !params[k])
      if (missing.length) throw new LaunchError(400, 'lti_login_incomplete', `The LMS's sign-in request lacks ${missing.join(', ')}.`)
      const odd = LOGIN_PARAMS.find((k) => params[k] !== undefined && (params[k]!.length > 4096 || /[\u0000-\u001f\u007f]/.test(params[k]!)))
      if (odd) throw new LaunchError(400, 'lti_login_invalid', `The LMS's sign-in request has a ${odd} this tool cannot read (control characters, or over 4096 characters).`)
      platform = await platformFor(c, params.iss!, params.client_id, params.lti_deployment_id)
      const now = clock()
      await purgeExpired(db.sql, now)
      const request: LoginRequest = {
        iss: params.iss!,
        login_hint: params.login_hint!,
        target_link_uri: params.target_link_uri!,
        ...pick(params, ['lti_message_hint', 'lti_deployment_id', 'client_id', 'lti_storage_target']),
      }
      const state = random()
      const nonce = random()
      const binding = random()
      const storage = params.lti_storage_target ? 'platform' : 'cookie'
      await insertLogin(db.sql, { state, nonce, platformId: platform.id, binding, storage, request, expiresAt: new Date(now.getTime() + LOGIN_TTL_MS) })
      const auth = new URL(platform.authUrl)
      for (const [k, val] of Object.entries({
        scope: 'openid',
        response_type: 'id_token',
        response_mode: 'form_post',
        prompt: 'none',
        client_id: platform.clientId,
        redirect_uri: `${toolOrigin(c)}/lti/launch`,
        login_hint: params.login_hint!,
        state,
        nonce,
        ...(params.lti_message_hint ? { lti_message_hint: params.lti_message_hint } : {}),
      })) auth.searchParams.set(k, val)
      // The cookie is kept where the browser allows it (a first-party window, or third-party cookies allowed).
      setCookie(c, cookieName(state), binding, { path: '/lti/', httpOnly: true, secure: true, sameSite: 'None', maxAge: LOGIN_TTL_MS / 1000 })
      if (storage === 'cookie') return c.redirect(auth.toString(), 302)
      await framed(c, platform)
      return c.html(storagePage({ target: params.lti_storage_target!, origin: new URL(platform.authUrl).origin, key: storageKey(state), value: binding, next: auth.toString() }))
    } catch (e) {
      return fail(c, e, platform)
    }
  }
  r.get('/login', login)
  r.post('/login', login)

  // The LMS posts the signed launch (id_token) and our state back.
  r.post('/launch', async (c) => {
    const { db, clock } = c.var.services
    const form = stringsOf(await c.req.parseBody())
    let platform: PlatformRow | undefined
    try {
      if (form.error) throw new LaunchError(400, 'lti_platform_error', `The LMS did not sign you in: ${form.error_description || form.error}.`)
      if (!form.id_token || !form.state) throw new LaunchError(400, 'lti_launch_incomplete', 'The launch lacks its id_token or state.')
      const login = STATE.test(form.state) ? await getLogin(db.sql, form.state) : undefined
      if (!login) throw new LaunchError(400, 'lti_state_unknown', 'This launch does not match a sign-in this tool started (its state is unknown or has expired).')
      platform = await getPlatform(db.sql, login.platformId)
      if (!platform) throw new LaunchError(403, 'lti_unknown_platform', 'The LMS this sign-in was for is no longer registered.')
      const now = clock()
      if (login.usedAt) throw new LaunchError(400, 'lti_replayed', 'This launch was used already: open the activity again from your course.')
      if (login.expiresAt <= now) throw new LaunchError(400, 'lti_state_expired', 'The sign-in took too long: open the activity again from your course.')
      const launch = await verifyIdToken(form.id_token, platform, login, now)
      // A nonce is accepted once, for as long as its token could be replayed.
      if (!(await recordNonce(db.sql, platform.id, login.nonce, new Date(Math.max(launch.expiresAt, now.getTime()) + 120_000)))) {
        throw new LaunchError(401, 'lti_nonce_replayed', 'This launch was used already (its nonce was seen before).')
      }
      // The browser that started the sign-in must be the one here: by the cookie, or the platform's storage.
      if (login.storage === 'platform') {
        await holdLaunch(db.sql, login.state, launch)
        await framed(c, platform)
        return c.html(confirmPage({ target: login.request.lti_storage_target!, origin: new URL(platform.authUrl).origin, key: storageKey(login.state), state: login.state }))
      }
      if (getCookie(c, cookieName(login.state)) !== login.binding) return await newWindow(c, login, platform, launch)
      return await complete(c, login, platform, launch)
    } catch (e) {
      return fail(c, e, platform)
    }
  })

  // The launch page read the secret from the platform's storage (or found none): finish, or say what to do.
  r.post('/launch/confirm', async (c) => {
    const { db } = c.var.services
    const form = stringsOf(await c.req.parseBody())
    let platform: PlatformRow | undefined
    try {
      const login = form.state && STATE.test(form.state) ? await getLogin(db.sql, form.state) : undefined
      if (!login || !login.launch) throw new LaunchError(400, 'lti_state_unknown', 'This launch does not match a sign-in this tool started (its state is unknown or has expired).')
      platform = await getPlatform(db.sql, login.platformId)
      if (!platform) throw new LaunchError(403, 'lti_unknown_platform', 'The LMS this sign-in was for is no longer registered.')
      if (login.usedAt) throw new LaunchError(400, 'lti_replayed', 'This launch was used already: open the activity again from your course.')
      const launch = login.launch as Launch
      const proven = (form.binding && form.binding === login.binding) || getCookie(c, cookieName(login.state)) === login.binding
      if (!proven) {
        // Something answered with another secret: not the browser that signed in. No answer at all: no storage.
        if (form.binding) throw new LaunchError(401, 'lti_state_mismatch', 'This launch belongs to a sign-in started in another browser.')
        return await newWindow(c, login, platform, launch)
      }
      return await complete(c, login, platform, launch)
    } catch (e) {
      return fail(c, e, platform)
    }
  })

  /** The launch is proven: use the login once, open what it points at, show it. */
  async function complete(c: Context<AppEnv>, login: LoginRow, platform: PlatformRow, launch: Launch) {
    const { db, clock } = c.var.services
    if (!(await useLogin(db.sql, login.state, clock()))) throw new LaunchError(400, 'lti_replayed', 'This launch was used already: open the activity again from your course.')
    deleteCookie(c, cookieName(login.state), { path: '/lti/', secure: true, sameSite: 'None' })
    await framed(c, platform)
    if (launch.messageType === 'LtiDeepLinkingRequest') return c.html(await deepLinkingPickerPage(c, launch))
    const opened = await openLaunch(c.var.services, launch)
    return c.html(launchPage({ origin: toolOrigin(c), built: await bundleBuilt(), opened, userId: launch.userId }))
  }

  /** No way to keep the sign-in in this frame: offer a window of its own, where the same login works first-party. */
  async function newWindow(c: Context<AppEnv>, login: LoginRow, platform: PlatformRow, _launch: Launch) {
    const { lti_storage_target: _, ...request } = login.request
    const url = new URL(`${toolOrigin(c)}/lti/login`)
    for (const [k, val] of Object.entries(request)) if (val) url.searchParams.set(k, val)
    await framed(c, platform)
    return c.html(newWindowPage({ loginUrl: url.toString() }), 401)
  }

  r.get('/jwks', async (c) => {
    c.header('cache-control', 'public, max-age=300')
    return c.json(await c.var.services.ltiKeys.jwks())
  })

  r.get('/assets/lti.js', (c) => {
    c.header('content-type', 'text/javascript; charset=utf-8')
    c.header('cache-control', 'no-cache')
    return c.body(LTI_SCRIPT)
  })

  r.route('/', registrationRoutes())
  r.route('/', deepLinkingRoutes())
  return r
}

/** The registration a login is for: by issuer, and client id when the issuer has several (Canvas). */
async function platformFor(c: Context<AppEnv>, iss: string, clientId: string | undefined, deploymentId: string | undefined): Promise<PlatformRow> {
  const found = await platformsOf(c.var.services.db.sql, iss, clientId || undefined)
  if (!found.length) {
    throw new LaunchError(403, 'lti_unknown_platform', clientId ? `No LMS is registered with issuer "${iss}" and client id "${clientId}": an administrator registers it first (docs: Connecting an LMS).` : `No LMS is registered with issuer "${iss}": an administrator registers it first (docs: Connecting an LMS).`)
  }
  let candidates = found
  if (found.length > 1 && deploymentId) candidates = found.filter((p) => p.deploymentIds.includes(deploymentId))
  if (candidates.length !== 1) {
    throw new LaunchError(400, 'lti_ambiguous_platform', `Several registrations share the issuer "${iss}"; the LMS must send client_id in its sign-in request to say which.`)
  }
  const platform = candidates[0]!
  if (deploymentId && !platform.deploymentIds.includes(deploymentId)) {
    throw new LaunchError(403, 'lti_unknown_deployment', `The deployment "${deploymentId}" is not registered for this LMS: an administrator adds it (session-kit-server lti add-platform … --deployment ${deploymentId}).`)
  }
  return platform
}


function stringsOf(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(body)) if (typeof val === 'string') out[k] = val
  return out
}

function pick<K extends string>(from: Record<string, string | undefined>, keys: K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {}
  for (const k of keys) if (from[k]) out[k] = from[k]
  return out
}
