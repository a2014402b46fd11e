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
  close(): Promise<void>
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
    return { sql, kind: 'postgres', canListen: true, close: () => sql.end({ timeout: 5 }) }
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
    async close() {
      await sql.end({ timeout: 5 }).catch(() => {})
      await socket.stop().catch(() => {})
      await pglite.close().catch(() => {})
    },
  }
}

