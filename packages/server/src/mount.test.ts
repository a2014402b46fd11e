import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { AddressInfo } from 'node:net'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { createServer, mintToken } from './index.js'
import { RawClient } from './testing/client.js'
import { freshDataDir, removeDir } from './testing/index.js'
import { TEST_API_KEY, TEST_SECRET } from './testing/index.js'

// The third way to run Session Kit: its Hono app mounted under a host's own router and server.
describe('mounted under a host app', () => {
  const cleanups: (() => unknown)[] = []
  after(async () => {
    for (const c of cleanups.reverse()) await c()
  })

  it('serves the API and the rooms’ WebSockets under the host’s path, beside the host’s own routes', async () => {
    const dataDir = await freshDataDir()
    cleanups.push(() => removeDir(dataDir))
    const sk = await createServer({ listen: false, dataDir, databaseUrl: '', env: { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY }, log: () => {} })
    cleanups.push(() => sk.close())
    const host = new Hono()
    host.get('/', (c) => c.text('course site'))
    host.route('/rooms', sk.app)
    const server = serve({ fetch: host.fetch, port: 0, hostname: '127.0.0.1' })
    sk.injectWebSocket(server, host)
    cleanups.push(() => new Promise((r) => server.close(r)))
    await new Promise((r) => server.once('listening', r))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

    assert.equal(await (await fetch(base + '/')).text(), 'course site')
    assert.deepEqual(await (await fetch(base + '/rooms/healthz')).json(), { ok: true, db: 'pglite' })
    const created = await fetch(base + '/rooms/v1/sessions', { method: 'POST', headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'mounted', title: 'Mounted', ownerId: 'ada', files: { 'main.js': 'hi' } }) })
    assert.equal(created.status, 201)

    const client = await RawClient.connect(base + '/rooms', 'mounted', await mintToken({ sid: 'mounted', sub: 'ada', name: 'Ada', role: 'instructor' }, TEST_SECRET))
    cleanups.push(() => client.close())
    assert.ok(await client.waitFor(() => client.text() === 'hi'), 'synced through the host’s server')
    client.type('main.js', 2, '!')
    assert.ok(await client.waitFor(() => client.acked.size === 1), 'the change was saved')
  })
})
