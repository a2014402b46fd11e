import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import postgres from 'postgres'

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
 * Open the database. With a URL, a pool to that PostgreSQL. Without one, PGlite on
 * `dataDir/pglite` served on a loopback port by pglite-socket, so the same postgres.js code runs
 * either way (PGlite serves one connection: a pool of one, no LISTEN/NOTIFY).
 */
export async function openDatabase(opts: { databaseUrl?: string; dataDir: string; max?: number }): Promise<Database> {
  if (opts.databaseUrl) {
    const sql = postgres(opts.databaseUrl, { ...postgresOptions, max: opts.max ?? 10 }) as unknown as Sql
    await sql`select 1`
    return { sql, kind: 'postgres', canListen: true, ping: pinger(sql), close: () => sql.end({ timeout: 5 }) }
  }
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const dir = join(opts.dataDir, 'pglite')
  mkdirSync(dir, { recursive: true })
  const pglite = await PGlite.create(dir)
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
    },
  }
}

