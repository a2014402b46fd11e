import assert from 'node:assert/strict'
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { WebhookEvent } from '@session-kit/core'
import { signWebhook, verifyWebhook, WebhookVerificationError } from '../index.js'
import { createServer, type SessionKitServer } from '../server.js'
import { RawClient } from '../testing/client.js'
import { backends, freshDataDir, freshPostgres, removeDir } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'
import { privateAddressReason } from './address.js'
import { RETRY_S, WebhookWorker } from './worker.js'

// Webhooks: Standard Webhooks signatures checked by the helper hosts import, filters, retries with
// backoff (time moved by the server's clock), delivery across a restart and a lease, hostile
// endpoints, and refusal of the server's own network.

interface Hit {
  path: string
  headers: IncomingHttpHeaders
  body: string
}

type Respond = (req: IncomingMessage, res: ServerResponse, hit: Hit) => void

/** A host's receiver on 127.0.0.1: every request it got, answered as `respond` says (204 by default). */
class Receiver {
  hits: Hit[] = []
  respond: Respond = (_req, res) => void res.writeHead(204).end()
  private constructor(
    readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<Receiver> {
    let receiver!: Receiver
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const hit = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
        receiver.hits.push(hit)
        receiver.respond(req, res, hit)
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    return receiver
  }

  events(secret: string, now?: Date): WebhookEvent[] {
    return this.hits.map((h) => verifyWebhook(secret, h.headers, h.body, now ? { now } : {}))
  }

  async close() {
    this.server.closeAllConnections()
    await new Promise((r) => this.server.close(r))
  }
}

async function poll(pred: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await pred()) return true
    await new Promise((r) => setTimeout(r, 20))
  }
  return pred()
}

/** A clock that runs with real time, moved forward by the test. */
function movableClock() {
  let offset = 0
  return { now: () => new Date(Date.now() + offset), move: (ms: number) => void (offset += ms) }
}

const host = { authorization: `Bearer ${TEST_API_KEY}` }

async function register(s: { url: string }, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${s.url}/v1/webhooks`, { method: 'POST', headers: { ...host, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, json: await res.json() }
}

async function createSession(s: { url: string }, id: string) {
  const res = await fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: { ...host, 'content-type': 'application/json' }, body: JSON.stringify({ id, title: `Room ${id}`, ownerId: 'teacher' }) })
  assert.equal(res.status, 201, await res.text())
}

async function listWebhooks(s: { url: string }): Promise<any[]> {
  const res = await fetch(`${s.url}/v1/webhooks`, { headers: host })
  assert.equal(res.status, 200)
  return ((await res.json()) as { webhooks: any[] }).webhooks
}

describe('webhook signatures (the helper hosts import)', () => {
  it('reproduces the Standard Webhooks test vector, and verifies it', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    const body = '{"test": 2432232314}'
    assert.equal(signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body), 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
    const headers = { 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330', 'webhook-signature': 'v1,bm9wZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' }
    assert.deepEqual(verifyWebhook(secret, headers, body, { now: 1614265330_000 }), { test: 2432232314 })
    assert.deepEqual(verifyWebhook(secret, new Headers(headers), Buffer.from(body), { now: new Date(1614265330_000 + 299_000) }), { test: 2432232314 }, 'Fetch headers and bytes too')
  })

  it('refuses, naming why: a missing header, an old or future timestamp, another secret, a changed body', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    const body = '{"type":"session.created"}'
    const ts = 1_700_000_000
    const good = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, 'msg_1', ts, body) }
    const now = ts * 1000
    const code = (fn: () => unknown) => {
      try {
        fn()
      } catch (e) {
        assert.ok(e instanceof WebhookVerificationError, String(e))
        return e.code
      }
      return 'accepted'
    }
    assert.equal(code(() => verifyWebhook(secret, good, body, { now })), 'accepted')
    assert.equal(code(() => verifyWebhook(secret, { ...good, 'webhook-signature': undefined }, body, { now })), 'missing_header')
    assert.equal(code(() => verifyWebhook(secret, { ...good, 'webhook-timestamp': 'soon' }, body, { now })), 'invalid_timestamp')
    assert.equal(code(() => verifyWebhook(secret, good, body, { now: now + 301_000 })), 'timestamp_too_old')
    assert.equal(code(() => verifyWebhook(secret, good, body, { now: now - 301_000 })), 'timestamp_too_new')
    assert.equal(code(() => verifyWebhook(secret, good, body, { now: now + 3_000_000, toleranceSeconds: 3600 })), 'accepted', 'a wider tolerance')
    assert.equal(code(() => verifyWebhook('whsec_' + Buffer.alloc(32, 7).toString('base64'), good, body, { now })), 'no_matching_signature')
    assert.equal(code(() => verifyWebhook(secret, good, body.replace('created', 'deleted'), { now })), 'no_matching_signature')
    assert.equal(code(() => verifyWebhook(secret, { ...good, 'webhook-id': 'msg_2' }, body, { now })), 'no_matching_signature', 'the id is signed')
    assert.equal(code(() => verifyWebhook('not a secret!', good, body, { now })), 'invalid_secret')
  })
})

describe('which addresses are private', () => {
  it('refuses loopback, private, link-local, unique-local, CGNAT, metadata and reserved addresses, in IPv4 and IPv6', () => {
    const refused = [
      '127.0.0.1', '127.1.2.3', '0.0.0.0', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.100.100.200',
      '192.0.0.192', '198.18.0.1', '224.0.0.1', '255.255.255.255', '240.0.0.1',
      '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254',
      '::127.0.0.1', '64:ff9b::10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::', '2001:db8::1', '100::1',
    ]
    for (const ip of refused) assert.ok(privateAddressReason(ip), `${ip} is refused`)
    for (const ip of ['93.184.216.34', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:93.184.216.34', '64:ff9b::5db8:d822', '2002:5db8:d822::1']) {
      assert.equal(privateAddressReason(ip), undefined, `${ip} is public`)
    }
  })
})

for (const backend of backends()) {
  describe(`webhooks on ${backend}`, () => {
    let s: TestServer
    let receiver: Receiver
    const clock = movableClock()
    before(async () => {
      s = await startTestServer(backend, { clock: clock.now, env: { SESSION_KIT_WEBHOOK_ALLOW_PRIVATE: '1' } })
      receiver = await Receiver.start()
    })
    after(async () => {
      await s.stop()
      await receiver.close()
    })
    /** Every endpoint registered by a test goes at its end, so the next test hears only its own. */
    const registered: string[] = []
    const endpoint = async (body: Record<string, unknown>) => {
      const r = await register(s, body)
      assert.equal(r.status, 201, JSON.stringify(r.json))
      registered.push(r.json.id)
      return r.json as { id: string; secret: string }
    }
    const forget = async () => {
      for (const id of registered.splice(0)) await s.api('DELETE', `/v1/webhooks/${id}`, TEST_API_KEY)
      receiver.hits = []
      receiver.respond = (_req, res) => void res.writeHead(204).end()
    }

    it('registers, lists and deletes endpoints; the secret is shown once; bad bodies are refused as documented', async () => {
      assert.equal((await s.api('POST', '/v1/webhooks', undefined, { url: receiver.url })).status, 401, 'the API key is needed')
      const made = await register(s, { url: `${receiver.url}/hooks`, events: ['session.created', 'session.created', 'participant.joined'], sessionIds: ['room-1'] })
      assert.equal(made.status, 201)
      assert.match(made.json.id, /^wh_[0-9a-f]{16}$/)
      assert.match(made.json.secret, /^whsec_[A-Za-z0-9+/]{43}=$/)
      assert.deepEqual(made.json.events, ['session.created', 'participant.joined'], 'each event once')
      assert.deepEqual([made.json.status, made.json.failingSince, made.json.lastError, made.json.pending], ['active', null, null, 0])
      const list = await listWebhooks(s)
      assert.deepEqual(
        list.map((w) => w.id),
        [made.json.id],
      )
      assert.equal(list[0].secret, undefined, 'never listed again')
      const cases: [unknown, string][] = [
        [{ url: 'ftp://example.edu/x' }, 'validation_failed'],
        [{ url: 'https://user:pw@example.edu/x' }, 'validation_failed'],
        [{ url: 'not a url' }, 'validation_failed'],
        [{ url: receiver.url, events: ['session.exploded'] }, 'validation_failed'],
        [{ url: receiver.url, sessionIds: ['bad id!'] }, 'validation_failed'],
        [{ url: 'https://nowhere.invalid/hook' }, 'webhook_url_unresolvable'],
      ]
      for (const [body, code] of cases) {
        const r = await register(s, body)
        assert.equal(r.status, 400, JSON.stringify(body))
        assert.equal(r.json.error.code, code, JSON.stringify(r.json))
      }
      assert.equal((await s.api('DELETE', `/v1/webhooks/${made.json.id}`, TEST_API_KEY)).status, 204)
      assert.equal((await s.api('DELETE', `/v1/webhooks/${made.json.id}`, TEST_API_KEY)).json.error.code, 'webhook_not_found')
      assert.equal((await s.api('DELETE', `/v1/webhooks/nope`, TEST_API_KEY)).status, 404)
      assert.deepEqual(await listWebhooks(s), [])
    })

    it('delivers signed events the exported helper verifies, to the endpoints whose event and session filters want them', async () => {
      const all = await endpoint({ url: `${receiver.url}/all` })
      const some = await endpoint({ url: `${receiver.url}/some`, events: ['session.created'], sessionIds: ['filtered-two'] })
      await createSession(s, 'filtered-one')
      await createSession(s, 'filtered-two')
      await s.services.webhooks.drain()
      const at = (path: string) => receiver.hits.filter((h) => h.path === path)
      assert.deepEqual(
        at('/all').map((h) => verifyWebhook(all.secret, h.headers, h.body, { now: clock.now() })).map((e) => [e.type, e.data.sessionId]),
        [
          ['session.created', 'filtered-one'],
          ['session.created', 'filtered-two'],
        ],
      )
      const [only] = at('/some')
      assert.equal(at('/some').length, 1, 'the other session and other events are not for it')
      const event = verifyWebhook(some.secret, only!.headers, only!.body, { now: clock.now() })
      assert.deepEqual(event.data, { sessionId: 'filtered-two', title: 'Room filtered-two', language: 'javascript', ownerId: 'teacher' })
      assert.ok(Math.abs(Date.parse(event.timestamp) - clock.now().getTime()) < 60_000)
      assert.match(only!.headers['webhook-id'] as string, /^msg_[0-9a-f]{32}$/)
      assert.match(only!.headers['user-agent'] as string, /Session-Kit/)
      assert.equal(only!.headers['content-type'], 'application/json')
      assert.throws(() => verifyWebhook(all.secret, only!.headers, only!.body, { now: clock.now() }), (e: WebhookVerificationError) => e.code === 'no_matching_signature', 'each endpoint has its own secret')
      assert.equal((await listWebhooks(s)).every((w) => w.pending === 0), true)
      await forget()
    })

    it('tells of what happens in a room: arrivals and departures per person, roles, removals, snapshots, recordings, hands, invitations, deletion', async () => {
      const hook = await endpoint({ url: `${receiver.url}/room`, sessionIds: ['events-room'] })
      await createSession(s, 'events-room')
      const sid = 'events-room'
      const teacher = await RawClient.connect(s.url, sid, await s.token(sid, 'instructor', 'teacher', { name: 'Ada' }), { sync: false })
      const lea = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'lea', { name: 'Lea' }), { sync: false })
      const leaAgain = await RawClient.connect(s.url, sid, await s.token(sid, 'learner', 'lea', { name: 'Lea' }), { sync: false })
      const teacherToken = await s.token(sid, 'instructor', 'teacher', { name: 'Ada' })
      lea.send({ type: 'hand', raised: true, question: 'A QUESTION THAT STAYS IN THE ROOM' })
      assert.ok(await poll(async () => ((await s.db.sql`select count(*)::int as n from raised_hands where session_id = ${sid}`)[0]!.n as number) === 1))
      assert.equal((await s.api('PATCH', `/v1/sessions/${sid}/participants/lea`, teacherToken, { role: 'observer' })).status, 200)
      const snap = await s.api('POST', `/v1/sessions/${sid}/snapshots`, teacherToken, { title: 'Start' })
      assert.equal(snap.status, 201)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/snapshots/${snap.json.id}/restore`, teacherToken)).status, 200)
      const rec = await s.api('POST', `/v1/sessions/${sid}/recordings`, teacherToken, { title: 'Lesson' })
      assert.equal(rec.status, 201, JSON.stringify(rec.json))
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/recordings/${rec.json.id}/stop`, teacherToken)).status, 200)
      assert.ok(await poll(async () => (await s.api('GET', `/v1/sessions/${sid}/recordings/${rec.json.id}`, teacherToken)).json.status === 'ready'))
      const invited = await s.api('POST', `/v1/sessions/${sid}/invitations`, teacherToken, { email: 'grace@example.edu', role: 'learner' })
      assert.equal(invited.status, 201, JSON.stringify(invited.json))
      const inviteToken = new URL(invited.json.link).searchParams.get('invite')!
      const accepted = await s.api('POST', `/v1/invitations/${inviteToken}/accept`, undefined, { name: 'Grace' })
      assert.equal(accepted.status, 200)
      leaAgain.close()
      await s.services.webhooks.drain()
      assert.ok(!receiver.hits.some((h) => h.body.includes('participant.left')), 'another tab of Lea is still open')
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/participants/lea/kick`, teacherToken)).status, 200)
      assert.ok(await lea.waitFor(() => lea.closed !== null))
      teacher.close()
      assert.ok(await poll(async () => ((await s.db.sql`select count(*)::int as n from connections where session_id = ${sid}`)[0]!.n as number) === 0))
      assert.equal((await s.api('DELETE', `/v1/sessions/${sid}`, TEST_API_KEY)).status, 204)
      await s.services.webhooks.drain()
      const events = receiver.events(hook.secret, clock.now())
      const seen = events.map((e) => [e.type, 'userId' in e.data ? e.data.userId : null])
      for (const expected of [
        ['session.created', null],
        ['participant.joined', 'teacher'],
        ['participant.joined', 'lea'],
        ['hand.raised', 'lea'],
        ['participant.role_changed', 'lea'],
        ['snapshot.created', null],
        ['snapshot.restored', null],
        ['recording.started', null],
        ['recording.stopped', null],
        ['recording.ready', null],
        ['invitation.accepted', accepted.json.userId],
        ['participant.kicked', 'lea'],
        ['participant.left', 'lea'],
        ['participant.left', 'teacher'],
        ['session.deleted', null],
      ]) {
        assert.ok(seen.some((x) => x[0] === expected[0] && x[1] === expected[1]), `${expected.join(' ')} in ${JSON.stringify(seen)}`)
      }
      assert.equal(seen.filter(([t, u]) => t === 'participant.joined' && u === 'lea').length, 1, 'one arrival for two tabs')
      const byType = new Map(events.map((e) => [e.type, e.data as Record<string, unknown>]))
      assert.deepEqual(byType.get('participant.role_changed'), { sessionId: sid, userId: 'lea', role: 'observer', previousRole: 'learner', by: 'teacher' })
      assert.deepEqual(byType.get('participant.joined'), { sessionId: sid, userId: 'lea', name: 'Lea', role: 'learner' })
      assert.deepEqual(byType.get('hand.raised'), { sessionId: sid, userId: 'lea', name: 'Lea' })
      assert.equal(byType.get('recording.stopped')!.by, 'teacher')
      assert.ok(!receiver.hits.some((h) => h.body.includes('A QUESTION THAT STAYS')), 'what people type is never sent')
      await forget()
    })

    it('several workers on one outbox (instances of the server) deliver each event once', async () => {
      const hook = await endpoint({ url: `${receiver.url}/shared`, events: ['session.created'] })
      // A slow receiver, so the workers overlap.
      receiver.respond = (_req, res) => void setTimeout(() => res.writeHead(204).end(), 20)
      for (let i = 0; i < 12; i++) await createSession(s, `shared-${i}`)
      const others = [1, 2].map(() => new WebhookWorker({ sql: s.db.sql, config: s.config.webhooks, clock: clock.now, log: () => {} }))
      await Promise.all([s.services.webhooks.drain(), ...others.map((w) => w.drain())])
      await Promise.all(others.map((w) => w.close()))
      const ids = receiver.hits.map((h) => h.headers['webhook-id'])
      assert.equal(ids.length, 12)
      assert.equal(new Set(ids).size, 12, 'none twice')
      assert.deepEqual(receiver.events(hook.secret, clock.now()).map((e) => e.data.sessionId).sort(), Array.from({ length: 12 }, (_, i) => `shared-${i}`).sort())
      await forget()
    })

    it('retries after 500s with backoff, then delivers; after a day of failures the endpoint is failing, and a later success makes it active again', async () => {
      const hook = await endpoint({ url: `${receiver.url}/flaky`, events: ['session.created'] })
      let failures = 2
      receiver.respond = (_req, res) => (failures-- > 0 ? void res.writeHead(500, { 'content-type': 'text/plain' }).end('database is down') : void res.writeHead(200).end('ok'))
      await createSession(s, 'retry-one')
      await s.services.webhooks.drain()
      assert.equal(receiver.hits.length, 1)
      let [w] = await listWebhooks(s)
      assert.deepEqual([w.status, w.lastError, w.pending], ['active', 'HTTP 500: database is down', 1])
      await s.services.webhooks.drain()
      assert.equal(receiver.hits.length, 1, 'not again before the backoff')
      clock.move(RETRY_S[0]! * 1000)
      await s.services.webhooks.drain()
      assert.equal(receiver.hits.length, 2, `again after ${RETRY_S[0]} s`)
      clock.move(RETRY_S[0]! * 1000)
      await s.services.webhooks.drain()
      assert.equal(receiver.hits.length, 2, `the next wait is longer (${RETRY_S[1]} s)`)
      clock.move(RETRY_S[1]! * 1000)
      await s.services.webhooks.drain()
      assert.equal(receiver.hits.length, 3)
      const ids = new Set(receiver.hits.map((h) => h.headers['webhook-id']))
      assert.equal(ids.size, 1, 'every retry carries the same webhook-id')
      assert.deepEqual(new Set(receiver.hits.map((h) => h.body)).size, 1, 'and the same body')
      ;[w] = await listWebhooks(s)
      assert.deepEqual([w.status, w.lastError, w.pending], ['active', null, 0])

      // Never answering well: ten attempts over about a day, then given up and the endpoint marked failing.
      receiver.hits = []
      receiver.respond = (_req, res) => void res.writeHead(503).end()
      await createSession(s, 'retry-two')
      await s.services.webhooks.drain()
      const started = clock.now()
      for (const wait of RETRY_S) {
        ;[w] = await listWebhooks(s)
        assert.equal(w.status, 'active', 'not failing while retries remain')
        clock.move(wait * 1000)
        await s.services.webhooks.drain()
      }
      assert.equal(receiver.hits.length, RETRY_S.length + 1)
      const spent = (clock.now().getTime() - started.getTime()) / 3600_000
      assert.ok(spent > 20 && spent < 26, `retried for about a day (${spent.toFixed(1)} h)`)
      ;[w] = await listWebhooks(s)
      assert.deepEqual([w.status, w.lastError, w.pending], ['failing', 'HTTP 503', 0])
      assert.ok(Date.parse(w.failingSince) >= started.getTime())
      const [row] = await s.db.sql<{ status: string; attempts: number }[]>`select status, attempts from webhook_deliveries where endpoint_id = ${hook.id} order by created_at desc limit 1`
      assert.deepEqual({ ...row }, { status: 'failed', attempts: RETRY_S.length + 1 })
      clock.move(24 * 3600_000)
      await s.services.webhooks.drain()
      assert.equal(receiver.hits.length, RETRY_S.length + 1, 'a delivery given up is not tried again')

      receiver.respond = (_req, res) => void res.writeHead(202).end()
      await createSession(s, 'retry-three')
      await s.services.webhooks.drain()
      ;[w] = await listWebhooks(s)
      assert.deepEqual([w.status, w.failingSince, w.lastError], ['active', null, null])
      await forget()
    })
  })

  describe(`webhooks across a restart on ${backend}`, () => {
    let receiver: Receiver
    const cleanup: (() => Promise<unknown> | void)[] = []
    before(async () => {
      receiver = await Receiver.start()
    })
    after(async () => {
      for (const f of cleanup.reverse()) await f()
      await receiver.close()
    })

    it('a delivery pending when the server stops, and one cut off mid-way, arrive from the next server on the same database', async () => {
      const dataDir = await freshDataDir()
      const pg = backend === 'postgres' ? await freshPostgres() : undefined
      cleanup.push(() => removeDir(dataDir), () => pg?.drop())
      const clock = movableClock()
      const boot = () =>
        createServer({
          port: 0,
          host: '127.0.0.1',
          dataDir,
          databaseUrl: pg?.url,
          clock: clock.now,
          env: { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY, SESSION_KIT_WEBHOOK_ALLOW_PRIVATE: '1' },
          log: () => {},
        })
      let s: SessionKitServer = await boot()
      const hook = (await register(s, { url: `${receiver.url}/durable`, events: ['session.created'] })).json as { id: string; secret: string }
      const sessionOf = (h: Hit) => JSON.parse(h.body).data.sessionId as string

      // One delivery fails (the receiver is down for maintenance) and waits for its retry…
      receiver.respond = (_req, res) => void res.writeHead(503).end()
      await createSession(s, 'before-stop')
      await s.services.webhooks.drain()
      assert.deepEqual(receiver.hits.map(sessionOf), ['before-stop'])
      // …and another is under way when the server stops: the receiver never answers it.
      receiver.respond = () => {}
      await createSession(s, 'mid-delivery')
      void s.services.webhooks.tick()
      assert.ok(await poll(() => receiver.hits.length === 2))
      await s.close()

      receiver.respond = (_req, res) => void res.writeHead(204).end()
      s = await boot()
      cleanup.push(() => s.close())
      await s.services.webhooks.drain()
      assert.equal(receiver.hits.length, 2, 'nothing is due yet: a retry waits its backoff, a delivery under way its lease')
      clock.move(RETRY_S[0]! * 1000)
      await s.services.webhooks.drain()
      assert.deepEqual(receiver.hits.map(sessionOf), ['before-stop', 'mid-delivery', 'before-stop'])
      clock.move(s.services.webhooks.leaseMs)
      await s.services.webhooks.drain()
      assert.deepEqual(receiver.hits.map(sessionOf), ['before-stop', 'mid-delivery', 'before-stop', 'mid-delivery'], 'delivered again when the lease ran out: at least once')
      const [first, cut, retried, again] = receiver.hits
      assert.equal(retried!.headers['webhook-id'], first!.headers['webhook-id'])
      assert.equal(again!.headers['webhook-id'], cut!.headers['webhook-id'])
      for (const h of [retried!, again!]) verifyWebhook(hook.secret, h.headers, h.body, { now: clock.now() })
      const [w] = await listWebhooks(s)
      assert.deepEqual([w.status, w.pending], ['active', 0])
    })
  })

  describe(`hostile webhook endpoints on ${backend}`, () => {
    let s: TestServer
    let good: Receiver
    let slow: Receiver
    let huge: Receiver
    let redirect: Receiver
    let internal: Receiver
    let hugeBytes = 0
    const clock = movableClock()
    before(async () => {
      s = await startTestServer(backend, { clock: clock.now, env: { SESSION_KIT_WEBHOOK_ALLOW_PRIVATE: '1', SESSION_KIT_WEBHOOK_TIMEOUT_MS: '600' } })
      ;[good, slow, huge, redirect, internal] = await Promise.all([Receiver.start(), Receiver.start(), Receiver.start(), Receiver.start(), Receiver.start()])
      slow.respond = () => {}
      // An endless answer: as much as the socket takes, for as long as it is open.
      huge.respond = (_req, res) => {
        res.writeHead(500, { 'content-type': 'text/plain' })
        const chunk = Buffer.alloc(64 * 1024, 'x')
        const pump = () => {
          while (!res.destroyed && hugeBytes < 256 * 1024 * 1024) {
            hugeBytes += chunk.length
            if (!res.write(chunk)) return void res.once('drain', pump)
          }
        }
        pump()
      }
      redirect.respond = (_req, res) => void res.writeHead(302, { location: `${internal.url}/admin/steal` }).end()
    })
    after(async () => {
      await s.stop()
      for (const r of [good, slow, huge, redirect, internal]) await r.close()
    })

    it('a slow, a huge and a redirecting endpoint hold neither the server nor other deliveries, follow nothing, and end failing after their retries', async () => {
      const ok = (await register(s, { url: `${good.url}/ok` })).json as { id: string; secret: string }
      const hostile: string[] = []
      for (const r of [slow, huge, redirect]) {
        const made = await register(s, { url: `${r.url}/hook`, sessionIds: ['hostile-one'] })
        assert.equal(made.status, 201)
        hostile.push(made.json.id)
      }
      const t0 = Date.now()
      await createSession(s, 'hostile-one')
      void s.services.webhooks.tick()
      assert.ok(await poll(() => good.hits.length === 1 && slow.hits.length === 1, 5_000))
      assert.ok(Date.now() - t0 < 2_000, 'the good endpoint is not kept waiting by the slow one')
      // While the slow endpoint holds its delivery: the server answers, and other events flow.
      const health = await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(2_000) })
      assert.equal(health.status, 200)
      await createSession(s, 'hostile-two')
      void s.services.webhooks.tick()
      assert.ok(await poll(() => good.hits.length === 2, 3_000), 'a second event reaches the good endpoint meanwhile')
      assert.deepEqual(
        good.events(ok.secret, clock.now()).map((e) => e.data.sessionId),
        ['hostile-one', 'hostile-two'],
      )
      await s.services.webhooks.drain()

      for (const wait of RETRY_S) {
        clock.move(wait * 1000)
        await s.services.webhooks.drain()
      }
      const attempts = RETRY_S.length + 1
      assert.deepEqual([slow.hits.length, huge.hits.length, redirect.hits.length], [attempts, attempts, attempts])
      assert.equal(internal.hits.length, 0, 'a redirect is never followed')
      assert.ok(hugeBytes < 64 * 1024 * 1024, `the huge answer was cut off (${(hugeBytes / 1048576).toFixed(1)} MB written by it in ${attempts} attempts)`)
      const byId = new Map((await listWebhooks(s)).map((w) => [w.id, w]))
      const [slowW, hugeW, redirectW] = hostile.map((id) => byId.get(id)!)
      assert.deepEqual([slowW.status, hugeW.status, redirectW.status], ['failing', 'failing', 'failing'])
      assert.match(slowW.lastError, /No answer within 0\.6 s/)
      assert.match(hugeW.lastError, /^HTTP 500: x+$/)
      assert.ok(hugeW.lastError.length <= 220, 'only the start of an answer is kept')
      assert.match(redirectW.lastError, /^HTTP 302: redirects are not followed/)
      assert.equal(byId.get(ok.id)!.status, 'active')
      assert.equal(good.hits.length, 2)
      const unexpected = s.logs.filter((l) => /unexpected error|webhooks: delivery/.test(l))
      assert.deepEqual(unexpected, [], 'nothing went wrong in the server itself')
    })
  })

  describe(`webhooks to the server's own network on ${backend}`, () => {
    let s: TestServer
    let receiver: Receiver
    before(async () => {
      s = await startTestServer(backend)
      receiver = await Receiver.start()
    })
    after(async () => {
      await s.stop()
      await receiver.close()
    })

    it('are refused when registered, and at delivery when a name has come to resolve to one (DNS rebinding)', async () => {
      const port = new URL(receiver.url).port
      for (const url of [`${receiver.url}/hook`, `http://localhost:${port}/hook`, `http://[::1]:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.7/', 'https://[fd00:ec2::254]/']) {
        const r = await register(s, { url })
        assert.equal(r.status, 400, url)
        assert.equal(r.json.error.code, 'webhook_url_private', url)
        assert.match(r.json.error.message, /SESSION_KIT_WEBHOOK_ALLOW_PRIVATE/)
      }
      assert.deepEqual(await listWebhooks(s), [])
      // An endpoint whose name pointed elsewhere when it was registered, and now resolves to loopback.
      await s.db.sql`insert into webhook_endpoints (id, url, secret) values ('wh_0000000000000001', ${`http://localhost:${port}/rebound`}, ${'whsec_' + Buffer.alloc(32, 1).toString('base64')})`
      await createSession(s, 'rebinding')
      await s.services.webhooks.drain()
      assert.equal(receiver.hits.length, 0, 'nothing reached the loopback address')
      const [w] = await listWebhooks(s)
      assert.match(w.lastError, /localhost, which resolves to (127\.0\.0\.1|::1) \(loopback\)/)
    })
  })
}
