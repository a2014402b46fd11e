import assert from 'node:assert/strict'
import { connect, createServer, type AddressInfo, type Server } from 'node:net'
import { describe, it } from 'node:test'
import postgres from '#postgres'
import { backends, freshDataDir, freshPostgres, removeDir, type Backend } from '../testing/db.js'

/**
 * A link to the database that resets the client's side the first time it carries `marker` (a
 * piece of a query's text): the network dropping at that exact moment. Every later connection is
 * passed through untouched.
 */
async function linkDroppingAt(marker: string, target: { host: string; port: number }) {
  let drops = 0
  const server: Server = createServer((down) => {
    const up = connect(target.port, target.host)
    for (const s of [down, up]) {
      s.on('error', () => {})
      s.on('close', () => {
        down.destroy()
        up.destroy()
      })
    }
    down.on('data', (chunk: Buffer) => {
      if (!drops && chunk.includes(marker)) {
        drops++
        up.destroy()
        down.resetAndDestroy()
      } else up.write(chunk)
    })
    up.on('data', (chunk: Buffer) => down.writable && down.write(chunk))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    drops: () => drops,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The database of a backend, as a host and port the link can forward to. */
async function database(backend: Backend) {
  if (backend === 'postgres') {
    const pg = await freshPostgres()
    const url = new URL(pg.url)
    return { host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1), close: () => pg.drop() }
  }
  const dataDir = await freshDataDir()
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const pglite = await PGlite.create(`${dataDir}/pglite`)
  const socket = new PGLiteSocketServer({ db: pglite, port: 0, host: '127.0.0.1' })
  await socket.start()
  const port = ((socket as unknown as { server: { address(): AddressInfo } }).server.address()).port
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: '',
    database: 'postgres',
    async close() {
      await socket.stop().catch(() => {})
      await pglite.close().catch(() => {})
      removeDir(dataDir)
    },
  }
}

// The server's PostgreSQL client is postgres.js as patches/postgres+3.4.9.patch leaves it, shipped
// inside the package (scripts/vendor-postgres.mjs). These are the release's crashes that the patch
// fixes and no other test reaches on purpose.
for (const backend of backends()) {
  describe(`the PostgreSQL driver (${backend})`, () => {
    it('lives on when a new connection drops while it fetches the array types', async () => {
      // postgres.js fetches the server's array types as the first query of every new connection,
      // from a promise nothing awaits: when that query failed (the network dropped, PostgreSQL
      // terminated the backend while restarting) the rejection had no handler and ended the process.
      const db = await database(backend)
      const link = await linkDroppingAt('pg_catalog.pg_type', db)
      const sql = postgres({ host: '127.0.0.1', port: link.port, username: db.user, password: db.password, database: db.database, max: 1, onnotice: () => {}, backoff: () => 0.05 })
      const unhandled: unknown[] = []
      const note = (reason: unknown) => unhandled.push(reason)
      process.on('unhandledRejection', note)
      try {
        // The query that opened the connection fails with it, as an error the caller can catch.
        await assert.rejects(sql`select 1`, (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET')
        assert.equal(link.drops(), 1)
        // Long enough for a rejection without a handler to be reported.
        await new Promise((r) => setTimeout(r, 100))
        assert.deepEqual(unhandled, [], 'a rejection nobody could handle')
        // The next query opens a new connection, which fetches the types and answers.
        const [row] = await sql<{ one: number }[]>`select 1 as one`
        assert.equal(row?.one, 1)
      } finally {
        process.off('unhandledRejection', note)
        await sql.end({ timeout: 1 })
        await link.close()
        await db.close()
      }
    })
  })
}
