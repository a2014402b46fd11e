// Copy the Automerge wasm that matches the installed JS into packages/elements/assets, where the
// elements fetch it by URL (a .wasm from another release would fail to link).
import { copyFileSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const elements = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'elements')
const require = createRequire(join(elements, 'package.json'))
const src = require.resolve('@automerge/automerge/automerge.wasm')
mkdirSync(join(elements, 'assets'), { recursive: true })
copyFileSync(src, join(elements, 'assets', 'automerge.wasm'))
