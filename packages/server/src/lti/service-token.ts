import { randomUUID } from 'node:crypto'
import { AppError } from '../errors.js'
import type { PlatformRow } from '../store/lti.js'
import type { ToolKeys } from './keys.js'

/** The OAuth 2 scopes of the LTI Advantage services this tool uses. */
export const SCOPE = {
  memberships: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
} as const

/** How long one request to an LMS may take. */
export const LMS_TIMEOUT_MS = 10_000
/** A cached token is used until this long before it expires (a request must not carry one that dies on the way). */
const EXPIRY_MARGIN_MS = 60_000
/** When the LMS does not say how long a token lasts (`expires_in` is only recommended). */
const DEFAULT_TOKEN_S = 300
/** A token answer is a few hundred bytes; anything much larger is not one. */
const TOKEN_ANSWER_BYTES = 64 * 1024

/**
 * An LMS service could not be used: unreachable, too slow, refused us, or answered something that
 * is not what the service sends. The LMS's own words are in the message (a person can act on
 * them: an administrator who has not granted the tool a scope, say).
 */
export class LtiServiceError extends AppError {
  constructor(
    message: string,
    /** The HTTP status the LMS answered with (undefined when it did not answer). */
    readonly lmsStatus?: number,
  ) {
    super(503, 'lti_service_unavailable', message, lmsStatus !== undefined ? { lmsStatus } : {})
    this.name = 'LtiServiceError'
  }
}

export interface LmsAnswer {
  status: number
  headers: Headers
  text: string
}

/**
 * One request to an LMS: a time limit, no redirects (a token must not follow one to another host),
 * and at most `maxBytes` of answer read. Throws an LtiServiceError when the LMS cannot be reached or
 * says too much; any HTTP status is returned for the caller to judge.
 */
export async function lmsRequest(url: string, init: RequestInit, opts: { maxBytes: number; timeoutMs?: number; what: string }): Promise<LmsAnswer> {
  const host = hostOf(url)
  let res: Response
  try {
    res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(opts.timeoutMs ?? LMS_TIMEOUT_MS) })
  } catch (e) {
    const err = e as Error
    const why = err.name === 'TimeoutError' ? `it did not answer within ${Math.round((opts.timeoutMs ?? LMS_TIMEOUT_MS) / 1000)} s` : causeOf(err)
    throw new LtiServiceError(`The LMS's ${opts.what} (${host}) could not be reached: ${why}.`)
  }
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > opts.maxBytes) {
    await res.body?.cancel().catch(() => {})
    throw new LtiServiceError(`The LMS's ${opts.what} (${host}) answered with more than ${kB(opts.maxBytes)}.`, res.status)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    const reader = res.body?.getReader()
    for (;;) {
      const chunk = reader ? await reader.read() : { done: true as const, value: undefined }
      if (chunk.done) break
      size += chunk.value.byteLength
      if (size > opts.maxBytes) {
        await reader!.cancel().catch(() => {})
        throw new LtiServiceError(`The LMS's ${opts.what} (${host}) answered with more than ${kB(opts.maxBytes)}.`, res.status)
      }
      chunks.push(chunk.value)
    }
  } catch (e) {
    if (e instanceof LtiServiceError) throw e
    throw new LtiServiceError(`The LMS's ${opts.what} (${host}) stopped answering: ${causeOf(e as Error)}.`, res.status)
  }
  return { status: res.status, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }
}

/** What an LMS said when it refused: its OAuth `error` and `error_description`, or the start of its answer. */
export function lmsWords(answer: LmsAnswer): string {
  try {
    const json = JSON.parse(answer.text) as { error?: unknown; error_description?: unknown }
    if (json && typeof json.error === 'string') return typeof json.error_description === 'string' && json.error_description ? `${json.error}: ${json.error_description}` : json.error
  } catch {}
  const text = answer.text.replace(/\s+/g, ' ').trim()
  return text ? (text.length > 300 ? `${text.slice(0, 300)}…` : text) : `HTTP ${answer.status}`
}

interface Cached {
  token: string
  /** When it stops being used (ms). */
  until: number
}

/**
 * Access tokens for the LTI Advantage services (NRPS, AGS): the OAuth 2 client-credentials grant,
 * the tool proving who it is with a JWT it signs (private_key_jwt, as the LTI security framework
 * says). One token per platform and set of scopes, kept until a minute before it expires; two
 * callers asking at once share one grant.
 */
export class ServiceTokens {
  #cache = new Map<string, Cached>()
  #asking = new Map<string, Promise<Cached>>()

  constructor(private readonly deps: { keys: ToolKeys; now?: () => number }) {}

  /** A bearer token for these scopes at this platform (from the cache when one is still good). */
  async token(platform: PlatformRow, scopes: readonly string[]): Promise<string> {
    const key = cacheKey(platform, scopes)
    const now = this.#now()
    const kept = this.#cache.get(key)
    if (kept && kept.until > now) return kept.token
    let asking = this.#asking.get(key)
    if (!asking) {
      asking = this.#grant(platform, scopes).finally(() => this.#asking.delete(key))
      this.#asking.set(key, asking)
    }
    const got = await asking
    this.#cache.set(key, got)
    return got.token
  }

  /** Drop a token the LMS no longer takes (it answered 401: revoked, or its keys changed). */
  forget(platform: PlatformRow, scopes: readonly string[]): void {
    this.#cache.delete(cacheKey(platform, scopes))
  }

  /**
   * A request to a service with a token for `scopes`; a 401 (the token was revoked before its time)
   * is tried once more with a fresh one. Any other status is the caller's to judge.
   */
  async call(platform: PlatformRow, scopes: readonly string[], url: string, init: RequestInit & { headers?: Record<string, string> }, opts: { maxBytes: number; what: string }): Promise<LmsAnswer> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token(platform, scopes)
      const answer = await lmsRequest(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } }, opts)
      if (answer.status !== 401 || attempt > 0) return answer
      this.forget(platform, scopes)
    }
  }

  async #grant(platform: PlatformRow, scopes: readonly string[]): Promise<Cached> {
    const assertion = await this.deps.keys.sign({ iss: platform.clientId, sub: platform.clientId, aud: platform.tokenUrl, jti: randomUUID() }, { expiresIn: 300 })
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: [...new Set(scopes)].sort().join(' '),
    })
    const asked = this.#now()
    const answer = await lmsRequest(
      platform.tokenUrl,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form.toString() },
      { maxBytes: TOKEN_ANSWER_BYTES, what: 'token endpoint' },
    )
    if (answer.status < 200 || answer.status > 299) {
      throw new LtiServiceError(`The LMS refused this tool an access token for its services (${lmsWords(answer)}).`, answer.status)
    }
    let json: { access_token?: unknown; token_type?: unknown; expires_in?: unknown }
    try {
      json = JSON.parse(answer.text)
    } catch {
      throw new LtiServiceError('The LMS\'s token endpoint answered with something that is not JSON.', answer.status)
    }
    if (typeof json?.access_token !== 'string' || !json.access_token) throw new LtiServiceError('The LMS\'s token endpoint answered without an access token.', answer.status)
    if (typeof json.token_type === 'string' && json.token_type.toLowerCase() !== 'bearer') {
      throw new LtiServiceError(`The LMS's token endpoint gave a "${json.token_type}" token; this tool uses Bearer tokens.`, answer.status)
    }
    const lasts = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_TOKEN_S
    // Counted from when it was asked for: the answer may have taken a while.
    return { token: json.access_token, until: asked + lasts * 1000 - EXPIRY_MARGIN_MS }
  }

  #now(): number {
    return this.deps.now?.() ?? Date.now()
  }
}

const cacheKey = (platform: PlatformRow, scopes: readonly string[]) => [platform.id, platform.tokenUrl, platform.clientId, ...[...new Set(scopes)].sort()].join('\n')

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url.slice(0, 100)
  }
}

/** Why fetch failed, in its own words (undici hides the reason in `cause`). */
function causeOf(e: Error): string {
  const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? e.message
}

const kB = (bytes: number) => `${Math.round(bytes / 1024)} kB`
