#!/usr/bin/env node
// The plain-HTML example: `node examples/plain-html/start.mjs` (after `npm run build`). The page is
// on PORT (default 8080), the Session Kit server on SESSION_KIT_PORT (default: any free port).
// Starts a Session Kit server (embedded PGlite), creates a session, and serves index.html from
// another origin — as a course site would — with a learner's token filled in. A real host signs
// tokens on its backend (`mintToken`, or any JWT library: see the README).
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer as httpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer, mintToken } from '@session-kit/server'
import { listen, runExample, untilReady } from '../serve.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const SECRET = process.env.SESSION_KIT_SECRET ?? 'example-secret-' + 'x'.repeat(24)
const API_KEY = 'example-api-key'

export async function start({ port = 8080, serverPort = 0, dataDir = mkdtempSync(join(tmpdir(), 'session-kit-example-')) } = {}) {
  let page // the course page, once the Session Kit server and the session exist: 503 until then
  const pages = untilReady((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page())
    if (path === '/style.css') return res.writeHead(200, { 'content-type': 'text/css' }).end(readFileSync(join(here, 'style.css')))
    res.writeHead(404).end()
  })
  const site = httpServer(pages.handle)
  await listen(site, port)
  const stopSite = () => (site.closeAllConnections(), new Promise((r) => site.close(r)))
  let server
  try {
    server = await createServer({ port: serverPort, host: '127.0.0.1', dataDir, databaseUrl: '', env: { SESSION_KIT_SECRET: SECRET, SESSION_KIT_API_KEY: API_KEY }, log: () => {} })
  } catch (e) {
    await stopSite()
    throw e
  }
  const session = 'week-3-loops'
  await fetch(`${server.url}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: session, title: 'Week 3: loops', ownerId: 'teacher', files: { 'main.js': 'for (let i = 1; i <= 5; i++) {\n  console.log(i)\n}\n' } }),
  })
  const token = await mintToken({ sid: session, role: 'learner', sub: 'student-1', name: 'Sam' }, SECRET)
  page = () => readFileSync(join(here, 'index.html'), 'utf8').replaceAll('{{SERVER}}', server.url).replaceAll('{{SESSION}}', session).replaceAll('{{TOKEN}}', token)
  pages.ready()
  return {
    url: `http://127.0.0.1:${site.address().port}`,
    server,
    async close() {
      await stopSite()
      await server.close()
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runExample('examples/plain-html/start.mjs', start, { port: ['PORT', 8080], serverPort: ['SESSION_KIT_PORT', 0] }, ({ url, server }) => `Open ${url}/ — a course page (this origin) with a Session Kit room (${server.url}, another origin).`)
}
