// Hocuspocus in a process of its own, the reference the sync benchmark compares Session Kit with.
// Configured for its best case: documents live in memory only (no persistence extension, so no
// database write on any path), no authentication hook (every token is accepted at connect), and
// the library's defaults for everything else (debounce 2 s / max 10 s, ping timeout 30 s, Yjs
// garbage collection on). Each document starts with the same starter text the Session Kit rooms
// get, as a Y.Text 'main.js' in a Y.Map 'files'.
//
// With `--trace` (and an IPC channel) it also keeps, per applied update, when its frame was
// received and when its relay to the document's other connections had been written, and answers
// `{probe:'trace'}` with them as bench/probe.mjs does for Session Kit: `[{receivedAt, relayedAt}]`
// in performance.timeOrigin + performance.now() ms. It costs two clock reads per update.
//
//   node bench/hocuspocus-server.mjs --port 1234 --starter-size 10000 [--trace]
import { parseArgs } from 'node:util'
import { Server } from '@hocuspocus/server'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { starterText } from './lib.mjs'

const { values } = parseArgs({ options: { port: { type: 'string' }, 'starter-size': { type: 'string', default: '0' }, trace: { type: 'boolean', default: false } } })
const starter = starterText(Number(values['starter-size']))
const now = () => performance.timeOrigin + performance.now()

// Receive times of sync-update frames per connection, in order; an applied update whose origin is
// that connection takes the oldest. (Hocuspocus applies a connection's frames in order.)
const received = new WeakMap()
let trace = []
const SYNC = 0
const SYNC_REPLY = 4
const YJS_UPDATE = 2

const server = new Server({
  port: Number(values.port),
  address: '127.0.0.1',
  quiet: true,
  async onLoadDocument({ document }) {
    const files = document.getMap('files')
    if (!files.has('main.js')) files.set('main.js', new Y.Text(starter))
  },
  ...(values.trace && {
    async beforeHandleMessage({ connection, update }) {
      const at = now()
      try {
        const d = decoding.createDecoder(update)
        decoding.readVarString(d)
        const type = decoding.readVarUint(d)
        if ((type !== SYNC && type !== SYNC_REPLY) || decoding.readVarUint(d) !== YJS_UPDATE) return
      } catch {
        return
      }
      let q = received.get(connection)
      if (!q) received.set(connection, (q = []))
      q.push(at)
    },
    // Registered after Hocuspocus's own update handler, which writes the relay to every other
    // connection synchronously: this one runs once those writes were made.
    async afterLoadDocument({ document }) {
      document.on('update', (_update, origin) => {
        const receivedAt = received.get(origin)?.shift()
        if (receivedAt !== undefined) trace.push({ receivedAt, relayedAt: now() })
      })
    },
  }),
})
await server.listen()

process.on('message', (m) => {
  if (m?.probe !== 'trace') return
  process.send({ probe: 'trace', id: m.id, trace: values.trace ? trace : undefined })
  trace = []
})
process.channel?.unref()
