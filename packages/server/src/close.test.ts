import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { it } from 'node:test'
import { startTestServer } from './testing/index.js'

// Stopping a server (a deploy, a restart) must not hang on connections it cannot finish: a
// browser reconnecting just as the hub said goodbye may have sent half an upgrade request.
it('closing the server does not wait on a half-sent upgrade or an idle keep-alive connection', async () => {
  const s = await startTestServer('pglite')
  const { port } = new URL(s.url)
  const halfway = connect(Number(port), '127.0.0.1')
  await once(halfway, 'connect')
  halfway.write('GET /v1/sessions/closing/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n')
  const idle = connect(Number(port), '127.0.0.1')
  await once(idle, 'connect')
  idle.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n')
  await once(idle, 'data')
  const ended = Promise.all([once(halfway, 'close'), once(idle, 'close')])
  const t0 = Date.now()
  const stopped = s.stop().then(() => Date.now() - t0)
  // Node would otherwise keep the half-sent request for its 60 s header timeout.
  const took = await Promise.race([stopped, new Promise<number>((r) => setTimeout(() => r(Infinity), 15_000).unref())])
  assert.ok(took < 15_000, 'the server closed')
  await ended
})
