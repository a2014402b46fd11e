import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { WebhookEvent } from '@session-kit/core'

/*
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the secret is `whsec_` and the
 * base64 of random bytes; a delivery carries `webhook-id`, `webhook-timestamp` (seconds since
 * 1970) and `webhook-signature: v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, the
 * key being the secret's decoded bytes. Several signatures may be sent, separated by spaces (while
 * a secret is being replaced); one that matches is enough.
 */

const SECRET_PREFIX = 'whsec_'
/** Standard Webhooks asks for 24 to 64 random bytes. */
const SECRET_BYTES = 32
/** How far a delivery's timestamp may be from the receiver's clock, by default (5 minutes). */
const DEFAULT_TOLERANCE_S = 300

/** A new endpoint secret: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64')
}

/** Why a delivery was not accepted as ours (`code`), and a sentence saying so. */
export type WebhookVerificationCode = 'invalid_secret' | 'missing_header' | 'invalid_timestamp' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_matching_signature' | 'invalid_body'

/** Thrown by `verifyWebhook` when a request is not a genuine, fresh delivery: answer it 400 or 401 and do nothing with it. */
export class WebhookVerificationError extends Error {
  constructor(
    readonly code: WebhookVerificationCode,
    message: string,
  ) {
    super(message)
    this.name = 'WebhookVerificationError'
  }
}

function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret
  const key = Buffer.from(encoded, 'base64')
  if (!key.length || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new WebhookVerificationError('invalid_secret', 'The webhook secret is not a Standard Webhooks secret (whsec_ followed by base64).')
  return key
}

function hmac(key: Buffer, id: string, timestamp: number, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest()
}

/** The seconds since 1970 of a time, as `webhook-timestamp` carries it. */
const seconds = (at: Date | number) => Math.floor((typeof at === 'number' ? at : at.getTime()) / 1000)

/**
 * The `webhook-signature` value of a delivery: `v1,<base64>`. `timestamp` is the
 * `webhook-timestamp` (seconds since 1970, or a Date); `body` exactly the bytes sent.
 */
export function signWebhook(secret: string, id: string, timestamp: number | Date, body: string | Uint8Array): string {
  const ts = typeof timestamp === 'number' ? timestamp : seconds(timestamp)
  return `v1,${hmac(secretKey(secret), id, ts, body).toString('base64')}`
}

/** Request headers as Node (`req.headers`), the Fetch API (`Headers`) or a plain object give them. */
export type WebhookHeaders = Headers | { get(name: string): string | null } | Record<string, string | string[] | undefined>

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() !== name || value === undefined) continue
    return Array.isArray(value) ? value.join(' ') : value
  }
  return undefined
}

export interface VerifyWebhookOptions {
  /** How many seconds the timestamp may be from now, either way (default 300): an older delivery is a replay. */
  toleranceSeconds?: number
  /** The time to check against (a Date or milliseconds since 1970); default the clock. */
  now?: Date | number
}

/**
 * Check that a request is a delivery from this Session Kit server, signed with the endpoint's
 * `secret`, and recent; returns the event it carries, or throws a `WebhookVerificationError`
 * naming why not. Pass the body exactly as received (the raw text or bytes, not parsed and
 * serialised again). Deliveries are made at least once: skip a `webhook-id` already handled.
 *
 * ```ts
 * const event = verifyWebhook(process.env.WEBHOOK_SECRET!, req.headers, rawBody)
 * if (event.type === 'participant.joined') console.log(event.data.name)
 * ```
 */
export function verifyWebhook(secret: string, headers: WebhookHeaders, body: string | Uint8Array, opts: VerifyWebhookOptions = {}): WebhookEvent {
  const key = secretKey(secret)
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  const missing = [!id && 'webhook-id', !timestamp && 'webhook-timestamp', !signatures && 'webhook-signature'].filter(Boolean)
  if (missing.length) throw new WebhookVerificationError('missing_header', `The request has no ${missing.join(', ')} header: it is not a webhook delivery.`)
  if (!/^\d{1,15}$/.test(timestamp!.trim())) throw new WebhookVerificationError('invalid_timestamp', 'The webhook-timestamp header is not a number of seconds.')
  const ts = Number(timestamp!.trim())
  const now = seconds(opts.now ?? Date.now())
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_S
  if (now - ts > tolerance) throw new WebhookVerificationError('timestamp_too_old', `The delivery was signed ${now - ts} s ago, more than the ${tolerance} s allowed: a replay, or a clock far off.`)
  if (ts - now > tolerance) throw new WebhookVerificationError('timestamp_too_new', `The delivery is dated ${ts - now} s in the future, more than the ${tolerance} s allowed: a clock far off.`)
  const expected = hmac(key, id!, ts, body)
  let matched = false
  for (const item of signatures!.split(' ')) {
    const comma = item.indexOf(',')
    if (comma < 0 || item.slice(0, comma) !== 'v1') continue
    const given = Buffer.from(item.slice(comma + 1), 'base64')
    // Compared in constant time; every signature is looked at, whichever matches.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true
  }
  if (!matched) throw new WebhookVerificationError('no_matching_signature', 'No signature in webhook-signature matches the body with this secret.')
  try {
    return JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8')) as WebhookEvent
  } catch {
    throw new WebhookVerificationError('invalid_body', 'The signed body is not JSON.')
  }
}

/** The headers of one delivery attempt. */
export function webhookHeaders(secret: string, id: string, at: Date, body: string): Record<string, string> {
  const ts = seconds(at)
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, body) }
}
