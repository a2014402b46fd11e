import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import * as v from 'valibot'
import { ROLES, type Role } from '@session-kit/core'
import { mintToken, parseTtl } from './auth/tokens.js'
import { ConfigError, isEveryInterface, isLoopback, loadConfig, readOrCreateDevSecret } from './config.js'
import { tryListen } from './http/listen.js'
import { ToolKeys } from './lti/keys.js'
import { REGISTRATION_TTL_DEFAULT, registrationLink, registrationTtlSeconds, toolConfiguration } from './lti/registration.js'
import { PlatformInputSchema, platformJson, registerPlatform, removePlatform, type PlatformJson } from './routes/lti-platforms.js'
import { CLI_ORIGIN, HOST_ACTOR, recordAction } from './audit/record.js'
import { createServer } from './server.js'
import { isDatabaseUnavailable, openDatabase, type Sql } from './store/db.js'
import { listPlatforms } from './store/lti.js'
import { migrate } from './store/migrate.js'

const USAGE = `Usage:
  session-kit-server [serve] [--port 8787] [--database-url postgres://…] [--data-dir .data] [--demo]
      Start the server. Without a database URL it runs embedded PostgreSQL (PGlite) in the data folder.
  session-kit-server token --session S --role instructor|learner|observer --user U --name N [--ttl 2h] [--secret X] [--email E]
      Print a signed room token (HS256), as a host backend would mint it.
  session-kit-server lti add-platform --issuer URL --client-id ID --auth-url URL --token-url URL --jwks-url URL
      --deployment D [--deployment D2 …] [--name N]
      Register an LMS (an LTI 1.3 platform), or add deployments to the one with the same issuer and client id.
  session-kit-server lti list-platforms
  session-kit-server lti remove-platform --id P
      List the registered LMSs; remove one (its course links, members and pending grades go with it).
  session-kit-server lti rotate-keys
      Make a new LTI signing key; the previous ones stay published at /lti/jwks for a day.
  session-kit-server lti registration-url [--ttl 7d]
      Print a URL to paste into an LMS for LTI Dynamic Registration (valid for --ttl, at most 30d).
  session-kit-server lti tool-config
      Print the URLs to type into an LMS that registers tools by hand (from SESSION_KIT_PUBLIC_URL).
      The lti commands take --database-url and --data-dir as serve does, and --json for JSON output.
  session-kit-server --help
      Print this help.

Environment:
  PORT                         port to listen on (default 8787; --port wins)
  HOST                         address to listen on (default 127.0.0.1, this machine only; 0.0.0.0, every
                               network interface, when NODE_ENV=production)
  SESSION_KIT_PUBLIC_URL       where browsers reach the server, used in invitation links and the start line
                               (default http://localhost:PORT, or this machine's network address when HOST=0.0.0.0)
  DATABASE_URL                 PostgreSQL; without it embedded PGlite in DATA_DIR
  DATA_DIR                     data folder (default .data)
  SESSION_KIT_SECRET           HS256 secret shared with the host; required in production (in development one is
                               generated and kept in DATA_DIR/secret)
  SESSION_KIT_API_KEY          bearer key for the host routes (create, list and delete sessions)
  SESSION_KIT_ALLOWED_ORIGINS  origins allowed to call the API and frame the pages (default: any)
  SESSION_KIT_JWKS             JWKS URL or file with the hosts' ES256/EdDSA public keys
  SESSION_KIT_INVITE_URL       the page invitation links open (default SESSION_KIT_PUBLIC_URL/invite)
  SMTP_URL, SESSION_KIT_MAIL_FROM
                               invitation mail (without SMTP_URL it waits in the outbox and the log)
  SESSION_KIT_WEBHOOK_ALLOW_PRIVATE
                               1: webhooks may be posted to loopback and private-network addresses (development
                               and tests only; docs/guides/webhooks.md)
  NODE_ENV                     production: a secret is required and the demo refused

Limits (docs/guides/security.md): SESSION_KIT_MAX_EDIT_CHARS, SESSION_KIT_MAX_DOCUMENT_CHARS, SESSION_KIT_EDIT_RATE,
SESSION_KIT_MAX_FILES, SESSION_KIT_WRITE_COOLDOWN, SESSION_KIT_MAX_TOKEN_TTL, SESSION_KIT_MAX_CONNECTIONS_PER_IP,
SESSION_KIT_NEW_CONNECTIONS_PER_IP, SESSION_KIT_TRUST_PROXY.`

export async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'serve'
  const rest = command === argv[0] ? argv.slice(1) : argv
  if (command === 'help' || rest.includes('--help') || rest.includes('-h')) {
    console.log(USAGE)
    return 0
  }
  try {
    if (command === 'serve') return await serveCommand(rest)
    if (command === 'token') return await tokenCommand(rest)
    if (command === 'lti') return await ltiCommand(rest)
  } catch (e) {
    const bind = await cannotListen(e)
    if (bind) {
      console.error(`session-kit-server: ${bind}`)
      return 1
    }
    if (e instanceof CommandFailed) {
      console.error(`session-kit-server: ${e.message}`)
      return 1
    }
    const code = (e as { code?: string }).code
    if (e instanceof ConfigError || code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      console.error(`session-kit-server: ${(e as Error).message}`)
      return 2
    }
    throw e
  }
  console.error(`session-kit-server: unknown command "${command}"\n\n${USAGE}`)
  return 2
}

async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      demo: { type: 'boolean', default: false },
    },
    strict: true,
  })
  const port = values.port === undefined ? undefined : Number(values.port)
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new ConfigError(`--port must be a number between 0 and 65535, not "${values.port}".`)
  const server = await createServer({ port, databaseUrl: values['database-url'], dataDir: values['data-dir'], demo: values.demo })
  const where = server.db.kind === 'pglite' ? `embedded PGlite in ${server.config.dataDir}` : 'PostgreSQL'
  const { host, publicUrl } = server.config
  const bound = isEveryInterface(host) ? `every network interface, port ${server.port}` : server.url
  const scope = isLoopback(host) ? '; this machine only — set HOST=0.0.0.0 to accept other machines' : ''
  console.log(`[session-kit] listening on ${bound} (database: ${where})${scope}`)
  // Links the server hands out (invitations, the demo) point here: say so when it is not where it is bound.
  if (publicUrl !== server.url.replace('127.0.0.1', 'localhost')) console.log(`[session-kit] browsers reach it at ${publicUrl}${server.config.explicitUrls.publicUrl ? '' : ' (SESSION_KIT_PUBLIC_URL sets another address)'}`)
  if (server.config.demo) console.log(`[session-kit] demo room: open ${publicUrl}/ in a browser`)
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.log(`[session-kit] ${signal}: closing connections and saving documents`)
      server.close().then(resolve, (e: Error) => {
        console.error(e)
        resolve()
      })
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
  return 0
}

async function tokenCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      session: { type: 'string' },
      role: { type: 'string' },
      user: { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      ttl: { type: 'string', default: '2h' },
      secret: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  })
  const missing = (['session', 'role', 'user', 'name'] as const).filter((k) => !values[k])
  if (missing.length) throw new ConfigError(`token needs ${missing.map((m) => '--' + m).join(', ')}.\n\n${USAGE}`)
  if (!(ROLES as readonly string[]).includes(values.role!)) throw new ConfigError(`--role must be one of ${ROLES.join(', ')}.`)
  parseTtl(values.ttl!)
  let secret = values.secret ?? process.env.SESSION_KIT_SECRET
  if (!secret) {
    const dir = values['data-dir'] ?? process.env.DATA_DIR ?? '.data'
    secret = readOrCreateDevSecret(dir)
    console.error(`(signed with the development secret in ${dir}/secret, as the server uses when SESSION_KIT_SECRET is not set)`)
  }
  let token: string
  try {
    token = await mintToken(
      { sid: values.session!, role: values.role as Role, sub: values.user!, name: values.name!, ...(values.email ? { email: values.email } : {}) },
      secret,
      { ttl: values.ttl },
    )
  } catch (e) {
    // A claim the server would refuse (a name with a text-direction override, a bad session id).
    throw new ConfigError((e as Error).message)
  }
  console.log(token)
  return 0
}

/** A command that could not do its work (exit code 1); a wrong command line is a ConfigError (2). */
class CommandFailed extends Error {}

const LTI_COMMANDS = 'add-platform, list-platforms, remove-platform, rotate-keys, registration-url or tool-config'
const DATABASE_OPTIONS = { 'database-url': { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } } as const
/** The flag of each field of a platform, to name it in an error. */
const PLATFORM_FLAGS: Record<string, string> = { issuer: '--issuer', clientId: '--client-id', authUrl: '--auth-url', tokenUrl: '--token-url', jwksUrl: '--jwks-url', deploymentIds: '--deployment', name: '--name' }

async function ltiCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'add-platform') return ltiAddPlatform(rest)
  if (sub === 'list-platforms') return ltiListPlatforms(rest)
  if (sub === 'remove-platform') return ltiRemovePlatform(rest)
  if (sub === 'rotate-keys') return ltiRotateKeys(rest)
  if (sub === 'registration-url') return ltiRegistrationUrl(rest)
  if (sub === 'tool-config') return ltiToolConfig(rest)
  throw new ConfigError(sub && !sub.startsWith('-') ? `unknown lti command "${sub}": use ${LTI_COMMANDS}.` : `lti needs a command: ${LTI_COMMANDS}.`)
}

/** What the operator does at the command line is the host's doing on the audit log. */
const BY_OPERATOR = { actor: HOST_ACTOR, origin: CLI_ORIGIN }

async function ltiAddPlatform(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'auth-url': { type: 'string' },
      'token-url': { type: 'string' },
      'jwks-url': { type: 'string' },
      deployment: { type: 'string', multiple: true },
      name: { type: 'string' },
      ...DATABASE_OPTIONS,
    },
    strict: true,
  })
  const missing = (['issuer', 'client-id', 'auth-url', 'token-url', 'jwks-url', 'deployment'] as const).filter((k) => !values[k]?.length)
  if (missing.length) {
    throw new ConfigError(`lti add-platform needs ${missing.map((m) => '--' + m).join(', ')} (the values the LMS shows for the tool it registered; --deployment may be given several times).`)
  }
  const parsed = v.safeParse(PlatformInputSchema, {
    issuer: values.issuer,
    clientId: values['client-id'],
    authUrl: values['auth-url'],
    tokenUrl: values['token-url'],
    jwksUrl: values['jwks-url'],
    deploymentIds: values.deployment,
    name: values.name,
  })
  if (!parsed.success) {
    const issue = parsed.issues[0]
    const field = String(issue.path?.[0]?.key ?? '')
    throw new ConfigError(`${PLATFORM_FLAGS[field] ?? field} ${issue.message}.`)
  }
  const { row, created } = await withDatabase(values, 'POST /v1/lti/platforms', (sql) => registerPlatform(sql, parsed.output, BY_OPERATOR))
  const p = platformJson(row)
  if (values.json) console.log(JSON.stringify(p, null, 2))
  else console.log(`${created ? 'Registered' : 'Updated'} the LMS ${p.name || p.issuer} as ${p.id}: issuer ${p.issuer}, client id ${p.clientId}, deployments ${p.deploymentIds.join(', ')}.`)
  return 0
}

async function ltiListPlatforms(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: DATABASE_OPTIONS, strict: true })
  const platforms = (await withDatabase(values, 'GET /v1/lti/platforms', listPlatforms)).map(platformJson)
  if (values.json) console.log(JSON.stringify({ platforms }, null, 2))
  else if (!platforms.length) console.log('No LMS is registered yet: add one with session-kit-server lti add-platform, or by LTI Dynamic Registration (session-kit-server lti registration-url).')
  else for (const p of platforms) console.log(platformLine(p))
  return 0
}

function platformLine(p: PlatformJson): string {
  const deployments = p.deploymentIds.length ? `deployments ${p.deploymentIds.join(', ')}` : 'no deployment yet (add one with lti add-platform … --deployment D)'
  return `${p.id}  ${p.name || '(no name)'}  issuer ${p.issuer}  client id ${p.clientId}  ${deployments}  (${p.registeredBy === 'dynamic' ? 'by dynamic registration' : 'by an administrator'}, ${p.createdAt.slice(0, 10)})`
}

async function ltiRemovePlatform(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { id: { type: 'string' }, ...DATABASE_OPTIONS }, strict: true })
  if (!values.id) throw new ConfigError('lti remove-platform needs --id (session-kit-server lti list-platforms shows the ids).')
  const id = values.id
  const removed = await withDatabase(values, 'DELETE /v1/lti/platforms/:id', (sql) => removePlatform(sql, id, BY_OPERATOR))
  if (!removed) throw new CommandFailed(`no LMS is registered with id "${id}" (session-kit-server lti list-platforms shows the ids).`)
  if (values.json) console.log(JSON.stringify({ id, removed: true }))
  else console.log(`Removed the LMS ${id}; its course links, members and pending grades went with it.`)
  return 0
}

async function ltiRotateKeys(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: DATABASE_OPTIONS, strict: true })
  const kid = await withDatabase(values, undefined, async (sql) => {
    const kid = await new ToolKeys(sql).rotate()
    await recordAction(sql, { ...BY_OPERATOR, action: 'lti.keys_rotated', targetId: kid })
    return kid
  })
  if (values.json) console.log(JSON.stringify({ kid }))
  else console.log(`New LTI signing key ${kid}: it signs from now on (running servers take it up within a minute); the previous keys stay published at /lti/jwks for a day.`)
  return 0
}

async function ltiRegistrationUrl(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ttl: { type: 'string', default: REGISTRATION_TTL_DEFAULT }, 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true })
  let ttlS: number
  try {
    ttlS = registrationTtlSeconds(values.ttl)
  } catch (e) {
    throw new ConfigError(`--ttl ${(e as Error).message}.`)
  }
  // Signed with the server's secret: the development one in the data folder when SESSION_KIT_SECRET is not set.
  const notes: string[] = []
  const config = loadConfig(process.env, { dataDir: values['data-dir'] }, (w) => {
    if (w.includes('SESSION_KIT_SECRET')) notes.push(w)
  })
  if (!config.explicitUrls.publicUrl) notes.push(`SESSION_KIT_PUBLIC_URL is not set: the URL points at ${config.publicUrl}; set it to the address LMSs reach this server at.`)
  for (const n of notes) console.error(`(${n})`)
  const link = await registrationLink(config.publicUrl, config.secret, { ttlS })
  if (values.json) console.log(JSON.stringify({ url: link.url, expiresAt: link.expiresAt.toISOString() }))
  else console.log(`Paste this URL into the LMS (LTI Dynamic Registration); it works until ${link.expiresAt.toISOString()}:\n${link.url}`)
  return 0
}

async function ltiToolConfig(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, strict: true })
  // Only the public URL is read: the configuration signs nothing, so no secret is needed (or made).
  const config = loadConfig({ ...process.env, SESSION_KIT_SECRET: process.env.SESSION_KIT_SECRET || 'tool-config-signs-nothing' }, {}, () => {})
  if (!config.explicitUrls.publicUrl) console.error(`(SESSION_KIT_PUBLIC_URL is not set: these URLs point at ${config.publicUrl}; set it to the address LMSs reach this server at.)`)
  const tool = toolConfiguration(config.publicUrl)
  if (values.json) console.log(JSON.stringify(tool, null, 2))
  else {
    console.log(`Login URL (OpenID Connect login initiation): ${tool.loginUrl}
Redirect URI (and target link URI):          ${tool.launchUrl}
Deep Linking URL:                            ${tool.deepLinkingUrl}
Public keyset URL (JWKS):                    ${tool.jwksUrl}
Domain:                                      ${tool.domain}`)
  }
  return 0
}

/**
 * Open the database as the server does (PostgreSQL, or embedded PGlite in the data folder), bring
 * it up to date, do `work`, and close it. Embedded PGlite is one process's at a time and does not
 * lock its folder itself: a folder a running server holds is refused (it keeps postmaster.pid there
 * while open), naming the API route that does the same through that server.
 */
async function withDatabase<T>(values: { 'database-url'?: string; 'data-dir'?: string }, apiRoute: string | undefined, work: (sql: Sql) => Promise<T>): Promise<T> {
  const databaseUrl = values['database-url'] ?? (process.env.DATABASE_URL || undefined)
  const dataDir = resolve(values['data-dir'] ?? process.env.DATA_DIR ?? '.data')
  const pidFile = join(dataDir, 'pglite', 'postmaster.pid')
  if (!databaseUrl && existsSync(pidFile)) {
    const instead = apiRoute ? `use that server's ${apiRoute} (with the API key) instead, or stop it first` : 'stop it first'
    throw new CommandFailed(`the data folder ${dataDir} is open in a running Session Kit server (embedded PGlite serves one process at a time): ${instead}; if no server is running, one stopped without closing it, and deleting ${pidFile} frees the folder.`)
  }
  let db
  try {
    db = await openDatabase({ databaseUrl, dataDir, log: (m) => console.error(`[session-kit] ${m}`) })
  } catch (e) {
    if (databaseUrl && isDatabaseUnavailable(e)) throw new CommandFailed(`could not connect to the database (${(e as { code?: string }).code}): check --database-url or DATABASE_URL, and that PostgreSQL is running.`)
    throw e
  }
  try {
    await migrate(db.sql)
    return await work(db.sql)
  } finally {
    await db.close()
  }
}

/** One sentence for a port or address the server cannot listen on, or undefined for any other error. */
async function cannotListen(e: unknown): Promise<string | undefined> {
  const err = e as NodeJS.ErrnoException & { port?: number; address?: string; hostname?: string }
  // A HOST name that does not resolve fails its lookup before listening.
  const badHost = err.code === 'ENOTFOUND' && err.hostname !== undefined && err.hostname === process.env.HOST
  if (err.syscall !== 'listen' && !badHost) return undefined
  const port = err.port ?? Number(process.env.PORT ?? 8787)
  if (err.code === 'EADDRINUSE') {
    const free = await freePortAfter(port, err.address)
    return `port ${port} is already in use (by another Session Kit server or npm start?). Choose another with --port ${free ?? '<port>'} or PORT=${free ?? '<port>'}.`
  }
  if (err.code === 'EACCES') return `port ${port} needs privileges this process does not have. Choose one above 1023 with --port or PORT.`
  if (err.code === 'EADDRNOTAVAIL' || badHost) {
    return `HOST=${err.address ?? err.hostname ?? process.env.HOST} is not an address of this machine. Use 127.0.0.1 (this machine only) or 0.0.0.0 (every network interface).`
  }
  return undefined
}

/** The first free port after `port`, to suggest one that works. */
async function freePortAfter(port: number, host = '127.0.0.1'): Promise<number | undefined> {
  for (let p = port + 1; p <= Math.min(port + 20, 65535); p++) {
    if (await tryListen(p, host).then(() => true, () => false)) return p
  }
  return undefined
}
