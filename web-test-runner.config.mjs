// Browser tests of packages/elements in Debian's Chromium (never a downloaded browser), against a
// real Session Kit server on an embedded database started for the run.
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import { createSocket } from 'node:dgram'
import { esbuildPlugin } from '@web/dev-server-esbuild'
import { chromeLauncher } from '@web/test-runner-chrome'
import { startTestServer, TEST_SECRET } from '@session-kit/server/testing'
import { mintToken } from '@session-kit/server'

const executablePath = process.env.CHROME_PATH || '/usr/bin/chromium'
const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']

/** Starts the server for the run and serves test-only helpers: its URL, tokens, a slow wasm. */
function sessionKitServer() {
  let server
  return {
    name: 'session-kit-server',
    async serverStart() {
      server = await startTestServer('pglite')
    },
    async serverStop() {
      await server?.stop()
    },
    async serve(context) {
      const url = new URL(context.request.url, 'http://localhost')
      if (url.pathname === '/__sk/server') return { body: JSON.stringify({ url: server.url, apiKey: 'test-api-key' }), type: 'json' }
      if (url.pathname === '/__sk/token') {
        const p = Object.fromEntries(url.searchParams)
        const token = await mintToken({ ...(p.sid ? { sid: p.sid } : {}), ...(p.assignment ? { assignment: p.assignment } : {}), role: p.role, sub: p.user, name: p.name || p.user }, TEST_SECRET, { ttl: p.ttl || '1h' })
        return { body: JSON.stringify({ token }), type: 'json' }
      }
    },
  }
}

/**
 * Listeners for the runner's sandbox tests to aim escapes at (GET /__sk/listener opens one; ?id=…
 * reports, &close also closes it): an HTTP server that counts every request, WebSocket upgrade and
 * TCP connection, and a UDP socket that counts STUN packets. The sandbox must send them nothing.
 */
function escapeListeners() {
  const open = new Map()
  let next = 0
  return {
    name: 'escape-listeners',
    async serverStop() {
      await Promise.all([...open.values()].map((l) => l.close()))
    },
    async serve(context) {
      const url = new URL(context.request.url, 'http://localhost')
      if (url.pathname !== '/__sk/listener') return
      const id = url.searchParams.get('id')
      if (!id) {
        const l = await listener()
        const key = String(next++)
        open.set(key, l)
        return { body: JSON.stringify({ id: key, http: l.http, stun: l.stun, turn: l.turn }), type: 'json' }
      }
      const l = open.get(id)
      if (!l) return { body: JSON.stringify({ error: 'no such listener' }), type: 'json' }
      const report = l.report()
      if (url.searchParams.has('close')) {
        open.delete(id)
        await l.close()
      }
      return { body: JSON.stringify(report), type: 'json' }
    },
  }
}

async function listener() {
  const requests = []
  let connections = 0
  let udp = 0
  // What an attacker's page would do once a preview landed on it: ask for more.
  const page = '<!doctype html><title>Sign in</title><form method="post"><input name="password"></form><script>fetch("/landed")</script>'
  const http = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    res.writeHead(200, { 'content-type': 'text/html', 'access-control-allow-origin': '*' }).end(page)
  })
  http.on('connection', () => connections++)
  http.on('upgrade', (req, socket) => {
    requests.push(`UPGRADE ${req.url}`)
    socket.destroy()
  })
  await new Promise((r) => http.listen(0, '127.0.0.1', r))
  const udpSocket = createSocket('udp4')
  udpSocket.on('message', () => udp++)
  await new Promise((r) => udpSocket.bind(0, '127.0.0.1', r))
  const port = http.address().port
  return {
    http: `http://127.0.0.1:${port}`,
    stun: `stun:127.0.0.1:${udpSocket.address().port}`,
    turn: `turn:127.0.0.1:${port}?transport=tcp`,
    report: () => ({ requests: [...requests], connections, udp }),
    close: () =>
      new Promise((r) => {
        udpSocket.close()
        http.closeAllConnections()
        http.close(() => r())
      }),
  }
}

export default {
  rootDir: '.',
  files: ['packages/elements/src/**/*.test.ts'],
  // ES modules only: without the "browser" condition, packages that ship UMD for browsers (e.g.
  // Sucrase's source-map helpers) resolve to their ESM build, which the dev server can serve as is.
  nodeResolve: { exportConditions: ['import', 'default'], browser: false },
  concurrency: 1,
  browserStartTimeout: 60000,
  testsFinishTimeout: 240000,
  testFramework: { config: { timeout: 20000 } },
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: 'packages/elements/tsconfig.json' }), sessionKitServer(), escapeListeners()],
  browsers: [chromeLauncher({ launchOptions: { executablePath, headless: true, args } })],
  middleware: [
    // A worker started with `new URL('./x.js', import.meta.url)` asks for the built name: serve the
    // TypeScript source (the esbuild plugin compiles it like any imported module).
    async (ctx, next) => {
      if (/^\/packages\/elements\/src\/.+\.js$/.test(ctx.path) && !existsSync('.' + ctx.path) && existsSync('.' + ctx.path.replace(/\.js$/, '.ts'))) {
        ctx.path = ctx.path.replace(/\.js$/, '.ts')
      }
      return next()
    },
    async (ctx, next) => {
      if (ctx.path === '/__sk/slow-automerge.wasm') {
        await new Promise((r) => setTimeout(r, Number(ctx.query.ms || 1500)))
        ctx.path = '/packages/elements/assets/automerge.wasm'
      }
      return next()
    },
  ],
}
