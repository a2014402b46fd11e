import { PROTOCOL_VERSION, type ServerEvent } from '@session-kit/core'
import type { DocSync } from '../internal/doc-sync.js'
import { testServer } from './room.js'

/** A full peer's socket as a room client would open it, bound to `doc` (frames in, sync messages out, acks). */
export async function syncSocket(doc: DocSync, sid: string, token: string) {
  const { url } = await testServer()
  const ws = new WebSocket(url.replace(/^http/, 'ws') + `/v1/sessions/${encodeURIComponent(sid)}/sync`)
  ws.binaryType = 'arraybuffer'
  const events: ServerEvent[] = []
  const closed = new Promise<CloseEvent>((resolve) => {
    ws.onclose = (e) => {
      doc.detach()
      resolve(e)
    }
  })
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = reject
  })
  ws.send(JSON.stringify({ type: 'hello', token, protocol: PROTOCOL_VERSION, mode: 'full', sync: true }))
  doc.attach((bytes) => ws.readyState === WebSocket.OPEN && ws.send(bytes))
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') return doc.receive(new Uint8Array(e.data as ArrayBuffer))
    const event = JSON.parse(e.data) as ServerEvent
    events.push(event)
    if (event.type === 'ack') doc.acknowledge(event.changes)
  }
  return { ws, events, closed, close: () => ws.close(1000, 'done') }
}
