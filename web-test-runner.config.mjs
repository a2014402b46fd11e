// Browser tests of packages/elements in Debian's Chromium (never a downloaded browser), against a
// real Session Kit server on an embedded database started for the run.
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
        const token = await mintToken({ sid: p.sid, role: p.role, sub: p.user, name: p.name || p.user }, TEST_SECRET, { ttl: p.ttl || '1h' })
        return { body: JSON.stringify({ token }), type: 'json' }
      }
    },
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
  plugins: [esbuildPlugin({ ts: true, target: 'es2021', tsconfig: 'packages/elements/tsconfig.json' }), sessionKitServer()],
  browsers: [chromeLauncher({ launchOptions: { executablePath, headless: true, args } })],
  middleware: [
    async (ctx, next) => {
      if (ctx.path === '/__sk/slow-automerge.wasm') {
        await new Promise((r) => setTimeout(r, Number(ctx.query.ms || 1500)))
        ctx.path = '/packages/elements/assets/automerge.wasm'
      }
      return next()
    },
  ],
}
