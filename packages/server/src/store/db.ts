import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
// postgres.js as patched in this repository and shipped inside the package (package.json
// "imports"; scripts/vendor-postgres.mjs says why): the release crashes the process when
// PostgreSQL restarts under load. Import it as '#postgres' everywhere, never as 'postgres'.
import postgres from '#postgres'

export type Sql = postgres.Sql<{ bigint: number }>
export type Tx = postgres.TransactionSql<{ bigint: number }>

/** The database the server talks to: always postgres.js, over PGlite or a real PostgreSQL. */
export interface Database {
  sql: Sql
  kind: 'pglite' | 'postgres'
  /** Whether LISTEN/NOTIFY fan-out between instances is available (real PostgreSQL only). */
  canListen: boolean
  /** Resolves if the database answers a trivial query within `timeoutMs` (health checks). */
  ping(timeoutMs: number): Promise<void>
  close(): Promise<void>
}

/** A query queued behind the pool's reconnect backoff could wait many seconds: bound the wait. */
function pinger(sql: Sql) {
  return async (timeoutMs: number) => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([sql`select 1`, timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

// bigserial ids fit comfortably in a double for the life of a deployment.
const bigintAsNumber = {
  to: 20,
  from: [20],
  serialize: (x: number) => String(x),
  parse: (x: string) => Number(x),
}

const postgresOptions = {
  onnotice: () => {},
  // postgres.js waits up to 20 s between reconnect attempts once a few have failed, which kept the
  // server down that long after PostgreSQL was back; a refused attempt costs nothing, so try every
  // second at most.
  backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1),
  types: { bigint: bigintAsNumber },
  connection: { application_name: 'session-kit' },
}

/**
 * Keep the embedded database to the server's own user: folders 0700, files 0600. PGlite's file
 * system creates files 0666 and folders 0755 whatever the umask (and a umask is process-wide: it
 * would change the host application's files too), so the folders are what protects the data — no
 * one else can reach a file inside a 0700 folder, whatever its mode, including the WAL and table
 * files PGlite creates while it runs — and files are made 0600 at start and at close as well.
 * Says whether the folder itself was open to others, and which entries could not be changed.
 */
export function tightenDataFolder(dir: string): { wasOpen: number | null; failed: string[] } {
  const failed: string[] = []
  const rootMode = lstatSync(dir).mode & 0o777
  const folders = [dir]
  while (folders.length) {
    const folder = folders.pop()!
    const entries = [folder, ...readdirSync(folder).map((name) => join(folder, name))]
    for (const path of entries) {
      const stat = lstatSync(path)
      if (path !== folder && stat.isDirectory()) {
        folders.push(path)
        continue
      }
      if (stat.isSymbolicLink() || !(stat.mode & 0o077)) continue
      try {
        chmodSync(path, stat.isDirectory() ? 0o700 : stat.mode & 0o700)
      } catch {
        failed.push(path)
      }
    }
  }
  return { wasOpen: rootMode & 0o077 ? rootMode : null, failed }
}

/**
 * Open the database. With a URL, a pool to that PostgreSQL. Without one, PGlite on
 * `dataDir/pglite` served on a loopback port by pglite-socket, so the same postgres.js code runs
 * either way (PGlite serves one connection: a pool of one, no LISTEN/NOTIFY). The PGlite folder is
 * kept private (see `tightenDataFolder`); one found open to other users is closed, with a log line.
 */
export async function openDatabase(opts: { databaseUrl?: string; dataDir: string; max?: number; log?: (msg: string) => void }): Promise<Database> {
  if (opts.databaseUrl) {
    const sql = postgres(opts.databaseUrl, { ...postgresOptions, max: opts.max ?? 10 }) as unknown as Sql
    await sql`select 1`
    return { sql, kind: 'postgres', canListen: true, ping: pinger(sql), close: () => sql.end({ timeout: 5 }) }
  }
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const log = opts.log ?? ((m: string) => console.log(`[session-kit] ${m}`))
  const dir = join(opts.dataDir, 'pglite')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const { wasOpen, failed } = tightenDataFolder(dir)
  if (wasOpen !== null) log(`warning: the database folder ${dir} was open to other users (mode 0${wasOpen.toString(8)}): made it 0700 and its files 0600.`)
  if (failed.length) log(`warning: could not make ${failed.length} entries of ${dir} private to this user (first: ${failed[0]}); check who owns them.`)
  const pglite = await PGlite.create(dir)
  // initdb has just written a new cluster's files, 0666.
  tightenDataFolder(dir)
  const socket = new PGLiteSocketServer({ db: pglite, port: 0, host: '127.0.0.1' })
  await socket.start()
  const port = ((socket as unknown as { server: { address(): AddressInfo } }).server.address()).port
  const sql = postgres({ ...postgresOptions, host: '127.0.0.1', port, username: 'postgres', database: 'postgres', max: 1 }) as unknown as Sql
  await sql`select 1`
  return {
    sql,
    kind: 'pglite',
    canListen: false,
    ping: pinger(sql),
    async close() {
      await sql.end({ timeout: 5 }).catch(() => {})
      await socket.stop().catch(() => {})
      await pglite.close().catch(() => {})
      try {
        tightenDataFolder(dir)
      } catch {}
    },
  }
}


/** PostgreSQL's SQLSTATEs for a server going away or not yet back (class 08: connection exceptions). */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300'])
/** The client's and the operating system's words for a connection that failed or went away. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT'])

/**
 * Whether an error says the database is not reachable right now (shutting down, starting up,
 * restarting, connection refused or dropped) rather than that a query was wrong: the request can
 * be tried again in a moment, and the answer is 503, not 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08'))
}
