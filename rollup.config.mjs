// Builds the CDN bundle of @session-kit/elements: one `session-kit.js` module registering every
// element, code-split so the editor (CodeMirror) and Automerge load only where an editor is used.
// The Automerge wasm is emitted as a file and fetched by URL, never inlined.
// The npm package itself ships the unbundled ES modules that `tsc -b` writes to dist/.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'

const require = createRequire(new URL('./packages/elements/package.json', import.meta.url))
const WASM_REF = /new URL\(\s*['"]\.\.\/\.\.\/assets\/automerge\.wasm['"]\s*,\s*import\.meta\.url\s*\)/

/** Emit automerge.wasm beside the chunks and point the loader at it. */
function automergeWasm() {
  return {
    name: 'session-kit-automerge-wasm',
    transform(code, id) {
      if (!WASM_REF.test(code)) return null
      const ref = this.emitFile({ type: 'asset', name: 'automerge.wasm', source: readFileSync(require.resolve('@automerge/automerge/automerge.wasm')) })
      return { code: code.replace(WASM_REF, `new URL(import.meta.ROLLUP_FILE_URL_${ref})`), map: null }
    },
  }
}

export default {
  input: { 'session-kit': 'packages/elements/dist/session-kit.js' },
  output: {
    dir: 'packages/elements/dist/cdn',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    assetFileNames: 'assets/[name]-[hash][extname]',
    sourcemap: true,
  },
  plugins: [nodeResolve({ browser: true, exportConditions: ['browser', 'import', 'default'] }), automergeWasm(), terser({ ecma: 2021, module: true })],
  onwarn(warning, warn) {
    if (warning.code === 'THIS_IS_UNDEFINED') return
    warn(warning)
  },
}
