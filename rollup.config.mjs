// Builds the CDN bundle of @session-kit/elements: one `session-kit.js` module registering every
// element, code-split so the editor (CodeMirror) and Automerge load only where an editor is used.
// The Automerge wasm is emitted as a file and fetched by URL, never inlined.
// The npm package itself ships the unbundled ES modules that `tsc -b` writes to dist/.
import { readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import commonjs from '@rollup/plugin-commonjs'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'

// Start from an empty output folder so stale chunks never linger.
rmSync(new URL('./packages/elements/dist/cdn', import.meta.url), { recursive: true, force: true })

const require = createRequire(new URL('./packages/elements/package.json', import.meta.url))

// Files the elements fetch by URL (`new URL('…/assets/x', import.meta.url)`): emitted beside the
// chunks, never inlined. The wasm must be the one of the installed Automerge release. Pyodide's
// files (assets/pyodide/, copied by scripts/copy-wasm.mjs) load only when Python first runs.
const ASSETS = [
  { name: 'automerge.wasm', file: () => require.resolve('@automerge/automerge/automerge.wasm') },
  { name: 'runner-frame.html', file: () => new URL('./packages/elements/assets/runner-frame.html', import.meta.url) },
  { name: 'ts-transform.js', file: () => new URL('./packages/elements/assets/ts-transform.js', import.meta.url) },
  { name: 'python-worker.js', file: () => new URL('./packages/elements/assets/python-worker.js', import.meta.url) },
  ...['pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide.asm.mjs', 'pyodide.mjs', 'pyodide-lock.json', 'sizes.json'].map((name) => ({
    name: name === 'sizes.json' ? 'pyodide-sizes.json' : name,
    path: `pyodide/${name}`,
    file: () => new URL(`./packages/elements/assets/pyodide/${name}`, import.meta.url),
  })),
]

function assetUrls() {
  return {
    name: 'session-kit-assets',
    transform(code) {
      let out = code
      for (const asset of ASSETS) {
        const path = (asset.path ?? asset.name).replaceAll('.', '\\.')
        const pattern = new RegExp(`new URL\\(\\s*['"](?:\\.\\./)+assets/${path}['"]\\s*,\\s*import\\.meta\\.url\\s*\\)`)
        if (!pattern.test(out)) continue
        const ref = this.emitFile({ type: 'asset', name: asset.name, source: readFileSync(asset.file()) })
        out = out.replace(pattern, `new URL(import.meta.ROLLUP_FILE_URL_${ref})`)
      }
      return out === code ? null : { code: out, map: null }
    },
  }
}

/**
 * Workers started as `new Worker(new URL('./x.js', import.meta.url), …)` (the document worker):
 * each is emitted as an entry chunk of its own — sharing chunks with the page's modules, so
 * Automerge's code is fetched once — and the URL points at it.
 */
function workerUrls() {
  const pattern = /new URL\(\s*['"](\.\/[\w-]+-worker\.js)['"]\s*,\s*import\.meta\.url\s*\)/g
  return {
    name: 'session-kit-workers',
    async transform(code, id) {
      if (!pattern.test(code)) return null
      pattern.lastIndex = 0
      const refs = new Map()
      for (const [, spec] of code.matchAll(pattern)) {
        if (refs.has(spec)) continue
        const resolved = await this.resolve(spec, id)
        if (!resolved) this.error(`worker ${spec} imported by ${id} not found`)
        refs.set(spec, this.emitFile({ type: 'chunk', id: resolved.id, name: spec.slice(2, -3) }))
      }
      return { code: code.replace(pattern, (_m, spec) => `new URL(import.meta.ROLLUP_FILE_URL_${refs.get(spec)})`), map: null }
    },
  }
}

/** Sucrase as one ES module, for TypeScript runs (built first: the CDN bundle emits it as an asset). */
const tsTransform = {
  input: 'packages/elements/vendor/ts-transform.js',
  output: { file: 'packages/elements/assets/ts-transform.js', format: 'es' },
  plugins: [nodeResolve({ browser: true }), commonjs(), terser({ ecma: 2021, module: true })],
}

const cdn = {
  input: { 'session-kit': 'packages/elements/dist/cdn.js' },
  output: {
    dir: 'packages/elements/dist/cdn',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    assetFileNames: 'assets/[name]-[hash][extname]',
    // Merge tiny shared chunks (each file costs a request and its own gzip overhead).
    experimentalMinChunkSize: 4000,
    // The test harnesses (tens of kB of source text) load only when tests run: never merged into a
    // chunk a page needs up front.
    manualChunks: (id) => (id.endsWith('/core/dist/code-tests.js') ? 'code-tests' : undefined),
    sourcemap: true,
  },
  plugins: [nodeResolve({ browser: true, exportConditions: ['browser', 'import', 'default'] }), commonjs(), assetUrls(), workerUrls(), terser({ ecma: 2021, module: true })],
  onwarn(warning, warn) {
    if (warning.code === 'THIS_IS_UNDEFINED') return
    warn(warning)
  },
}

export default [tsTransform, cdn]
