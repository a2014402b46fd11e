#!/usr/bin/env node
// The docs-playground example: `node examples/docs-playground/start.mjs` (after `npm run build`),
// on PORT (default 8081).
// A static documentation page with several independent playground editors: no Session Kit server
// at all — the page loads the CDN bundle and the code runs in the browser's sandbox.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { listen, runExample } from '../serve.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const CDN = normalize(join(here, '../../packages/elements/dist/cdn'))
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' }

export async function start({ port = 8081 } = {}) {
  const site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const file = path === '/' ? join(here, 'index.html') : path.startsWith('/cdn/') ? normalize(join(CDN, path.slice(5))) : normalize(join(here, path))
    if (!file.startsWith(here) && !file.startsWith(CDN)) return res.writeHead(404).end()
    let body
    try {
      body = readFileSync(file)
    } catch {
      return res.writeHead(404).end()
    }
    {
      // The page's own policy: no inline code, no network beyond this origin.
      const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }
      // Like any CDN: the runner's sandbox (an opaque origin) fetches the TypeScript transform.
      if (file.startsWith(CDN)) headers['access-control-allow-origin'] = '*'
      if (file.endsWith('index.html')) headers['content-security-policy'] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"
      res.writeHead(200, headers).end(body)
    }
  })
  await listen(site, port)
  return { url: `http://127.0.0.1:${site.address().port}`, close: () => (site.closeAllConnections(), new Promise((r) => site.close(r))) }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runExample('examples/docs-playground/start.mjs', start, { port: ['PORT', 8081] }, ({ url }) => `Open ${url}/ — a docs page with three runnable playgrounds.`)
}
