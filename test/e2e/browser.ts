import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inflateSync } from 'node:zlib'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'

export const CHROME_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']

/** Debian's Chromium driven by playwright-core (never a downloaded browser). */
export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROME_PATH || '/usr/bin/chromium', args: CHROME_ARGS })
}

/** Collect what a page reports: console errors, CSP violations, uncaught errors. */
export async function watch(page: Page) {
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket connection/.test(m.text())) problems.push(`console: ${m.text()}`)
  })
  await page.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`)),
  )
  return problems
}

const CDN = fileURLToPath(new URL('../../packages/elements/dist/cdn/', import.meta.url))
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json', '.html': 'text/html' }

/** A host page server of our own (another origin than the Session Kit server), like an LMS. */
export async function hostPageServer(pages: Record<string, () => string>, cdnDir = CDN): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (pages[path]) {
      res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src *; img-src 'self' data:" })
      return res.end(pages[path]!())
    }
    if (path.startsWith('/cdn/')) {
      const file = normalize(join(cdnDir, path.slice(5)))
      if (file.startsWith(normalize(cdnDir))) {
        try {
          const data = await readFile(file)
          res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
          return res.end(data)
        } catch {}
      }
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) }
}

/** The code in a `<session-editor>`, through its public `value` property. */
export const editorValue = (editor: Locator) => editor.evaluate((e) => String((e as unknown as { value?: string }).value ?? ''))

/** Distinct byte values in a PNG's pixel data: a blank (one-colour) screenshot has only a handful. */
export function distinctPixelBytes(png: Buffer): number {
  const idat: Buffer[] = []
  for (let i = 8; i < png.length; ) {
    const len = png.readUInt32BE(i)
    if (png.toString('latin1', i + 4, i + 8) === 'IDAT') idat.push(png.subarray(i + 8, i + 8 + len))
    i += 12 + len
  }
  return new Set(inflateSync(Buffer.concat(idat))).size
}
