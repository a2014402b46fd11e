import { createServer, type SessionKitServer } from '../server.js'
import { mintToken } from '../auth/tokens.js'
import type { Role } from '@session-kit/core'
import { freshDataDir, freshPostgres, removeDir, type Backend } from './db.js'

export const TEST_SECRET = 'test-secret-' + 'k'.repeat(24)
export const TEST_API_KEY = 'test-api-key'

export interface TestServer extends SessionKitServer {
  backend: Backend
  dataDir: string
  databaseUrl?: string
  /** Every line the server logged, in order. */
  logs: string[]
  token(sid: string, role: Role, user: string, opts?: { name?: string; ttl?: string | number; email?: string }): Promise<string>
  api(method: string, path: string, token?: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }>
  stop(): Promise<void>
}

/** A real server on a free port, on a fresh database of the given backend. */
export async function startTestServer(backend: Backend, opts: { env?: Record<string, string>; demo?: boolean; clock?: () => Date } = {}): Promise<TestServer> {
  const dataDir = await freshDataDir()
  const pg = backend === 'postgres' ? await freshPostgres() : undefined
  const logs: string[] = []
  const server = await createServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: pg?.url,
    demo: opts.demo,
    clock: opts.clock,
    // Every test client comes from 127.0.0.1, faster than any class: no limit on new connections
    // from one address unless a test sets one.
    env: { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY, SESSION_KIT_NEW_CONNECTIONS_PER_IP: '0', ...opts.env },
    log: (m) => {
      logs.push(m)
      if (process.env.SK_TEST_LOG) console.log(`[server] ${m}`)
    },
  })
  return Object.assign(server, {
    backend,
    dataDir,
    databaseUrl: pg?.url,
    logs,
    token: (sid: string, role: Role, user: string, o: { name?: string; ttl?: string | number; email?: string } = {}) =>
      mintToken({ sid, role, sub: user, name: o.name ?? `${role} ${user}`, ...(o.email ? { email: o.email } : {}) }, TEST_SECRET, { ttl: o.ttl ?? '1h' }),
    async api(method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(server.url + path, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = await res.text()
      let json: unknown = null
      try {
        json = JSON.parse(text)
      } catch {}
      return { status: res.status, json, headers: res.headers }
    },
    async stop() {
      await server.close()
      await pg?.drop()
      removeDir(dataDir)
    },
  })
}
