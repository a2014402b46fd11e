import { parseArgs } from 'node:util'
import { ROLES, type Role } from '@session-kit/core'
import { mintToken, parseTtl } from './auth/tokens.js'
import { ConfigError, isEveryInterface, isLoopback, readOrCreateDevSecret } from './config.js'
import { tryListen } from './http/listen.js'
import { createServer } from './server.js'

const USAGE = `Usage:
  session-kit-server [serve] [--port 8787] [--database-url postgres://…] [--data-dir .data] [--demo]
      Start the server. Without a database URL it runs embedded PostgreSQL (PGlite) in the data folder.
  session-kit-server token --session S --role instructor|learner|observer --user U --name N [--ttl 2h] [--secret X] [--email E]
      Print a signed room token (HS256), as a host backend would mint it.
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
  } catch (e) {
    const bind = await cannotListen(e)
    if (bind) {
      console.error(`session-kit-server: ${bind}`)
      return 1
    }
    if (e instanceof ConfigError || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (e as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
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
