import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { parseApi, RetentionStatusSchema } from '@session-kit/core/api'
import { RetentionJob } from '../retention/job.js'
import { backends } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, type TestServer } from '../testing/server.js'

/*
 * Retention: the job deletes exactly what outlived its period (the deployment's, or a session's
 * shorter one) as the clock moves forward; one instance runs it at a time; a run cut short resumes
 * where it stopped. The server's clock is injected, so "200 days later" takes no time.
 */

const DAY = 86_400_000

for (const backend of backends()) {
  describe(`retention on ${backend}`, () => {
    let offset = 0
    const clock = () => new Date(Date.now() + offset)
    const ago = (days: number) => new Date(clock().getTime() - days * DAY)
    let s: TestServer
    let n = 0
    before(async () => {
      s = await startTestServer(backend, {
        clock,
        env: {
          SESSION_KIT_RETAIN_CHAT: '30d',
          SESSION_KIT_RETAIN_RECORDINGS: '90d',
          SESSION_KIT_RETAIN_EVENTS: '60d',
          SESSION_KIT_RETAIN_SNAPSHOTS: '120d',
          SESSION_KIT_RETAIN_CLOSED_SESSIONS: '365d',
        },
      })
    })
    after(() => s.stop())

    async function session(owner = 'own') {
      const id = `ret-${++n}-${Date.now().toString(36)}`
      assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id, title: 'Kept a while', ownerId: owner })).status, 201)
      return id
    }
    const chat = (sid: string, days: number) => s.db.sql`insert into chat_messages (session_id, user_id, name, role, body, created_at) values (${sid}, 'u1', 'U', 'learner', ${`${days} days old`}, ${ago(days)})`
    const event = (sid: string, days: number) => s.db.sql`insert into events (session_id, kind, user_id, at, data) values (${sid}, 'run', 'u1', ${ago(days)}, ${s.db.sql.json({ ok: true })})`
    const snapshot = (sid: string, days: number) =>
      s.db.sql`insert into snapshots (id, session_id, title, created_by, creator_name, creator_role, files, heads, created_at) values (${randomUUID()}, ${sid}, ${`${days} days old`}, 'u1', 'U', 'learner', '{}', '{}', ${ago(days)})`
    async function recording(sid: string, stoppedDaysAgo: number, status = 'ready') {
      const id = randomUUID()
      await s.db.sql`
        insert into recordings (id, session_id, title, status, created_by, creator_name, started_at, stopped_at, created_at)
        values (${id}, ${sid}, ${`${stoppedDaysAgo} days old`}, ${status}, 'u1', 'U', ${ago(stoppedDaysAgo + 1)}, ${status === 'ready' ? ago(stoppedDaysAgo) : null}, ${ago(stoppedDaysAgo + 1)})`
      if (status === 'ready') await s.db.sql`insert into recording_replays (recording_id, data, changes) values (${id}, ${Buffer.from([1, 2, 3])}, 0)`
      return id
    }
    const left = async (table: 'chat_messages' | 'snapshots' | 'recordings', sid: string) =>
      (await s.db.sql<{ title: string }[]>`select ${table === 'chat_messages' ? s.db.sql`body` : s.db.sql`title`} as title from ${s.db.sql(table)} where session_id = ${sid} order by 1`).map((r) => r.title)
    const eventAges = async (sid: string) =>
      (await s.db.sql<{ d: number }[]>`select round(extract(epoch from (${clock()}::timestamptz - at)) / 86400)::int as d from events where session_id = ${sid} order by at desc`).map((r) => r.d)

    it('deletes exactly what expired, kind by kind, the shorter of the deployment’s and the session’s period, as time moves on', async () => {
      const a = await session()
      const b = await session()
      // B's owner keeps chat a week and snapshots ten days (shorter than the deployment's).
      const owner = await s.token(b, 'instructor', 'own')
      const patched = await s.api('PATCH', `/v1/sessions/${b}`, owner, { retention: { chat: 7, snapshots: 10 } })
      assert.equal(patched.status, 200, JSON.stringify(patched.json))
      assert.deepEqual(patched.json.retention, { chat: 7, snapshots: 10 })
      // C is being recorded since long ago: its events are the recording's and stay until it is built.
      const c = await session()
      for (const d of [3, 20, 31, 100]) await chat(a, d)
      for (const d of [3, 8, 20]) await chat(b, d)
      for (const d of [3, 59, 61, 90]) await event(a, d)
      await event(c, 100)
      await event(c, 1)
      await recording(c, 190, 'recording')
      for (const d of [50, 119, 121]) await snapshot(a, d)
      for (const d of [5, 11]) await snapshot(b, d)
      const oldRec = await recording(a, 91)
      for (const d of [10, 89]) await recording(a, d)
      const minutesBefore = (await s.db.sql`select 1 from activity_minutes where session_id = ${a}`).length
      assert.equal(minutesBefore, 4, 'each event made its minute of rollup')

      // Sessions: D untouched for 400 days, E as old but someone is in it now, F keeps itself 30 days after its last activity.
      const d = await session()
      const e = await session()
      const f = await session()
      await s.db.sql`update sessions set created_at = ${ago(400)}, updated_at = ${ago(400)} where id in (${d}, ${e})`
      await s.db.sql`update sessions set created_at = ${ago(40)}, updated_at = ${ago(40)}, retention = '{"session": 30}' where id = ${f}`
      await s.db.sql`insert into instances (id) values ('live-elsewhere') on conflict do nothing`
      await s.db.sql`insert into connections (conn_id, session_id, user_id, instance_id) values (${randomUUID()}, ${e}, 'someone', 'live-elsewhere')`

      const run = await s.services.retention.run({ force: true })
      assert.equal(run.outcome, 'finished')
      assert.deepEqual(await left('chat_messages', a), ['20 days old', '3 days old'])
      assert.deepEqual(await left('chat_messages', b), ['3 days old'])
      assert.deepEqual(await eventAges(a), [3, 59])
      assert.deepEqual(await eventAges(c), [1, 100], 'a recording still going keeps the events it will be built from')
      assert.equal((await s.db.sql`select 1 from activity_minutes where session_id = ${a}`).length, 2)
      assert.deepEqual(await left('snapshots', a), ['119 days old', '50 days old'])
      assert.deepEqual(await left('snapshots', b), ['5 days old'])
      assert.deepEqual(await left('recordings', a), ['10 days old', '89 days old'])
      assert.deepEqual(await left('recordings', c), ['190 days old'], 'a recording still going is never deleted')
      assert.equal((await s.db.sql`select 1 from recording_replays where recording_id = ${oldRec}`).length, 0, 'the replay went with its recording')
      const sessions = (await s.db.sql<{ id: string }[]>`select id from sessions where id in (${a}, ${b}, ${c}, ${d}, ${e}, ${f}) order by id`).map((r) => r.id)
      assert.deepEqual(sessions, [a, b, c, e].sort())
      assert.deepEqual((await s.db.sql<{ id: string }[]>`select id from deleted_sessions where id in (${d}, ${f}) order by id`).map((r) => r.id), [d, f].sort())
      if (run.outcome === 'finished') {
        assert.deepEqual(run.deleted, { chat_messages: 4, events: 2, activity_minutes: 2, snapshots: 2, recordings: 1, sessions: 2, erased_users: 0 })
      }

      // Later: what has aged past its period since goes too, nothing else.
      offset += 15 * DAY
      const later = await s.services.retention.run()
      assert.equal(later.outcome, 'finished', 'due again: the interval has passed')
      assert.deepEqual(await left('chat_messages', a), ['3 days old'])
      assert.deepEqual(await left('chat_messages', b), [])
      assert.deepEqual(await eventAges(a), [18])
      assert.deepEqual(await left('snapshots', a), ['50 days old'])
      assert.deepEqual(await left('recordings', a), ['10 days old'])
      assert.equal((await s.services.retention.run()).outcome, 'idle', 'not due again before the interval')

      // The host sees the periods and the last run; the audit log has each run, and each session the job deleted.
      const status = await s.api('GET', '/v1/retention', TEST_API_KEY)
      assert.equal(status.status, 200)
      const st = parseApi(RetentionStatusSchema, status.json)
      assert.deepEqual(st.periods, { recordings: 90, chat: 30, events: 60, snapshots: 120, session: 365 })
      assert.equal(st.running, null)
      assert.equal(st.lastRun?.deleted.chat_messages, 2)
      assert.equal((await s.api('GET', '/v1/retention')).status, 401)
      const audit = await s.api('GET', '/v1/audit?limit=200', TEST_API_KEY)
      const runs = (audit.json.entries as { action: string; actorRole: string; details: { deleted: Record<string, number> } }[]).filter((x) => x.action === 'retention.run')
      assert.equal(runs.length, 2)
      assert.equal(runs[0]!.actorRole, 'system')
      assert.equal(runs[1]!.details.deleted.chat_messages, 4)
      const deletions = (audit.json.entries as { action: string; sessionId: string; details: Record<string, unknown> }[]).filter((x) => x.action === 'session.deleted' && x.details.retention)
      assert.deepEqual(deletions.map((x) => x.sessionId).sort(), [d, f].sort())
    })

    it('a session’s owner sets its periods: shorter than the deployment’s only, null to follow it again, nobody else', async () => {
      const sid = await session('own')
      const owner = await s.token(sid, 'instructor', 'own')
      const other = await s.token(sid, 'instructor', 'other-instructor')
      const learner = await s.token(sid, 'learner', 'lea')
      const set = await s.api('PATCH', `/v1/sessions/${sid}`, owner, { retention: { chat: 30, recordings: 14, session: 200 } })
      assert.equal(set.status, 200, JSON.stringify(set.json))
      assert.deepEqual(set.json.retention, { chat: 30, recordings: 14, session: 200 })
      const long = await s.api('PATCH', `/v1/sessions/${sid}`, owner, { retention: { chat: 45 } })
      assert.equal(long.status, 400)
      assert.equal(long.json.error.code, 'retention_too_long')
      assert.equal(long.json.error.field, 'retention.chat')
      assert.match(long.json.error.message, /keeps chat messages for 30 days/)
      assert.equal((await s.api('PATCH', `/v1/sessions/${sid}`, owner, { retention: { recording: 3 } })).status, 400, 'an unknown kind is refused, not ignored')
      assert.equal((await s.api('PATCH', `/v1/sessions/${sid}`, owner, { retention: { chat: 0 } })).status, 400)
      assert.equal((await s.api('PATCH', `/v1/sessions/${sid}`, owner, { retention: { chat: 1.5 } })).status, 400)
      const back = await s.api('PATCH', `/v1/sessions/${sid}`, owner, { retention: { chat: null } })
      assert.deepEqual(back.json.retention, { recordings: 14, session: 200 })
      assert.deepEqual((await s.api('GET', `/v1/sessions/${sid}`, learner)).json.retention, { recordings: 14, session: 200 }, 'everyone in the room can see how long it is kept')
      assert.equal((await s.api('PATCH', `/v1/sessions/${sid}`, other, { retention: { chat: 1 } })).status, 403)
      assert.equal((await s.api('PATCH', `/v1/sessions/${sid}`, learner, { retention: { chat: 1 } })).status, 403)
    })
  })

  describe(`retention job across instances on ${backend}`, () => {
    let offset = 0
    const clock = () => new Date(Date.now() + offset)
    let s: TestServer
    before(async () => {
      // No deployment periods: only what sessions ask for expires.
      s = await startTestServer(backend, { clock })
      // This test plays the instances itself.
      await s.services.retention.close()
    })
    after(() => s.stop())

    const job = (owner: string) =>
      new RetentionJob({ sql: s.db.sql, config: s.config.retention, maxTokenTtlSeconds: s.config.maxTokenTtlSeconds, clock, log: () => {}, owner, batchSize: 2, leaseMs: 60_000 })

    it('where the deployment keeps everything, a session may set any period; one instance runs; a run cut short by a crash resumes where it stopped', async () => {
      const sid = `ret-crash-${Date.now().toString(36)}`
      assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Crash', ownerId: 'own' })).status, 201)
      const owner = await s.token(sid, 'instructor', 'own')
      assert.equal((await s.api('PATCH', `/v1/sessions/${sid}`, owner, { retention: { chat: 400 } })).status, 200, 'no deployment period to stay under')
      assert.equal((await s.api('PATCH', `/v1/sessions/${sid}`, owner, { retention: { chat: 1 } })).status, 200)
      for (let i = 0; i < 7; i++) await s.db.sql`insert into chat_messages (session_id, user_id, name, role, body, created_at) values (${sid}, 'u1', 'U', 'learner', ${'old ' + i}, ${new Date(clock().getTime() - 2 * DAY)})`
      for (let i = 0; i < 2; i++) await s.db.sql`insert into chat_messages (session_id, user_id, name, role, body, created_at) values (${sid}, 'u1', 'U', 'learner', ${'new ' + i}, ${new Date(clock().getTime() - 3_600_000)})`
      const bodies = async () => (await s.db.sql<{ body: string }[]>`select body from chat_messages where session_id = ${sid} order by id`).map((r) => r.body)

      // Two instances ask at once: one gets the lease.
      const one = job('instance-one')
      const two = job('instance-two')
      const taken = await Promise.all([one.take({ force: true }), two.take({ force: true })])
      assert.deepEqual([...taken].sort(), ['busy', 'started'])
      const [first, second] = taken[0] === 'started' ? [one, two] : [two, one]
      const startedAt = (await s.db.sql<{ runAt: Date }[]>`select run_at as "runAt" from retention_job`)[0]!.runAt

      // The first does some of the work, then its process dies (it never lets go).
      let step = await first.batch()
      while (step === 'more' && (await bodies()).length === 9) step = await first.batch()
      assert.equal(step, 'more')
      assert.equal((await bodies()).length, 7, 'one batch of two deleted')
      assert.deepEqual(await second.run(), { outcome: 'busy' }, 'the lease is still held: the other instance does not run')

      // Its lease runs out; the other instance takes over and finishes the same run.
      offset += 61_000
      const resumed = await second.run()
      assert.equal(resumed.outcome, 'finished')
      assert.deepEqual(await bodies(), ['new 0', 'new 1'], 'exactly the expired messages are gone')
      if (resumed.outcome === 'finished') assert.equal(resumed.deleted.chat_messages, 7, 'the run’s totals include the batch done before the crash')
      const [row] = await s.db.sql<{ owner: string | null; lastStartedAt: Date; runAt: Date | null }[]>`select owner, last_started_at as "lastStartedAt", run_at as "runAt" from retention_job`
      assert.deepEqual([row!.owner, row!.runAt, row!.lastStartedAt.getTime()], [null, null, startedAt.getTime()], 'one run, resumed (not begun again), and the lease let go')
      assert.equal(await first.batch(), 'lost', 'the crashed instance, were it to wake, finds the run is no longer its own')

      // Not due again until the interval has passed, whichever instance asks.
      assert.deepEqual(await first.run(), { outcome: 'idle' })
      offset += s.config.retention.intervalSeconds * 1000
      assert.equal((await first.run()).outcome, 'finished')
    })

    it('closing lets the lease go at once, so another instance carries on without waiting for it to run out', async () => {
      const one = job('closing-one')
      assert.equal(await one.take({ force: true }), 'started')
      await one.close()
      const two = job('closing-two')
      assert.equal((await two.run()).outcome, 'finished')
    })
  })
}
