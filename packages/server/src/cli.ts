import { parseArgs } from 'node:util'
import { ROLES, type Role } from '@session-kit/core'
import { mintToken, parseTtl } from './auth/tokens.js'
import { ConfigError, readOrCreateDevSecret } from './config.js'
import { createServer } from './server.js'

const USAGE = `Usage:
  session-kit-server [serve] [--port 8787] [--database-url postgres://…] [--data-dir .data] [--demo]
      Start the server. Without a database URL it runs embedded PostgreSQL (PGlite) in the data folder.
  session-kit-server token --session S --role instructor|learner|observer --user U --name N [--ttl 2h] [--secret X] [--email E]
      Print a signed room token (HS256), as a host backend would mint it.

Environment: PORT, HOST (default 127.0.0.1; 0.0.0.0 when NODE_ENV=production), DATABASE_URL, DATA_DIR,
SESSION_KIT_SECRET, SESSION_KIT_API_KEY, SESSION_KIT_PUBLIC_URL, SESSION_KIT_ALLOWED_ORIGINS, SESSION_KIT_JWKS, NODE_ENV;
limits: SESSION_KIT_MAX_EDIT_CHARS, SESSION_KIT_MAX_DOCUMENT_CHARS, SESSION_KIT_EDIT_RATE, SESSION_KIT_MAX_FILES,
SESSION_KIT_WRITE_COOLDOWN, SESSION_KIT_MAX_TOKEN_TTL, SESSION_KIT_MAX_CONNECTIONS_PER_IP, SESSION_KIT_NEW_CONNECTIONS_PER_IP,
SESSION_KIT_TRUST_PROXY
(docs/guides/security.md).`

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
  const { host } = server.config
  const everywhere = host === '0.0.0.0' || host === '::'
  console.log(
    everywhere
      ? `[session-kit] listening on ${host}:${server.port}, every network interface (from this machine: http://localhost:${server.port}) (database: ${where})`
      : `[session-kit] listening on ${server.url} (database: ${where})${host === '127.0.0.1' || host === 'localhost' || host === '::1' ? '; this machine only — set HOST=0.0.0.0 to accept other machines' : ''}`,
  )
  if (server.config.demo) console.log(`[session-kit] demo room: open ${server.url.replace('127.0.0.1', 'localhost')}/ in a browser`)
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
