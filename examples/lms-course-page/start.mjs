#!/usr/bin/env node
// The LMS example: `node examples/lms-course-page/start.mjs` (after `npm run build`).
// A course site (this file's tiny host backend) and a Session Kit server on another origin. The
// host knows its users and their roles and signs a room token for whoever opens the course page —
// the only thing a host must do. Invitations sent from the page link back to the course page,
// where <session-room> shows the accept card. Without SMTP, mail waits in the outbox (/outbox).
// The course site is on PORT (default 8083), the Session Kit server on SESSION_KIT_PORT (default:
// any free port).
import { mkdtempSync } from 'node:fs'
import { createServer as httpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer, mintToken } from '@session-kit/server'
import { listen, runExample, untilReady } from '../serve.mjs'

const SECRET = process.env.SESSION_KIT_SECRET ?? 'lms-example-secret-' + 'x'.repeat(24)
const API_KEY = 'lms-example-api-key'
const COURSE = { session: 'cs101-week4', title: 'CS101 · Week 4: functions' }
/** The week's assignment: every learner gets their own room from its starter files. */
const ASSIGNMENT = {
  id: 'cs101-week4-greet',
  title: 'Greet everyone',
  instructions: 'Write `greet(name)` so that it **returns** a greeting:\n\n- `greet("Ada")` is `"Hello, Ada!"`\n- an empty name greets `"Hello, world!"`\n\nPress **Check on the server** to see the result that counts: it runs the visible tests and a hidden one.',
  language: 'javascript',
  files: { 'main.js': 'function greet(name) {\n  // your code here\n}\n' },
  tests: {
    visible: { 'main.test.js': "test('greets Ada', () => {\n  expect(greet('Ada')).toBe('Hello, Ada!')\n})\n" },
    hidden: { 'hidden.test.js': "test('greets the world', () => {\n  expect(greet('')).toBe('Hello, world!')\n})\n" },
  },
  submitPolicy: 'lock',
}
/** The course site's own users (a real LMS has its accounts and enrolments). */
export const USERS = {
  ada: { name: 'Ada Lovelace', role: 'instructor' },
  grace: { name: 'Grace Hopper', role: 'learner' },
  linus: { name: 'Linus (guest reviewer)', role: 'observer' },
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function layout(title, sk, body) {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${esc(title)}</title>
    <script type="module" src="${sk}/cdn/session-kit.js"></script>
    <link rel="stylesheet" href="/course.css" />
  </head>
  <body>
    <header><a href="/">Course site</a> · <a href="/outbox">Outbox</a></header>
    <main>${body}</main>
  </body>
</html>`
}

export async function start({ port = 8083, serverPort = 0, dataDir = mkdtempSync(join(tmpdir(), 'session-kit-lms-')) } = {}) {
  let sk // the Session Kit server, started once the course site knows its own address
  // Until the Session Kit server and the course session exist, the site answers 503.
  const pages = untilReady(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const html = (status, body) =>
      res
        .writeHead(status, {
          'content-type': 'text/html; charset=utf-8',
          // The course site's policy: scripts, frames and connections only to itself and Session Kit.
          'content-security-policy': `default-src 'self'; script-src 'self' ${sk.url} 'wasm-unsafe-eval'; worker-src blob: ${sk.url}; connect-src 'self' ${sk.url} ${sk.url.replace('http', 'ws')}; frame-src ${sk.url}; style-src 'self'; img-src 'self' data:`,
        })
        .end(body)
    if (url.pathname === '/course.css') return res.writeHead(200, { 'content-type': 'text/css' }).end(CSS)
    if (url.pathname === '/') {
      return html(
        200,
        layout(
          'Course site',
          sk.url,
          `<h1>${esc(COURSE.title)}</h1><p>Sign in as:</p><ul>${Object.entries(USERS).map(([id, u]) => `<li><a href="/course?as=${id}">${esc(u.name)}</a> (${u.role})</li>`).join('')}</ul>
          <h2>Assignment: ${esc(ASSIGNMENT.title)}</h2><ul><li><a href="/assignment?as=grace">Grace's assignment page</a> (learner)</li><li><a href="/classroom?as=ada">Ada's class overview</a> (instructor)</li></ul>`,
        ),
      )
    }
    if (url.pathname === '/outbox') {
      const mail = await sk.db.sql`select to_address as "to", subject, link from outbox order by id desc limit 50`
      return html(200, layout('Outbox', sk.url, `<h1>Outbox</h1><p>Invitation mail (this example has no SMTP server).</p><ul class="outbox">${mail.map((m) => `<li><strong>${esc(m.to)}</strong> — ${esc(m.subject)} — <a href="${esc(m.link)}">${esc(m.link)}</a></li>`).join('') || '<li><em>No mail yet.</em></li>'}</ul>`))
    }
    // The assignment: the host signs a token naming the assignment (not a session) for this user.
    if (url.pathname === '/assignment' || url.pathname === '/classroom') {
      const id = url.searchParams.get('as')
      const user = USERS[id]
      const wanted = url.pathname === '/assignment' ? 'learner' : 'instructor'
      if (!user || user.role !== wanted) return html(403, layout(ASSIGNMENT.title, sk.url, `<h1>${esc(ASSIGNMENT.title)}</h1><p>This page is for ${wanted}s: <a href="/">sign in</a>.</p>`))
      const token = await mintToken({ assignment: ASSIGNMENT.id, sub: id, name: user.name, role: user.role }, SECRET, { ttl: '2h' })
      const tag = wanted === 'learner' ? 'session-assignment' : 'session-classroom'
      return html(200, layout(ASSIGNMENT.title, sk.url, `<p>Signed in as ${esc(user.name)} (${user.role}).</p><${tag} server="${sk.url}" assignment="${ASSIGNMENT.id}" token="${token}"></${tag}>`))
    }
    if (url.pathname === '/course') {
      // An invitee arrives with ?invite=…: the room shows who invited them and as what.
      if (url.searchParams.get('invite')) {
        return html(200, layout(COURSE.title, sk.url, `<h1>${esc(COURSE.title)}</h1><session-room server="${sk.url}" session="${COURSE.session}" invite="${esc(url.searchParams.get('invite'))}"><session-editor file="main.js"></session-editor><session-runner file="main.js"></session-runner></session-room>`))
      }
      const id = url.searchParams.get('as')
      const user = USERS[id]
      // Not signed in: a guest who accepted an invitation on this device is back in the room (it
      // keeps their token, and the link's ?invite= is gone from the address); anyone else signs in.
      if (!user) {
        return html(200, layout(COURSE.title, sk.url, `<h1>${esc(COURSE.title)}</h1><p>Course members: <a href="/">sign in</a>.</p><session-room server="${sk.url}" session="${COURSE.session}"><session-editor file="main.js"></session-editor><session-runner file="main.js"></session-runner></session-room>`))
      }
      // The host's one job: sign a token for this user, this session and their role.
      const token = await mintToken({ sid: COURSE.session, sub: id, name: user.name, role: user.role }, SECRET, { ttl: '2h' })
      const instructorTools =
        user.role === 'instructor'
          ? `<section><h2>Invite</h2><session-invitations></session-invitations></section><section><h2>People</h2><session-moderation></session-moderation></section><section><h2>How it's going</h2><session-analytics></session-analytics></section><section><h2>Snapshots</h2><session-snapshots></session-snapshots></section><section><h2>Recordings</h2><session-recording></session-recording></section>`
          : `<section><h2>People</h2><session-participants></session-participants></section>`
      return html(
        200,
        layout(
          COURSE.title,
          sk.url,
          `<h1>${esc(COURSE.title)}</h1><p>Signed in as ${esc(user.name)} (${user.role}). Write <code>greet(name)</code> so it returns a greeting, then run it.</p>
          <session-room server="${sk.url}" session="${COURSE.session}" token="${token}">
            <div class="grid"><div><session-editor file="main.js"></session-editor><session-runner file="main.js"></session-runner></div><aside><session-chat></session-chat></aside></div>
            ${instructorTools}
          </session-room>`,
        ),
      )
    }
    res.writeHead(404).end()
  })
  const site = httpServer(pages.handle)
  await listen(site, port)
  const siteUrl = `http://127.0.0.1:${site.address().port}`
  const stopSite = () => (site.closeAllConnections(), new Promise((r) => site.close(r)))
  try {
    sk = await createServer({
      port: serverPort,
      host: '127.0.0.1',
      dataDir,
      databaseUrl: '',
      env: { SESSION_KIT_SECRET: SECRET, SESSION_KIT_API_KEY: API_KEY, SESSION_KIT_INVITE_URL: `${siteUrl}/course`, SESSION_KIT_ALLOWED_ORIGINS: siteUrl },
      log: () => {},
    })
  } catch (e) {
    await stopSite()
    throw e
  }
  await fetch(`${sk.url}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: COURSE.session, title: COURSE.title, ownerId: 'ada', files: { 'main.js': 'function greet(name) {\n  // your code here\n}\n\nconsole.log(greet("class"))\n' } }),
  })
  await fetch(`${sk.url}/v1/assignments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...ASSIGNMENT, ownerId: 'ada' }),
  })
  pages.ready()
  return {
    url: siteUrl,
    server: sk,
    async close() {
      await stopSite()
      await sk.close()
    },
  }
}

const CSS = `body { font-family: system-ui, sans-serif; margin: 0; background: #fafafa; color: #1f2328 }
header { padding: .6rem 1rem; background: #1f2937; color: #fff } header a { color: #fff }
main { max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem }
.grid { display: grid; grid-template-columns: 2fr 1fr; gap: 1rem } @media (max-width: 50rem) { .grid { grid-template-columns: 1fr } }
session-editor { height: 14rem } section { margin-top: 1.5rem }`

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runExample('examples/lms-course-page/start.mjs', start, { port: ['PORT', 8083], serverPort: ['SESSION_KIT_PORT', 0] }, ({ url }) => `Open ${url}/ — sign in as the instructor, the learner or the observer (use three browser profiles).`)
}
