import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import type { UpgradeWebSocket } from 'hono/ws'
import type { WebSocket } from 'ws'
import type { AppEnv, Services } from './http/context.js'
import { AppError } from './errors.js'
import { demoRoutes } from './demo/routes.js'
import { pageRoutes } from './pages/routes.js'
import { ltiRoutes } from './lti/routes.js'
import { ltiPlatformRoutes } from './routes/lti-platforms.js'
import { analyticsRoutes } from './routes/analytics.js'
import { assignmentRoomRoutes } from './routes/assignment-rooms.js'
import { assignmentRoutes } from './routes/assignments.js'
import { auditRoutes } from './routes/audit.js'
import { ltiServiceRoutes } from './routes/lti-services.js'
import { chatRoutes } from './routes/chat.js'
import { invitationRoutes } from './routes/invitations.js'
import { recordingRoutes } from './routes/recordings.js'
import { hiddenFileRoutes } from './routes/hidden-files.js'
import { runRoutes } from './routes/runs.js'
import { snapshotRoutes } from './routes/snapshots.js'
import { participantRoutes } from './routes/participants.js'
import { sessionRoutes } from './routes/sessions.js'
import { tokenRoutes } from './routes/tokens.js'
import { userRoutes } from './routes/users.js'
import { webhookRoutes } from './routes/webhooks.js'
import { isDatabaseUnavailable } from './store/db.js'
import type { Connection } from './sync/hub.js'
import { ConnectionCounter, LimitError } from './sync/limits.js'
import { clientAddress } from './http/address.js'

/**
 * The Hono app: health, the HTTP API under /v1, the WebSocket sync endpoint and (in development)
 * the demo page. Mountable under a host's own router.
 */
export function createApp(services: Services, upgradeWebSocket?: UpgradeWebSocket<WebSocket>): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const { config } = services

  app.use('*', async (c, next) => {
    c.set('services', services)
    await next()
    // Nothing the server sends is to be read as another type than it says (a JSON error as HTML).
    c.header('x-content-type-options', 'nosniff')
  })
  app.use(
    '/v1/*',
    cors({
      origin: (origin) => (config.allowedOrigins.length === 0 ? '*' : config.allowedOrigins.includes(origin) ? origin : null),
      allowHeaders: ['Authorization', 'Content-Type'],
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['Retry-After', 'Content-Disposition'],
      maxAge: 600,
    }),
  )
  // The CDN bundle is loaded by course pages on other origins: module scripts, chunks and the wasm
  // are fetched in CORS mode, so they need the header too.
  app.use('/cdn/*', cors({ origin: (origin) => (config.allowedOrigins.length === 0 ? '*' : config.allowedOrigins.includes(origin) ? origin : null), allowMethods: ['GET'] }))
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: 2 * 1024 * 1024,
      onError: () => {
        throw new AppError(413, 'too_large', 'The request body is larger than 2 MB.')
      },
    }),
  )

  // A load balancer or an operator reads this: healthy means the database answers too.
  app.get('/healthz', async (c) => {
    const { db } = services
    try {
      await db.ping(2_000)
    } catch {
      // Anyone may call this: say what is wrong, not where the database lives.
      return c.json({ ok: false, db: db.kind, error: { code: 'database_unavailable', message: 'The database is not answering.' } }, 503)
    }
    return c.json({ ok: true, db: db.kind })
  })

  if (upgradeWebSocket) {
    const sockets = new ConnectionCounter(config.maxConnectionsPerIp, config.newConnectionsPerIpPerSecond)
    app.get(
      '/v1/sessions/:sid/sync',
      // One address may hold only so many sockets open, and open new ones only so fast (refused
      // before the upgrade, so a reconnect loop costs no token check: a browser sees the
      // connection fail and retries with backoff).
      async (c, next) => {
        const address = clientAddress(c, config.trustProxy)
        if (!sockets.allows(address)) {
          return c.json({ error: { code: 'too_many_connections', message: `Too many connections from your address (at most ${config.maxConnectionsPerIp} open, ${config.newConnectionsPerIpPerSecond} new a second).` } }, 429)
        }
        c.set('address', address)
        await next()
      },
      upgradeWebSocket((c) => {
        let conn: Connection | undefined
        const sid = c.req.param('sid') ?? ''
        const address = c.get('address')
        let open = false
        const gone = () => {
          conn?.closed()
          if (open) sockets.close(address)
          open = false
        }
        return {
          onOpen: (_evt, ws) => {
            open = true
            sockets.open(address)
            conn = services.hub.connect(sid, ws.raw!, { ip: address, userAgent: c.req.header('user-agent') ?? null })
          },
          onMessage: (evt) => conn?.message(evt.data as string | ArrayBuffer),
          onClose: gone,
          onError: gone,
        }
      }),
    )
  }
  app.route('/v1/sessions', sessionRoutes())
  app.route('/v1/sessions', participantRoutes())
  app.route('/v1/sessions', chatRoutes())
  app.route('/v1/tokens', tokenRoutes())
  app.route('/v1', invitationRoutes())
  app.route('/v1', auditRoutes())
  app.route('/v1', userRoutes())
  app.route('/v1/sessions', snapshotRoutes())
  app.route('/v1/sessions', analyticsRoutes())
  app.route('/v1', recordingRoutes())
  app.route('/v1/sessions', runRoutes())
  app.route('/v1/sessions', hiddenFileRoutes())
  app.route('/v1/assignments', assignmentRoutes())
  app.route('/v1/assignments', assignmentRoomRoutes())
  app.route('/v1', ltiServiceRoutes())
  app.route('/v1/lti', ltiPlatformRoutes())
  app.route('/v1/webhooks', webhookRoutes())
  app.route('/lti', ltiRoutes())
  app.route('/', pageRoutes(services))
  if (config.demo) app.route('/', demoRoutes(services))

  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}.` } }, 404))
  app.onError((err, c) => {
    if (err instanceof AppError) return c.json(err.toJSON(), err.status)
    if (err instanceof LimitError) return c.json({ error: { code: err.code, message: err.message } }, err.code === 'too_many_files' ? 409 : 413)
    if (isDatabaseUnavailable(err)) {
      // Not a fault in the request or the server: the database is away for a moment (a restart).
      services.log(`database unavailable on ${c.req.method} ${c.req.path}: ${err.message}`)
      c.header('retry-after', '1')
      return c.json({ error: { code: 'database_unavailable', message: 'The database is not answering just now; try again in a moment.' } }, 503)
    }
    services.log(`unexpected error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`)
    return c.json({ error: { code: 'internal', message: 'Something went wrong on the server; it has been logged.' } }, 500)
  })
  return app
}
