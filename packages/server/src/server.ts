import { randomUUID } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { createNodeWebSocket } from '@hono/node-ws'
import { Hono } from 'hono'
import { MAX_FRAME_BYTES } from '@session-kit/core'
import './http/error-event.js'
import { tryListen } from './http/listen.js'
import { createApp } from './app.js'
import { TokenVerifier } from './auth/tokens.js'
import { isEveryInterface, loadConfig, reachableUrl, type ConfigOverrides, type ServerConfig } from './config.js'
import type { AppEnv, Services } from './http/context.js'
import { seedDemo } from './demo/routes.js'
import { openDatabase, type Database } from './store/db.js'
import { migrate } from './store/migrate.js'
import { LocalBus, PgBus } from './sync/bus.js'
import { Committer } from './sync/committer.js'
import { Hub } from './sync/hub.js'
import { Mailer } from './mail/mailer.js'
import { buildReplay } from './recordings/replay.js'
import { getRecording, processingRecordingIds } from './store/recordings.js'
import { VerifiedRuns } from './runs/verified-runs.js'
import { ToolKeys } from './lti/keys.js'
import { ServiceTokens } from './lti/service-token.js'
import { GradeOutbox } from './lti/grades.js'
import { RetentionJob } from './retention/job.js'
import { WebhookWorker } from './webhooks/worker.js'

export interface SessionKitServer {
  services: Services
  /** Where it listens, e.g. http://127.0.0.1:8787 */
  url: string
  port: number
  config: ServerConfig
  app: Hono<AppEnv>
  hub: Hub
  db: Database
  /**
   * With `listen: false`: after mounting `app` under the host's router (`host.route('/rooms', sk.app)`),
   * hand the host's Node HTTP server and its app to Session Kit so the rooms' WebSocket upgrades are
   * routed through the host app too: `sk.injectWebSocket(server, host)`.
   */
  injectWebSocket(server: ServerType, hostApp?: { fetch: Hono<AppEnv>['fetch'] }): void
  close(): Promise<void>
}

export interface CreateServerOptions extends ConfigOverrides {
  /** Environment to read configuration from (defaults to process.env). */
  env?: NodeJS.ProcessEnv
  log?: (msg: string) => void
  /** Listen on a port (default). Set false to get the app and hub without a listening socket. */
  listen?: boolean
  /** The time (for tests of expiry); defaults to the system clock. */
  clock?: () => Date
}

/** How long closing waits for requests in flight before ending their connections. */
const CLOSE_GRACE_MS = 1000

/**
 * Start Session Kit inside a Node process: database (PostgreSQL or embedded PGlite), migrations,
 * the sync hub and the HTTP/WebSocket server.
 *
 * ```ts
 * const server = await createServer({ port: 8787 })
 * console.log(server.url)
 * ```
 */
export async function createServer(opts: CreateServerOptions = {}): Promise<SessionKitServer> {
  const log = opts.log ?? ((m: string) => console.log(`[session-kit] ${m}`))
  const warnings: string[] = []
  const config = loadConfig(opts.env ?? process.env, opts, (m) => warnings.push(m))
  // A port that is taken is said at once, before the database (seconds to open) and any warning.
  if (opts.listen !== false && config.port !== 0) await tryListen(config.port, config.host)
  for (const w of warnings) log(`warning: ${w}`)
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log })
  try {
    const applied = await migrate(db.sql)
    if (applied.length) log(`applied migrations: ${applied.join(', ')}`)
  } catch (e) {
    await db.close()
    throw e
  }
  const instanceId = randomUUID().slice(0, 8)
  const bus = db.canListen ? new PgBus(db.sql, instanceId, log) : new LocalBus(instanceId)
  // PGlite serves one connection; PostgreSQL takes several rooms' transactions at once.
  const committer = new Committer(db.sql, { instanceId, notify: db.canListen, parallel: db.canListen ? 3 : 1 })
  const verifier = new TokenVerifier({ secret: config.secret, jwks: config.jwks, maxTtlSeconds: config.maxTokenTtlSeconds })
  const clock = opts.clock ?? (() => new Date())
  // Events are stamped by the database unless a test moves the clock.
  const hub = new Hub({ sql: db.sql, committer, bus, verifier, log, clock: opts.clock, helloTimeoutMs: config.helloTimeoutMs, singleInstance: db.kind === 'pglite', limits: config.limits })
  await hub.start()
  const mailer = new Mailer(db.sql, { smtpUrl: config.smtpUrl, from: config.mailFrom, log, production: config.production })
  // One set of sandboxes per process; runs an earlier process left unfinished are ended first.
  const runs = new VerifiedRuns({ sql: db.sql, hub, config: config.runs, clock, log, singleInstance: db.kind === 'pglite' })
  await runs.start()
  const ltiKeys = new ToolKeys(db.sql)
  const ltiTokens = new ServiceTokens({ keys: ltiKeys })
  // Scores for LMS gradebooks: every instance works the same outbox (rows are claimed, never shared).
  const ltiGrades = new GradeOutbox({ sql: db.sql, runs, tokens: ltiTokens, clock, log })
  ltiGrades.start()
  // Events for the hosts' webhooks: every instance works the same outbox too.
  const webhooks = new WebhookWorker({ sql: db.sql, config: config.webhooks, clock, log })
  webhooks.start()
  // What outlived its retention period goes, in batches, on whichever instance holds the job's lease.
  const retention = new RetentionJob({ sql: db.sql, config: config.retention, maxTokenTtlSeconds: config.maxTokenTtlSeconds, clock, log, owner: instanceId, sessionDeleted: (sid) => hub.endSession(sid) })
  retention.start()
  const services: Services = { config, db, hub, verifier, mailer, runs, ltiKeys, ltiTokens, ltiGrades, webhooks, retention, clock, log }
  if (config.demo) await seedDemo(db.sql)
  // Replays whose build was cut short (a crash after stop) are built again.
  for (const rec of await processingRecordingIds(db.sql)) {
    void getRecording(db.sql, rec.id).then((r) => r && buildReplay(services, r))
  }

  // The WebSocket helper reads `init.app` only when an upgrade arrives, so the app can be built
  // with its upgrade handler and then handed over (its own notFound/onError stay in force).
  const init = { app: undefined as unknown as Hono<AppEnv> }
  const { injectWebSocket, upgradeWebSocket, wss } = createNodeWebSocket(init)
  // ws buffers a whole frame before we see it: cap it well above our own limit (4413).
  ;(wss.options as { maxPayload?: number }).maxPayload = 4 * MAX_FRAME_BYTES
  const app = createApp(services, upgradeWebSocket)
  init.app = app

  let server: ServerType | undefined
  /** Every socket our own server accepted, so closing can end the ones that would keep it open. */
  const sockets = new Set<Socket>()
  let port = config.port
  if (opts.listen !== false) {
    try {
      server = await new Promise<ServerType>((resolve, reject) => {
        const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s))
        s.once('error', reject)
      })
    } catch (e) {
      // The port is taken (EADDRINUSE) or not ours to bind: leave nothing open behind us.
      await retention.close()
      await webhooks.close()
      await ltiGrades.close()
      await runs.close()
      await hub.close()
      await hub.drain()
      mailer.close()
      await db.close()
      throw e
    }
    injectWebSocket(server)
    server.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
    port = (server.address() as AddressInfo).port
    // Port 0 asks for any free port: links must name the one we got.
    if (!config.explicitUrls.publicUrl) config.publicUrl = reachableUrl(config.host, port)
    if (!config.explicitUrls.inviteUrl) config.inviteUrl = `${config.publicUrl}/invite`
  }
  // Where this process (and its tests) reach the server: every interface includes loopback.
  const url = isEveryInterface(config.host) ? `http://127.0.0.1:${port}` : `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`
  let closed = false
  return {
    url,
    port,
    config,
    services,
    app,
    hub,
    db,
    injectWebSocket: (s: ServerType, hostApp?: { fetch: Hono<AppEnv>['fetch'] }) => {
      if (server) throw new Error('This Session Kit server listens on its own port: injectWebSocket is for `listen: false`.')
      // Upgrades are routed by whichever app holds the Session Kit routes at their mounted path.
      if (hostApp) init.app = hostApp as Hono<AppEnv>
      injectWebSocket(s)
    },
    async close() {
      if (closed) return
      closed = true
      // The retention job finishes its batch and lets its lease go (another instance carries on).
      await retention.close()
      // The outboxes first: the grades one asks for runs. Rows they held are taken up again when their lease ends.
      await webhooks.close()
      await ltiGrades.close()
      // Runs still in the sandboxes cannot finish: they are ended (and the rooms told) while the hub still listens.
      await runs.close()
      await hub.close()
      for (const client of wss.clients) client.terminate()
      // Let the sockets' close events run, then wait for the leave records they write.
      await new Promise((r) => setImmediate(r))
      await hub.drain()
      if (server) {
        const stopped = new Promise<void>((r) => server!.close(() => r()))
        // Everyone was told to go and everything is stored. What is still open is an idle
        // keep-alive connection, or a browser reconnecting mid-upgrade, which would hold the
        // server open for as long as it stays: give requests in flight a moment, then end them.
        ;(server as { closeIdleConnections?: () => void }).closeIdleConnections?.()
        const force = setTimeout(() => sockets.forEach((s) => s.destroy()), CLOSE_GRACE_MS)
        await stopped
        clearTimeout(force)
      }
      mailer.close()
      await db.close()
    },
  }
}
