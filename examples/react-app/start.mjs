#!/usr/bin/env node
// The React example: `node examples/react-app/start.mjs` (after `npm run build`), on PORT (default 8082).
// Bundles main.mjs with Rollup — as a host's own bundler would — and serves it with the runner's
// sandbox page as a static file. No Session Kit server: the editor is a local playground.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rollup } from 'rollup'
import commonjs from '@rollup/plugin-commonjs'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import { listen, runExample, untilReady } from '../serve.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const assets = fileURLToPath(new URL('../../packages/elements/assets/', import.meta.url))

export async function start({ port = 8082 } = {}) {
  const out = mkdtempSync(join(tmpdir(), 'session-kit-react-app-'))
  const page = readFileSync(join(here, 'index.html'))
  // The app is served once it is bundled: 503 until then.
  const pages = untilReady((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    try {
      if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page)
      if (path === '/static/runner-frame.html') return res.writeHead(200, { 'content-type': 'text/html' }).end(readFileSync(join(assets, 'runner-frame.html')))
      if (path.startsWith('/app/') && !path.includes('..')) return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(out, path.slice(5))))
    } catch {}
    res.writeHead(404).end()
  })
  const site = createServer(pages.handle)
  const stop = async () => {
    site.closeAllConnections()
    await new Promise((r) => site.close(r))
    rmSync(out, { recursive: true, force: true })
  }
  try {
    await listen(site, port)
  } catch (e) {
    rmSync(out, { recursive: true, force: true })
    throw e
  }
  try {
    const bundle = await rollup({
      input: join(here, 'main.mjs'),
      plugins: [
        { name: 'node-env', transform: (code) => (code.includes('process.env.NODE_ENV') ? code.replaceAll('process.env.NODE_ENV', '"production"') : null) },
        nodeResolve({ browser: true, exportConditions: ['browser', 'import', 'default'] }),
        commonjs(),
      ],
      onwarn: () => {},
    })
    await bundle.write({ dir: out, format: 'es' })
    await bundle.close()
  } catch (e) {
    await stop()
    throw e
  }
  pages.ready()
  return { url: `http://127.0.0.1:${site.address().port}`, close: stop }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runExample('examples/react-app/start.mjs', start, { port: ['PORT', 8082] }, ({ url }) => `Open ${url}/ — a React app using @session-kit/react.`)
}
