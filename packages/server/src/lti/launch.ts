import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import { roleFromLti, type LtiRole } from '@session-kit/core'
import { AppError, type HttpStatus } from '../errors.js'
import type { LoginRow, PlatformRow } from '../store/lti.js'

/** The claims of LTI 1.3 and LTI Advantage a launch is read from. */
export const CLAIM = {
  messageType: 'https://purl.imsglobal.org/spec/lti/claim/message_type',
  version: 'https://purl.imsglobal.org/spec/lti/claim/version',
  deploymentId: 'https://purl.imsglobal.org/spec/lti/claim/deployment_id',
  targetLinkUri: 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri',
  roles: 'https://purl.imsglobal.org/spec/lti/claim/roles',
  context: 'https://purl.imsglobal.org/spec/lti/claim/context',
  resourceLink: 'https://purl.imsglobal.org/spec/lti/claim/resource_link',
  custom: 'https://purl.imsglobal.org/spec/lti/claim/custom',
  launchPresentation: 'https://purl.imsglobal.org/spec/lti/claim/launch_presentation',
  toolPlatform: 'https://purl.imsglobal.org/spec/lti/claim/tool_platform',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  deepLinking: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  deepLinkingData: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  contentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
} as const

/** Clocks of LMS and tool differ a little. */
export const CLOCK_LEEWAY_S = 60

/** Why a launch was refused: a code and a sentence for the person who sees the page (and the log). */
export class LaunchError extends AppError {
  constructor(status: HttpStatus, code: string, message: string) {
    super(status, code, message)
    this.name = 'LaunchError'
  }
}

/** A launch, checked: who, from where, into what. */
export interface Launch {
  platformId: string
  deploymentId: string
  messageType: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest'
  /** The LMS's user id, and ours (`lti:<platform>:<sub>`). */
  sub: string
  userId: string
  name: string
  email?: string
  picture?: string
  roles: string[]
  role: LtiRole
  context?: { id: string; title?: string; label?: string }
  resourceLink?: { id: string; title?: string }
  custom: Record<string, string>
  nrpsUrl?: string
  ags?: { lineitems?: string; lineitem?: string; scopes: string[] }
  deepLinking?: { returnUrl: string; data?: string; acceptTypes: string[]; acceptMultiple: boolean }
  returnUrl?: string
  /** When the id_token expires (ms). */
  expiresAt: number
}

const MESSAGE_TYPES = ['LtiResourceLinkRequest', 'LtiDeepLinkingRequest'] as const

/** The platforms' key sets, fetched when first needed and again when a launch names an unknown kid. */
const keySets = new Map<string, JWTVerifyGetKey>()
function keySetOf(url: string): JWTVerifyGetKey {
  let set = keySets.get(url)
  if (!set) {
    // jose fetches again when a kid is not in the cached set (here at most every 5 s, so a rotation
    // at the LMS is followed at once while unknown kids cannot make us fetch more often), and keeps a set 10 minutes.
    set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5_000, cooldownDuration: 5_000, cacheMaxAge: 600_000 })
    keySets.set(url, set)
  }
  return set
}

/** The user id Session Kit gives someone an LMS sends (a token's `sub` holds at most 200 characters). */
export function ltiUserId(platformId: string, sub: string): string {
  return `lti:${platformId}:${sub}`
}

/**
 * Check an id_token as the LTI 1.3 security framework says: the platform's RS256 signature, iss,
 * aud (and azp), exp/iat with a small leeway, the nonce sent at login, a registered deployment,
 * version 1.3.0 and a message type we handle. Throws a LaunchError naming what is wrong.
 */
export async function verifyIdToken(idToken: string, platform: PlatformRow, login: Pick<LoginRow, 'nonce'>, now: Date): Promise<Launch> {
  let alg: string | undefined
  try {
    alg = decodeProtectedHeader(idToken).alg
  } catch {
    throw new LaunchError(400, 'lti_token_malformed', 'The LMS sent a launch that is not a signed token (id_token).')
  }
  if (alg !== 'RS256') throw new LaunchError(401, 'lti_algorithm', `The LMS signed the launch with ${alg ?? 'no algorithm'}; LTI 1.3 launches are signed with RS256.`)
  let claims: JWTPayload
  try {
    ;({ payload: claims } = await jwtVerify(idToken, keySetOf(platform.jwksUrl), {
      algorithms: ['RS256'],
      issuer: platform.issuer,
      audience: platform.clientId,
      clockTolerance: CLOCK_LEEWAY_S,
      currentDate: now,
      requiredClaims: ['exp', 'iat', 'sub', 'nonce'],
    }))
  } catch (e) {
    throw launchErrorOf(e, platform)
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  if (aud.length > 1 && claims.azp !== platform.clientId) {
    throw new LaunchError(401, 'lti_wrong_audience', `The launch names several audiences, and its authorized party (azp) is not this tool's client id "${platform.clientId}".`)
  }
  if (claims.azp !== undefined && claims.azp !== platform.clientId) {
    throw new LaunchError(401, 'lti_wrong_audience', `The launch's authorized party (azp) "${String(claims.azp)}" is not this tool's client id "${platform.clientId}".`)
  }
  if ((claims.iat ?? 0) > Math.floor(now.getTime() / 1000) + CLOCK_LEEWAY_S) {
    throw new LaunchError(401, 'lti_not_yet_valid', 'The launch was issued in the future: the LMS and this server disagree about the time.')
  }
  if (claims.nonce !== login.nonce) throw new LaunchError(401, 'lti_nonce_mismatch', 'The launch does not carry the nonce this tool sent at sign-in: it belongs to another sign-in.')
  const deploymentId = claims[CLAIM.deploymentId]
  if (typeof deploymentId !== 'string' || !deploymentId) throw new LaunchError(400, 'lti_missing_deployment', 'The launch names no deployment (deployment_id).')
  if (!platform.deploymentIds.includes(deploymentId)) {
    throw new LaunchError(403, 'lti_unknown_deployment', `The deployment "${deploymentId}" is not registered for this LMS: an administrator adds it (session-kit-server lti add-platform … --deployment ${deploymentId}).`)
  }
  if (claims[CLAIM.version] !== '1.3.0') throw new LaunchError(400, 'lti_version', `The launch is LTI version ${String(claims[CLAIM.version] ?? 'unknown')}; this tool speaks LTI 1.3.0.`)
  const messageType = claims[CLAIM.messageType]
  if (!MESSAGE_TYPES.includes(messageType as (typeof MESSAGE_TYPES)[number])) {
    throw new LaunchError(400, 'lti_message_type', `This tool does not handle "${String(messageType)}" messages: it opens resource links and deep-linking requests.`)
  }
  const sub = String(claims.sub)
  const userId = ltiUserId(platform.id, sub)
  if (!sub || userId.length > 200) throw new LaunchError(400, 'lti_bad_user', 'The launch names its user with an id this tool cannot keep (empty, or longer than 180 characters).')
  const roles = Array.isArray(claims[CLAIM.roles]) ? (claims[CLAIM.roles] as unknown[]).filter((r): r is string => typeof r === 'string') : undefined
  if (!roles) throw new LaunchError(400, 'lti_missing_roles', 'The launch has no roles claim.')

  const context = object(claims[CLAIM.context])
  const link = object(claims[CLAIM.resourceLink])
  const nrps = object(claims[CLAIM.nrps])
  const ags = object(claims[CLAIM.ags])
  const dl = object(claims[CLAIM.deepLinking])
  const presentation = object(claims[CLAIM.launchPresentation])
  if (messageType === 'LtiResourceLinkRequest' && !text(link?.id)) throw new LaunchError(400, 'lti_missing_resource_link', 'The launch names no resource link (resource_link.id).')
  if (messageType === 'LtiDeepLinkingRequest' && !text(dl?.deep_link_return_url)) {
    throw new LaunchError(400, 'lti_missing_deep_linking', 'The deep-linking request has no deep_link_return_url.')
  }
  const given = [text(claims.given_name), text(claims.family_name)].filter(Boolean).join(' ')
  const name = (text(claims.name) || given || 'LMS user').replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').trim().slice(0, 100) || 'LMS user'
  const email = text(claims.email)
  const picture = text(claims.picture)
  const custom: Record<string, string> = {}
  for (const [k, val] of Object.entries(object(claims[CLAIM.custom]) ?? {})) if (typeof val === 'string' || typeof val === 'number') custom[k] = String(val)
  return {
    platformId: platform.id,
    deploymentId,
    messageType: messageType as Launch['messageType'],
    sub,
    userId,
    name,
    ...(email && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) && email.length <= 320 ? { email } : {}),
    ...(picture && /^https:\/\//.test(picture) && picture.length <= 2000 ? { picture } : {}),
    roles,
    role: roleFromLti(roles),
    ...(text(context?.id) ? { context: { id: text(context!.id)!, title: text(context!.title), label: text(context!.label) } } : {}),
    ...(text(link?.id) ? { resourceLink: { id: text(link!.id)!, title: text(link!.title) } } : {}),
    custom,
    ...(text(nrps?.context_memberships_url) ? { nrpsUrl: text(nrps!.context_memberships_url) } : {}),
    ...(ags
      ? { ags: { lineitems: text(ags.lineitems), lineitem: text(ags.lineitem), scopes: Array.isArray(ags.scope) ? ags.scope.filter((s): s is string => typeof s === 'string') : [] } }
      : {}),
    ...(dl
      ? {
          deepLinking: {
            returnUrl: text(dl.deep_link_return_url)!,
            data: text(dl.data),
            acceptTypes: Array.isArray(dl.accept_types) ? dl.accept_types.filter((s): s is string => typeof s === 'string') : [],
            acceptMultiple: dl.accept_multiple === true,
          },
        }
      : {}),
    ...(text(presentation?.return_url) ? { returnUrl: text(presentation!.return_url) } : {}),
    expiresAt: (claims.exp ?? 0) * 1000,
  }
}

function launchErrorOf(e: unknown, platform: PlatformRow): LaunchError {
  if (e instanceof LaunchError) return e
  if (e instanceof errors.JWTExpired) return new LaunchError(401, 'lti_expired', 'The launch has expired: open the activity again from your course.')
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'iss') return new LaunchError(401, 'lti_wrong_issuer', `The launch was issued by another LMS than "${platform.issuer}".`)
    if (e.claim === 'aud') return new LaunchError(401, 'lti_wrong_audience', `The launch is not for this tool: its audience does not include the client id "${platform.clientId}".`)
    if (e.claim === 'nbf' || e.claim === 'iat') return new LaunchError(401, 'lti_not_yet_valid', 'The launch is not valid yet: the LMS and this server disagree about the time.')
    return new LaunchError(400, 'lti_claims', `The launch's ${e.claim} claim is missing or invalid.`)
  }
  if (e instanceof errors.JWKSNoMatchingKey) return new LaunchError(401, 'lti_unknown_key', 'The launch is signed with a key the LMS does not publish (its kid is not in the LMS\'s key set).')
  if (e instanceof errors.JWSSignatureVerificationFailed) return new LaunchError(401, 'lti_bad_signature', 'The launch\'s signature does not match the LMS\'s keys.')
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || (e instanceof Error && /fetch|ECONNREFUSED|Expected 200/i.test(e.message))) {
    return new LaunchError(503, 'lti_jwks_unavailable', 'The LMS\'s public keys could not be fetched to check the launch; try again in a moment.')
  }
  if (e instanceof errors.JWTInvalid || e instanceof errors.JWSInvalid) return new LaunchError(400, 'lti_token_malformed', 'The launch token is malformed.')
  return new LaunchError(401, 'lti_invalid', 'The launch could not be verified.')
}

function object(x: unknown): Record<string, unknown> | undefined {
  return x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined
}

function text(x: unknown): string | undefined {
  return typeof x === 'string' && x.trim() ? x.trim() : undefined
}
