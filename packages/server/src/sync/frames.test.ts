import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import WebSocket from 'ws'
import { RawClient } from '../testing/client.js'
import { startTestServer, TEST_API_KEY, type TestServer } from '../testing/server.js'

// Reliability: frames the hub must survive whatever they hold, and sockets one address may hold.

/** Run `fn` while recording what reaches console.error (where libraries report what they catch). */
async function consoleErrors<T>(fn: () => Promise<T>): Promise<{ result: T; printed: string[] }> {
  const printed: string[] = []
  const original = console.error
  console.error = (...args: unknown[]) => {
    printed.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' '))
  }
  try {
    return { result: await fn(), printed }
  } finally {
    console.error = original
  }
}

const socket = (url: string, sid: string) => new WebSocket(url.replace(/^http/, 'ws') + `/v1/sessions/${sid}/sync`)
const closeOf = (ws: WebSocket) => new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))

describe('frames and sockets the hub must survive', () => {
  let s: TestServer
  const sid = 'frames'
  before(async () => {
    s = await startTestServer('pglite', { env: { SESSION_KIT_MAX_CONNECTIONS_PER_IP: '4', SESSION_KIT_NEW_CONNECTIONS_PER_IP: '1' } })
    assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Frames', ownerId: 'owner', files: { 'main.js': 'x' } })).status, 201)
  })
  after(() => s.stop())

  it('answers an event whose type is an object that cannot be printed, and stays open', async () => {
    const c = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'odd'), { sync: false })
    c.send('{"type":{"toString":1}}')
    c.send('{"type":{"valueOf":{}},"x":1}')
    assert.ok(await c.waitFor(() => c.events.filter((e) => e.type === 'error').length === 2))
    const errors = c.events.filter((e) => e.type === 'error')
    assert.deepEqual(errors.map((e) => e.code), ['malformed', 'malformed'])
    assert.match(errors[0].message, /An event without a type name was not understood/)
    c.send({ type: 'ping' })
    assert.ok(await c.waitFor(() => c.event('pong') !== undefined), 'the socket still answers')
    assert.equal(c.closed, null)
    assert.equal(s.logs.filter((l) => /could not be handled/.test(l)).length, 0)
    c.close()
  })

  it('closes a frame over 4 MiB cleanly, before or after the hello, and nothing is thrown', async () => {
    const { result, printed } = await consoleErrors(async () => {
      const before = socket(s.url, sid)
      await new Promise((r) => before.on('open', r))
      const closedBefore = closeOf(before)
      before.send(Buffer.alloc(5 * 1024 * 1024, 1))
      const after = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'big'))
      after.ws.send(Buffer.alloc(5 * 1024 * 1024, 1))
      return [await closedBefore, (await after.waitClosed())?.code]
    })
    assert.deepEqual(result, [1009, 1009], 'closed with the WebSocket code for a message too big')
    assert.deepEqual(printed.filter((p) => /ErrorEvent|is not defined/.test(p)), [], 'no error escapes the WebSocket layer')
    assert.equal((await s.api('GET', '/healthz')).status, 200)
    const next = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'next'))
    assert.ok(next.welcome, 'the server carries on')
    next.close()
  })

  it('one address opens new sockets only so fast: a reconnect loop is refused before any token is checked', async () => {
    // One a second, in bursts of 30: the tests above used a few; the loop below uses the rest.
    const statuses: number[] = []
    for (let i = 0; i < 40; i++) {
      const ws = socket(s.url, sid)
      const closed = closeOf(ws)
      statuses.push(
        await new Promise<number>((resolve) => {
          ws.on('open', () => (ws.close(), resolve(101)))
          ws.on('unexpected-response', (_req, res) => (ws.terminate(), resolve(res.statusCode ?? 0)))
          ws.on('error', () => {})
        }),
      )
      await closed
    }
    assert.ok(statuses.includes(429), 'a burst beyond 30 is refused')
    assert.ok(statuses.indexOf(429) <= 30, `refused from the 31st at the latest: ${statuses.join(' ')}`)
    // Refused ones hold no place: after a pause, new sockets are let in again.
    await new Promise((r) => setTimeout(r, 2100))
    const again = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'patient'))
    assert.ok(again.welcome, `after waiting, in again: ${JSON.stringify(again.closed)}`)
    again.close()
    await again.waitClosed()
  })

  it('one address holds at most the configured number of sockets; a closed one frees its place', async () => {
    await new Promise((r) => setTimeout(r, 6000)) // the arrivals allowance refills
    const open: WebSocket[] = []
    for (let i = 0; i < 4; i++) {
      const ws = socket(s.url, sid)
      await new Promise((r, j) => (ws.on('open', r), ws.on('error', j)))
      open.push(ws)
    }
    const refused = socket(s.url, sid)
    refused.on('error', () => {})
    const status = await new Promise<number>((resolve) => refused.on('unexpected-response', (_req, res) => (refused.terminate(), resolve(res.statusCode ?? 0))))
    assert.equal(status, 429, 'the fifth is refused before the upgrade')
    const closed = closeOf(open[0]!)
    open[0]!.close()
    await closed
    await new Promise((r) => setTimeout(r, 50))
    const again = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'again'))
    assert.ok(again.welcome, 'a place freed by a close is taken again')
    again.close()
    for (const ws of open) ws.close()
  })
})
