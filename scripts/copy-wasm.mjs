// Copy the Automerge wasm that matches the installed JS into packages/elements/assets, where the
// elements fetch it by URL (a .wasm from another release would fail to link). Likewise Pyodide's
// runtime, into assets/pyodide/: the Python runner fetches these files by URL from our own server
// the first time Python runs, never from a third-party CDN.
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const elements = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'elements')
const require = createRequire(join(elements, 'package.json'))

/** Pyodide's files the Python runner loads (see src/python-runner.ts). */
const PYODIDE_FILES = ['pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide.asm.mjs', 'pyodide.mjs', 'pyodide-lock.json']

/** Copy unless the target already has the same size and is not older (13 MB on every build adds up). */
function copy(src, dest) {
  try {
    const [a, b] = [statSync(src), statSync(dest)]
    if (a.size === b.size && b.mtimeMs >= a.mtimeMs) return
  } catch {}
  copyFileSync(src, dest)
}

mkdirSync(join(elements, 'assets', 'pyodide'), { recursive: true })
copy(require.resolve('@automerge/automerge/automerge.wasm'), join(elements, 'assets', 'automerge.wasm'))
const pyodide = dirname(require.resolve('pyodide/package.json'))
for (const name of PYODIDE_FILES) copy(join(pyodide, name), join(elements, 'assets', 'pyodide', name))

// Their sizes, for the download's progress ("2.1 of 13.5 MB"): a server that compresses them sends
// the compressed length, and a cross-origin page cannot tell that it did.
const sizes = Object.fromEntries([...PYODIDE_FILES, '../python-worker.js'].map((name) => [name.replace('../', ''), statSync(join(elements, 'assets', 'pyodide', name)).size]))
const sizesFile = join(elements, 'assets', 'pyodide', 'sizes.json')
const text = JSON.stringify(sizes) + '\n'
let old = ''
try {
  old = readFileSync(sizesFile, 'utf8')
} catch {}
if (old !== text) writeFileSync(sizesFile, text)
