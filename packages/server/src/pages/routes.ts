import { readFile, stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hono, type Context } from 'hono'
import type { AppEnv, Services } from '../http/context.js'
import { ICON_SVG } from './icon.js'
import { invitePage, playerPage } from './page.js'

const here = fileURLToPath(new URL('.', import.meta.url))
/** The elements' browser bundle (built by `npm run build`) and the demo's own script. */
const CDN_DIR = normalize(join(here, '../../../elements/dist/cdn'))
const ASSETS_DIR = normalize(join(here, '../../demo-assets'))

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
}

const gzip = promisify(gzipCb)
/** Gzipped files by path, made once per file version: the 3.6 MB wasm goes out as 1.1 MB. */
const gzipped = new Map<string, { mtimeMs: number; body: Promise<Buffer> }>()

async function sendFile(root: string, rel: string, immutable: boolean, acceptEncoding = ''): Promise<Response> {
  const path = normalize(join(root, rel))
  if (!path.startsWith(root + sep)) return new Response('Not found', { status: 404 })
  try {
    const { mtimeMs } = await stat(path)
    const headers: Record<string, string> = {
      'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary: 'accept-encoding',
    }
    if (!/\bgzip\b/.test(acceptEncoding)) return new Response(new Uint8Array(await readFile(path)), { headers })
    let cached = gzipped.get(path)
    if (!cached || cached.mtimeMs !== mtimeMs) {
      cached = { mtimeMs, body: readFile(path).then((data) => gzip(data)) }
      gzipped.set(path, cached)
      cached.body.catch(() => gzipped.delete(path))
    }
    return new Response(new Uint8Array(await cached.body), { headers: { ...headers, 'content-encoding': 'gzip' } })
  } catch {
    return new Response('Not found', { status: 404 })
  }
}

const pageCsp = (frameAncestors: string) =>
  `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors ${frameAncestors}`

/**
 * What every page this server serves says about itself: its policy (and who may frame it), never
 * cached (they carry tokens or invitation state), and no Referer — an invitation link or a
 * recording's address must not leak to the sites a page links to.
 */
export function pageHeaders(c: Context, frameAncestors: string) {
  c.header('content-security-policy', pageCsp(frameAncestors))
  c.header('cache-control', 'no-store')
  c.header('referrer-policy', 'no-referrer')
}

/**
 * Pages the server serves to people without a host page: where invitation links land by default
 * (SESSION_KIT_PUBLIC_URL/invite?invite=…: a room that shows the accept/decline card, then the code
 * and the chat — hosts usually point SESSION_KIT_INVITE_URL at their own course page instead), and
 * the share links of public recordings (/recordings/:id).
 */
export function pageRoutes(services: Services) {
  const r = new Hono<AppEnv>()
  const { config } = services
  const frameAncestors = config.allowedOrigins.length ? `'self' ${config.allowedOrigins.join(' ')}` : '*'
  r.get('/invite', async (c) => {
    pageHeaders(c, frameAncestors)
    return c.html(invitePage({ origin: new URL(c.req.url).origin, built: await bundleBuilt() }))
  })
  // The share link of a public recording: a page that plays it to anyone.
  r.get('/recordings/:id', async (c) => {
    pageHeaders(c, frameAncestors)
    return c.html(playerPage({ origin: new URL(c.req.url).origin, recording: c.req.param('id'), built: await bundleBuilt() }))
  })
  // Chunks and assets carry a hash of their content in their names, so a returning visitor's browser
  // keeps them (and its compiled wasm) for good; the entry keeps its name and is asked for each time.
  r.get('/cdn/*', (c) => {
    const rel = c.req.path.slice('/cdn/'.length)
    return sendFile(CDN_DIR, rel, /^(chunks|assets)\//.test(rel), c.req.header('accept-encoding'))
  })
  // Browsers ask for it on whatever they show from this server (a /cdn file opened in a tab too).
  r.get('/favicon.ico', () => new Response(ICON_SVG, { headers: { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' } }))
  r.get('/demo/*', (c) => sendFile(ASSETS_DIR, c.req.path.slice('/demo/'.length), false, c.req.header('accept-encoding')))
  return r
}

/** Whether the elements' browser bundle is there to load (`npm run build`). */
export async function bundleBuilt(): Promise<boolean> {
  try {
    await readFile(join(CDN_DIR, 'session-kit.js'))
    return true
  } catch {
    return false
  }
}
