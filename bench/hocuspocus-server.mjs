// Hocuspocus in a process of its own, the reference the sync benchmark compares Session Kit with.
// Configured for its best case: documents live in memory only (no persistence extension, so no
// database write on any path), no authentication hook (every token is accepted at connect), and
// the library's defaults for everything else (debounce 2 s / max 10 s, ping timeout 30 s, Yjs
// garbage collection on). Each document starts with the same starter text the Session Kit rooms
// get, as a Y.Text 'main.js' in a Y.Map 'files'.
//
//   node bench/hocuspocus-server.mjs --port 1234 --starter-size 10000
import { parseArgs } from 'node:util'
import { Server } from '@hocuspocus/server'
import * as Y from 'yjs'
import { starterText } from './lib.mjs'

const { values } = parseArgs({ options: { port: { type: 'string' }, 'starter-size': { type: 'string', default: '0' } } })
const starter = starterText(Number(values['starter-size']))

const server = new Server({
  port: Number(values.port),
  address: '127.0.0.1',
  quiet: true,
  async onLoadDocument({ document }) {
    const files = document.getMap('files')
    if (!files.has('main.js')) files.set('main.js', new Y.Text(starter))
  },
})
await server.listen()
