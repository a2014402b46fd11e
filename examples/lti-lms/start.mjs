#!/usr/bin/env node
// The LTI example: `node examples/lti-lms/start.mjs` (after `npm run build`). A simulated LMS (on
// localhost, another site) launches Session Kit (on 127.0.0.1) as an LTI 1.3 tool inside its
// course page, as Canvas or Moodle would: the OIDC login, the signed launch, platform storage
// instead of a third-party cookie, Deep Linking. The course page is on PORT (default 8084), the
// Session Kit server on SESSION_KIT_PORT (default: any free port).
import { mkdtempSync } from 'node:fs'
import { createServer as httpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createServer } from '@session-kit/server'
import { SimulatedPlatform } from '@session-kit/server/testing'
import { listen, runExample, untilReady } from '../serve.mjs'

const SECRET = process.env.SESSION_KIT_SECRET ?? 'example-secret-' + 'x'.repeat(24)
const API_KEY = 'example-api-key'
const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership'

/** The course's people, with the roles an LMS sends for them. */
const PEOPLE = [
  { hint: 'ada', sub: 'lms-ada', name: 'Ada Lovelace', email: 'ada@school.example', roles: [`${MEMBERSHIP}#Instructor`], says: 'instructor' },
  { hint: 'grace', sub: 'lms-grace', name: 'Grace Hopper', email: 'grace@school.example', roles: [`${MEMBERSHIP}#Learner`], says: 'learner' },
  { hint: 'mo', sub: 'lms-mo', name: 'Mo (a parent)', roles: [`${MEMBERSHIP}#Mentor`], says: 'mentor: observes' },
  { hint: 'view', sub: 'lms-view', name: 'Test Student', roles: [`${MEMBERSHIP}#Learner`, 'http://purl.imsglobal.org/vocab/lti/system/person#TestUser'], says: 'student view: a learner left out of analytics' },
]

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])

export async function start({ port = 8084, serverPort = 0, dataDir = mkdtempSync(join(tmpdir(), 'session-kit-example-')) } = {}) {
  let page // the course's front page, once both servers exist: 503 until then
  const pages = untilReady((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page())
    res.writeHead(404).end()
  })
  const site = httpServer(pages.handle)
  await listen(site, port)
  const stopSite = () => (site.closeAllConnections(), new Promise((r) => site.close(r)))
  let server
  let lms
  try {
    server = await createServer({ port: serverPort, host: '127.0.0.1', dataDir, databaseUrl: '', env: { SESSION_KIT_SECRET: SECRET, SESSION_KIT_API_KEY: API_KEY }, log: () => {} })
    lms = await SimulatedPlatform.start({ host: 'localhost' })
  } catch (e) {
    await server?.close()
    await stopSite()
    throw e
  }
  // What an administrator does once: tell the LMS where the tool is, and register the LMS with the tool.
  lms.toolLoginUrl = `${server.url}/lti/login`
  lms.toolLaunchUrl = `${server.url}/lti/launch`
  lms.toolJwksUrl = `${server.url}/lti/jwks`
  const registered = await fetch(`${server.url}/v1/lti/platforms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ issuer: lms.issuer, clientId: lms.clientId, name: 'Simulated LMS', authUrl: lms.authUrl, tokenUrl: lms.tokenUrl, jwksUrl: lms.jwksUrl, deploymentIds: [lms.deploymentId] }),
  })
  if (!registered.ok) throw new Error(`registering the LMS failed: ${registered.status} ${await registered.text()}`)
  for (const p of PEOPLE) lms.addUser(p.hint, { sub: p.sub, name: p.name, email: p.email, roles: p.roles })
  const course = { contextId: 'cs101', contextTitle: 'CS 101: Programming' }
  const room = lms.message({ kind: 'resource', resourceLinkId: 'week-1-live', title: 'Week 1: live coding', ...course })
  const addActivity = lms.message({ kind: 'deep-linking', ...course })
  const link = (hint, message, storage) => lms.launchPageUrl(hint, message, storage ? { storageTarget: '_parent' } : {})

  page = () => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Simulated LMS — ${escape(course.contextTitle)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem">
  <h1>${escape(course.contextTitle)}</h1>
  <p>A simulated LMS at <code>${escape(lms.url)}</code> with Session Kit (<code>${escape(server.url)}</code>) registered as an LTI 1.3 tool. Each link opens the LMS's activity page, which launches Session Kit in a frame: the OIDC login, the signed launch, and the sign-in kept in the LMS's platform storage (no third-party cookie).</p>
  <h2>Week 1: live coding</h2>
  <ul>
    ${PEOPLE.map((p) => `<li><a href="${escape(link(p.hint, room, true))}">Open as ${escape(p.name)}</a> (${escape(p.says)})</li>`).join('\n    ')}
  </ul>
  <p><a href="${escape(link('grace', room, false))}">Open as Grace Hopper without platform storage</a> (the cookie path: where the browser blocks third-party cookies, the frame offers a new window)</p>
  <h2>Add an activity</h2>
  <p><a href="${escape(link('ada', addActivity, true))}">Add Session Kit to the course as Ada Lovelace</a> (Deep Linking: pick a live room or an assignment with tests)</p>
</body>
</html>`
  pages.ready()
  return {
    url: `http://127.0.0.1:${site.address().port}`,
    server,
    lms,
    /** The LMS's activity page for one person: `as` is ada, grace, mo or view. */
    launchUrl: (as, opts = {}) => link(as, opts.deepLinking ? addActivity : room, opts.storage !== false),
    async close() {
      await stopSite()
      await lms.close()
      await server.close()
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runExample('examples/lti-lms/start.mjs', start, { port: ['PORT', 8084], serverPort: ['SESSION_KIT_PORT', 0] }, ({ url, lms, server }) => `Open ${url}/ — a course page of a simulated LMS (${lms.url}) that launches Session Kit (${server.url}) over LTI 1.3.`)
}
