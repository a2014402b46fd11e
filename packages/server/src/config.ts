import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join, resolve } from 'node:path'
import { parseTtl } from './auth/tokens.js'
import { DEFAULT_LIMITS, type SyncLimits } from './sync/limits.js'

/** Everything the server reads from its environment, resolved once at start-up. */
export interface ServerConfig {
  port: number
  host: string
  /** PostgreSQL connection string; without it the server runs embedded PGlite in `dataDir`. */
  databaseUrl?: string
  dataDir: string
  /** HS256 secret for room tokens (host-signed and server-signed guest tokens). */
  secret: string
  /** Bearer key for the host-admin routes; without it those routes are closed. */
  apiKey?: string
  /** Where the server is reachable from browsers (invitation links, demo page). */
  publicUrl: string
  /** Origins allowed to call the API and to frame the pages the server serves. Empty: any. */
  allowedOrigins: string[]
  /** A JWKS URL or file path with ES256/EdDSA public keys of hosts that sign tokens. */
  jwks?: string
  production: boolean
  /** Serve the three-role demo page at `/` and seed the `demo` session. */
  demo: boolean
  /** How long a new socket may take to send its hello (default 10 s). */
  helloTimeoutMs: number
  /** SMTP server for invitation mail (smtp://user:pass@host:587); without it mail goes to the outbox table and the log. */
  smtpUrl?: string
  /** Sender of invitation mail. */
  mailFrom: string
  /** The page invitation links open, with `?invite=<token>` (default: PUBLIC_URL/invite). */
  inviteUrl: string
  /** Whether publicUrl / inviteUrl were configured (else they follow the port actually bound). */
  explicitUrls: { publicUrl: boolean; inviteUrl: boolean }
  /** What one writer and one document may cost (docs/guides/security.md lists them). */
  limits: SyncLimits
  /** Longest lifetime (exp − iat, and exp − now) a room token may have, in seconds. */
  maxTokenTtlSeconds: number
  /** Open WebSocket connections from one address (0: no limit). */
  maxConnectionsPerIp: number
  /** New WebSocket connections a second from one address, in bursts of 30 s worth (0: no limit). */
  newConnectionsPerIpPerSecond: number
  /** Take the client's address from X-Forwarded-For (behind a reverse proxy you run). */
  trustProxy: boolean
  /** Verified runs (docs/guides/security.md lists them). */
  runs: RunConfig
  /** How long data is kept, and how often the job deleting what expired runs (docs/guides/privacy.md). */
  retention: RetentionConfig
  /** Webhook deliveries (docs/guides/webhooks.md). */
  webhooks: WebhookConfig
}

/** How the server runs stored code itself: its sandboxes, their limits and who may ask how often. */
export interface RunConfig {
  /** Sandboxes running at once (worker threads). */
  workers: number
  /** Runs waiting for a sandbox; beyond it a request is answered 429. */
  queue: number
  timeoutMs: number
  memoryMb: number
  /** Runs one person may start in a minute, and one room. */
  perUserPerMinute: number
  perRoomPerMinute: number
}

/** How the server posts events to the hosts' webhook endpoints. */
export interface WebhookConfig {
  /**
   * Post to loopback, private-network, link-local and other internal addresses too
   * (SESSION_KIT_WEBHOOK_ALLOW_PRIVATE=1: development and tests). Off, such targets are refused
   * when an endpoint is registered and again after each DNS lookup, so an endpoint cannot be
   * turned against the server's own network.
   */
  allowPrivate: boolean
  /** How long one delivery may take, connection to answer (default 10 s). */
  timeoutMs: number
}

/**
 * The deployment's retention periods in seconds (undefined: kept until someone deletes it). A
 * session's owner may set shorter ones for their session (`PATCH /v1/sessions/:sid`).
 */
export interface RetentionConfig {
  /** Stopped recordings and their replays, from when they stopped (SESSION_KIT_RETAIN_RECORDINGS). */
  recordings?: number
  /** Chat messages (SESSION_KIT_RETAIN_CHAT). */
  chat?: number
  /** Analytics events and their per-minute rollups (SESSION_KIT_RETAIN_EVENTS). */
  events?: number
  /** Snapshots (SESSION_KIT_RETAIN_SNAPSHOTS). */
  snapshots?: number
  /** Whole sessions, from their last activity, nobody connected (SESSION_KIT_RETAIN_CLOSED_SESSIONS). */
  session?: number
  /** Audit log entries (SESSION_KIT_RETAIN_AUDIT): the deployment's only, never a session's. */
  audit?: number
  /** How often the job looks for what expired (SESSION_KIT_RETENTION_INTERVAL, default 1 h). */
  intervalSeconds: number
}

export interface ConfigOverrides {
  port?: number
  host?: string
  databaseUrl?: string
  dataDir?: string
  demo?: boolean
}

export class ConfigError extends Error {}

/**
 * Read the configuration. In development a missing secret is generated and kept in the data
 * folder (so tokens survive restarts); in production the server refuses to start without one.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}, warn: (m: string) => void = console.warn): ServerConfig {
  const production = env.NODE_ENV === 'production'
  const port = overrides.port ?? parsePort(env.PORT ?? '8787')
  // Development serves the demo (tokens on the page) and a generated secret: this machine only,
  // unless HOST says otherwise. In production the usual container default: every interface.
  const host = overrides.host ?? (env.HOST || (production ? '0.0.0.0' : '127.0.0.1'))
  const dataDir = resolve(overrides.dataDir ?? env.DATA_DIR ?? '.data')
  const databaseUrl = overrides.databaseUrl ?? (env.DATABASE_URL || undefined)
  let secret = env.SESSION_KIT_SECRET
  if (!secret) {
    if (production) throw new ConfigError('SESSION_KIT_SECRET is required when NODE_ENV=production: set it to a long random string shared with the host that signs tokens.')
    secret = readOrCreateDevSecret(dataDir)
    warn(`SESSION_KIT_SECRET is not set: using a generated development secret kept in ${join(dataDir, 'secret')}. Set SESSION_KIT_SECRET before going to production.`)
  } else if (secret.length < 16) {
    if (production) throw new ConfigError('SESSION_KIT_SECRET must be at least 16 characters long.')
    warn('SESSION_KIT_SECRET is shorter than 16 characters; use a long random string in production.')
  }
  // The demo page hands instructor, learner and observer tokens to anyone who opens it.
  if (overrides.demo && production) {
    if (env.SESSION_KIT_DEMO_IN_PRODUCTION !== '1') {
      throw new ConfigError('--demo refuses to start when NODE_ENV=production: its page at / gives instructor, learner and observer tokens for the demo session to anyone who opens it. Start without --demo, or set SESSION_KIT_DEMO_IN_PRODUCTION=1 if this server is only ever a public demo.')
    }
    warn('DEMO MODE IN PRODUCTION (SESSION_KIT_DEMO_IN_PRODUCTION=1): anyone who opens / gets instructor, learner and observer tokens for the "demo" session. Never run it beside real sessions.')
  }
  const publicUrl = (env.SESSION_KIT_PUBLIC_URL || reachableUrl(host, port)).replace(/\/+$/, '')
  const allowedOrigins = (env.SESSION_KIT_ALLOWED_ORIGINS ?? '').split(/[\s,]+/).filter(Boolean).map((o) => o.replace(/\/+$/, ''))
  if (production && !allowedOrigins.length) {
    warn('SESSION_KIT_ALLOWED_ORIGINS is not set: any site may frame the pages this server serves (frame-ancestors *) and call its API from a browser (Access-Control-Allow-Origin: *). List your course sites there.')
  }
  if (production && (env.SESSION_KIT_WEBHOOK_ALLOW_PRIVATE === '1' || env.SESSION_KIT_WEBHOOK_ALLOW_PRIVATE === 'true')) {
    warn('SESSION_KIT_WEBHOOK_ALLOW_PRIVATE is set: webhook endpoints may point at this server’s own network (loopback, private and cloud metadata addresses). Use it in development only.')
  }
  if (production && !env.SESSION_KIT_PUBLIC_URL) warn(`SESSION_KIT_PUBLIC_URL is not set: invitation links and the demo will point at ${publicUrl}.`)
  return {
    port,
    host,
    databaseUrl,
    dataDir,
    secret,
    apiKey: env.SESSION_KIT_API_KEY || undefined,
    publicUrl,
    allowedOrigins,
    jwks: env.SESSION_KIT_JWKS || undefined,
    production,
    demo: overrides.demo ?? false,
    helloTimeoutMs: Number(env.SESSION_KIT_HELLO_TIMEOUT_MS) > 0 ? Number(env.SESSION_KIT_HELLO_TIMEOUT_MS) : 10_000,
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.SESSION_KIT_MAIL_FROM || 'Session Kit <no-reply@session-kit.invalid>',
    inviteUrl: inviteUrl(env.SESSION_KIT_INVITE_URL, publicUrl),
    explicitUrls: { publicUrl: Boolean(env.SESSION_KIT_PUBLIC_URL), inviteUrl: Boolean(env.SESSION_KIT_INVITE_URL) },
    limits: {
      maxMessageOps: count(env, 'SESSION_KIT_MAX_EDIT_CHARS', DEFAULT_LIMITS.maxMessageOps, 1),
      maxDocumentChars: count(env, 'SESSION_KIT_MAX_DOCUMENT_CHARS', DEFAULT_LIMITS.maxDocumentChars, 1),
      editsPerMinute: count(env, 'SESSION_KIT_EDIT_RATE', DEFAULT_LIMITS.editsPerMinute, 1),
      maxFiles: count(env, 'SESSION_KIT_MAX_FILES', DEFAULT_LIMITS.maxFiles, 1),
      writeCooldownMs: duration(env, 'SESSION_KIT_WRITE_COOLDOWN', DEFAULT_LIMITS.writeCooldownMs / 1000) * 1000,
    },
    maxTokenTtlSeconds: duration(env, 'SESSION_KIT_MAX_TOKEN_TTL', 24 * 3600),
    maxConnectionsPerIp: count(env, 'SESSION_KIT_MAX_CONNECTIONS_PER_IP', 1000, 0),
    newConnectionsPerIpPerSecond: count(env, 'SESSION_KIT_NEW_CONNECTIONS_PER_IP', 10, 0),
    trustProxy: env.SESSION_KIT_TRUST_PROXY === '1' || env.SESSION_KIT_TRUST_PROXY === 'true',
    retention: {
      recordings: period(env, 'SESSION_KIT_RETAIN_RECORDINGS'),
      chat: period(env, 'SESSION_KIT_RETAIN_CHAT'),
      events: period(env, 'SESSION_KIT_RETAIN_EVENTS'),
      snapshots: period(env, 'SESSION_KIT_RETAIN_SNAPSHOTS'),
      session: period(env, 'SESSION_KIT_RETAIN_CLOSED_SESSIONS'),
      audit: period(env, 'SESSION_KIT_RETAIN_AUDIT'),
      intervalSeconds: duration(env, 'SESSION_KIT_RETENTION_INTERVAL', 3600),
    },
    runs: {
      workers: count(env, 'SESSION_KIT_RUN_WORKERS', 1, 1),
      queue: count(env, 'SESSION_KIT_RUN_QUEUE', 20, 0),
      timeoutMs: count(env, 'SESSION_KIT_RUN_TIMEOUT_MS', 5000, 100),
      memoryMb: count(env, 'SESSION_KIT_RUN_MEMORY_MB', 128, 16),
      perUserPerMinute: count(env, 'SESSION_KIT_RUNS_PER_USER', 10, 1),
      perRoomPerMinute: count(env, 'SESSION_KIT_RUNS_PER_ROOM', 60, 1),
    },
    webhooks: {
      allowPrivate: env.SESSION_KIT_WEBHOOK_ALLOW_PRIVATE === '1' || env.SESSION_KIT_WEBHOOK_ALLOW_PRIVATE === 'true',
      timeoutMs: count(env, 'SESSION_KIT_WEBHOOK_TIMEOUT_MS', 10_000, 100),
    },
  }
}

/** A whole number from the environment, at least `min`. */
function count(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw.replaceAll('_', ''))
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${name} must be a whole number of at least ${min}, not "${raw}".`)
  return n
}

/** A duration like 90s, 10m, 24h, 7d (or plain seconds) from the environment, in seconds. */
function duration(env: NodeJS.ProcessEnv, name: string, fallbackSeconds: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallbackSeconds
  let seconds: number
  try {
    seconds = parseTtl(raw)
  } catch {
    seconds = 0
  }
  if (seconds <= 0) throw new ConfigError(`${name} must be a duration such as 90s, 10m, 24h or 7d, not "${raw}".`)
  return seconds
}

/** A retention period (180d, 12h…) from the environment, in seconds; unset or empty: kept. */
function period(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]
  return raw === undefined || raw === '' ? undefined : duration(env, name, 0)
}

function inviteUrl(configured: string | undefined, publicUrl: string): string {
  const url = configured || `${publicUrl}/invite`
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error()
  } catch {
    throw new ConfigError(`SESSION_KIT_INVITE_URL must be a full http(s) URL, not "${url}".`)
  }
  return url
}

/** Addresses that only this machine can reach. */
export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.')

/** Listening on every interface (HOST=0.0.0.0 or ::). */
export const isEveryInterface = (host: string) => host === '0.0.0.0' || host === '::'

/**
 * Where browsers reach a server bound to `host`, for links it hands out when SESSION_KIT_PUBLIC_URL
 * is not set: localhost for this machine only, the machine's own network address when it listens
 * on every interface, else the address it is bound to.
 */
export function reachableUrl(host: string, port: number, interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string {
  if (isLoopback(host)) return `http://localhost:${port}`
  if (isEveryInterface(host)) {
    const external = Object.values(interfaces)
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4')
    return external ? `http://${external.address}:${port}` : `http://localhost:${port}`
  }
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}

function parsePort(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`PORT must be a number between 0 and 65535, not "${value}".`)
  return n
}

/** The development secret kept in DATA_DIR, created on first use. */
export function readOrCreateDevSecret(dataDir: string): string {
  const file = join(dataDir, 'secret')
  if (existsSync(file)) {
    const existing = readFileSync(file, 'utf8').trim()
    if (existing) return existing
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(file, secret + '\n', { mode: 0o600 })
  return secret
}
