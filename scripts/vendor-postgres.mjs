#!/usr/bin/env node
// Copy postgres.js, as patches/postgres+<version>.patch left it in node_modules, into
// packages/server/vendor/postgres/, where the server imports it from (package.json "imports":
// `#postgres`). The patch fixes crashes of the process when PostgreSQL restarts (read its header);
// patch-package applies it only to this repository's node_modules, so a server installed from npm
// would otherwise run the unpatched release. The package ships this copy (its "files"), and our
// tests and `npm start` run the very same files.
//
// Why a copy and not `bundledDependencies`: npm packs a bundled dependency from the package's own
// node_modules, and in a workspace npm hoists it to the root's, so `npm pack` of the server
// silently bundles nothing (npm/cli#3466, still open with npm 11).
//
// It refuses to copy a driver the patch was not applied to (e.g. after `npm install
// --ignore-scripts`), or a release the patch was not written for. It writes only files whose
// content changed, so an incremental `tsc -b` stays incremental.
//
//   node scripts/vendor-postgres.mjs
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Where the server's copy lives (package.json "imports" and "files" name it). */
export const vendorDir = (root = ROOT) => join(root, 'packages', 'server', 'vendor', 'postgres')

/** The patch this repository applies to postgres.js (one, for the version it pins). */
export function patchFile(root = ROOT) {
  const names = readdirSync(join(root, 'patches')).filter((n) => /^postgres\+[\d.]+\.patch$/.test(n))
  if (names.length !== 1) throw new Error(`expected one patches/postgres+<version>.patch, found ${names.length ? names.join(', ') : 'none'}`)
  return join(root, 'patches', names[0])
}

/**
 * The lines a patch-package patch adds, per file of the package (`src/connection.js`), blank and
 * comment-only lines left out: the marks by which a copy of the driver is known to carry the fix.
 * @param {string} patch
 * @returns {Map<string, string[]>}
 */
export function addedLines(patch) {
  const files = new Map()
  let current
  for (const line of patch.split('\n')) {
    const target = /^\+\+\+ b\/node_modules\/postgres\/(.+)$/.exec(line)
    if (target) files.set(target[1], (current = []))
    else if (current && line.startsWith('+') && !line.startsWith('+++')) {
      const text = line.slice(1).trim()
      if (text && !text.startsWith('//')) current.push(text)
    }
  }
  return files
}

/**
 * What of `lines` (a patch's additions to one file) `text` lacks, in order (empty when the fix is there).
 * @param {string} text
 * @param {string[]} lines
 */
export function missingLines(text, lines) {
  const missing = []
  let at = 0
  for (const line of lines) {
    const found = text.indexOf(line, at)
    if (found < 0) missing.push(line)
    else at = found + line.length
  }
  return missing
}

function installedDriver(root) {
  for (const dir of [join(root, 'packages', 'server', 'node_modules', 'postgres'), join(root, 'node_modules', 'postgres')]) if (existsSync(join(dir, 'package.json'))) return dir
  throw new Error('postgres.js is not installed (node_modules/postgres): run npm install')
}

// postgres.js is released under the Unlicense (its package.json "license"); the npm package has no
// licence file of its own, so the copy carries the licence's text.
const UNLICENSE = `This is free and unencumbered software released into the public domain.

Anyone is free to copy, modify, publish, use, compile, sell, or
distribute this software, either in source code form or as a compiled
binary, for any purpose, commercial or non-commercial, and by any
means.

In jurisdictions that recognize copyright laws, the author or authors
of this software dedicate any and all copyright interest in the
software to the public domain. We make this dedication for the benefit
of the public at large and to the detriment of our heirs and
successors. We intend this dedication to be an overt act of
relinquishment in perpetuity of all present and future rights to this
software under copyright law.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
IN NO EVENT SHALL THE AUTHORS BE LIABLE FOR ANY CLAIM, DAMAGES OR
OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE,
ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR
OTHER DEALINGS IN THE SOFTWARE.

For more information, please refer to <https://unlicense.org>
`

/**
 * Write the copy; returns the files it changed (relative to the copy).
 * @param {string} [root]
 */
export function vendorPostgres(root = ROOT) {
  const from = installedDriver(root)
  const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'))
  const patchPath = patchFile(root)
  const patchName = relative(join(root, 'patches'), patchPath)
  const wanted = /^postgres\+([\d.]+)\.patch$/.exec(patchName)[1]
  if (pkg.version !== wanted) throw new Error(`postgres ${pkg.version} is installed, but ${patchName} was written for ${wanted}: update the patch (npx patch-package postgres) and the server's devDependency together`)
  const patch = readFileSync(patchPath, 'utf8')
  const marks = addedLines(patch)
  for (const [file, lines] of marks) {
    const missing = missingLines(readFileSync(join(from, file), 'utf8'), lines)
    if (missing.length) throw new Error(`node_modules/postgres/${file} lacks the fix of ${patchName} (first missing line: ${missing[0]}): run npx patch-package, then build again`)
  }

  const out = vendorDir(root)
  /** @type {Map<string, string>} */
  const files = new Map()
  for (const name of readdirSync(join(from, 'src')).filter((n) => n.endsWith('.js'))) files.set(`src/${name}`, readFileSync(join(from, 'src', name), 'utf8'))
  // The typings as postgres.js ships them: a CommonJS declaration (`export =`) beside a
  // package.json without "type", which is how TypeScript knows to read it so.
  files.set('types/index.d.ts', readFileSync(join(from, 'types', 'index.d.ts'), 'utf8'))
  files.set('types/package.json', readFileSync(join(from, 'types', 'package.json'), 'utf8'))
  files.set('package.json', JSON.stringify({ name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, homepage: pkg.homepage, repository: pkg.repository, private: true, type: 'module' }, null, 2) + '\n')
  files.set('LICENSE', UNLICENSE)
  files.set(patchName, patch)
  const header = patch.split('\n').filter((l) => l.startsWith('# ')).map((l) => l.slice(2)).join('\n')
  files.set(
    'README.md',
    `# postgres.js ${pkg.version}, patched

A copy of [postgres.js](${pkg.homepage}) ${pkg.version} (${pkg.license}, see LICENSE) with
[${patchName}](${patchName}) applied. \`@session-kit/server\` imports its PostgreSQL client from
here (package.json \`"imports"\`: \`#postgres\`) instead of depending on the \`postgres\` package,
because the release crashes the process in these cases:

${header}

Generated by scripts/vendor-postgres.mjs from the patched node_modules/postgres; do not edit.
`,
  )

  const changed = []
  for (const [path, text] of files) {
    const target = join(out, path)
    let old
    try {
      old = readFileSync(target, 'utf8')
    } catch {}
    if (old === text) continue
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, text)
    changed.push(path)
  }
  // Whatever an older copy had that this one does not (a file the new release dropped).
  const walk = (dir) => readdirSync(join(out, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
  for (const path of walk('')) {
    if (!files.has(path.split('\\').join('/'))) {
      rmSync(join(out, path))
      changed.push(path)
    }
  }
  return changed
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const changed = vendorPostgres()
    if (changed.length) console.log(`[session-kit] postgres.js (patched) copied into ${relative(ROOT, vendorDir())}: ${changed.join(', ')}`)
  } catch (e) {
    console.error(`[session-kit] cannot vendor postgres.js: ${e.message}`)
    process.exit(1)
  }
}
