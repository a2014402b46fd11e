import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { AuditEntrySchema, AuditListSchema, parseApi, type AuditEntry } from '@session-kit/core/api'
import { main } from '../cli.js'
import { listAudit } from '../audit/entries.js'
import { mintToken } from '../auth/tokens.js'
import { openDatabase } from '../store/db.js'
import { backends, freshDataDir, freshPostgres, removeDir } from '../testing/db.js'
import { RawClient } from '../testing/client.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'
import { guestUserId } from './invitations.js'

const UA = 'AuditTest/1.0 (the instructor browser)'
const SOCKET_UA = 'AuditTest/1.0 (a socket)'
const HOST_UA = 'AuditTest/1.0 (the host backend)'

for (const backend of backends()) {
  describe(`the audit log on ${backend}`, () => {
    let s: TestServer
    const sid = 'audit-room'
    let owner: string, lea: string, obs: string
    before(async () => {
      s = await startTestServer(backend)
      assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Audit', ownerId: 'owner', files: { 'main.js': 'x' } })).status, 201)
      owner = await s.token(sid, 'instructor', 'owner', { name: 'Ada' })
      lea = await s.token(sid, 'learner', 'lea', { name: 'Grace' })
      obs = await s.token(sid, 'observer', 'obs', { name: 'Olu' })
      for (const t of [owner, lea, obs]) (await RawClient.connect(s.url, sid, t, { sync: false })).close()
    })
    after(() => s.stop())

    const host = (method: string, path: string, body?: unknown) => s.api(method, path, TEST_API_KEY, body, { 'user-agent': HOST_UA })
    const as = (token: string) => (method: string, path: string, body?: unknown) => s.api(method, path, token, body, { 'user-agent': UA })
    const ok = async (r: Promise<{ status: number; json: any }>, status = 200) => {
      const res = await r
      assert.equal(res.status, status, JSON.stringify(res.json))
      return res.json
    }

    async function newestId(): Promise<number> {
      const { json } = await host('GET', '/v1/audit?limit=1')
      return json.entries[0]?.id ?? 0
    }
    async function since(id: number): Promise<AuditEntry[]> {
      const { status, json } = await host('GET', '/v1/audit?limit=200')
      assert.equal(status, 200)
      return parseApi(AuditListSchema, json).entries.filter((e) => e.id > id).reverse()
    }

    /** What an instructor's request over HTTP is recorded as, but for the action's own fields. */
    const byOwner = { actorId: 'owner', actorRole: 'instructor', sessionId: sid, assignmentId: null, origin: { ip: '127.0.0.1', userAgent: UA, via: 'http' } }
    const byHost = { actorId: null, actorRole: 'host', origin: { ip: '127.0.0.1', userAgent: HOST_UA, via: 'http' } }

    /** Run `act`, then expect exactly these entries (in order), each at a time between the act's start and end. */
    async function audited(act: () => Promise<unknown>, expected: Partial<Record<keyof AuditEntry, unknown>>[]): Promise<AuditEntry[]> {
      const from = await newestId()
      const t0 = Date.now()
      await act()
      const t1 = Date.now()
      const got = await since(from)
      assert.equal(got.length, expected.length, `entries: ${JSON.stringify(got)}`)
      expected.forEach((want, i) => {
        const entry = parseApi(AuditEntrySchema, got[i])
        for (const [field, value] of Object.entries(want)) assert.deepEqual(entry[field as keyof AuditEntry], value, `${want.action}: ${field}`)
        const at = Date.parse(entry.at)
        assert.ok(at >= t0 - 2000 && at <= t1 + 2000, `${want.action}: at ${entry.at} within the request`)
      })
      return got
    }

    it('records each moderation and permission action over HTTP with actor, target, session, time and origin', async () => {
      const ins = as(owner)
      const p = `/v1/sessions/${sid}/participants`
      await audited(() => ok(ins('PATCH', `${p}/lea`, { role: 'observer' })), [{ ...byOwner, action: 'participant.role_changed', targetId: 'lea', details: { from: 'learner', to: 'observer' } }])
      await audited(() => ok(ins('PATCH', `${p}/lea`, { role: 'learner' })), [{ ...byOwner, action: 'participant.role_changed', targetId: 'lea', details: { from: 'observer', to: 'learner' } }])
      await audited(() => ok(ins('POST', `${p}/lea/mute`)), [{ ...byOwner, action: 'participant.muted', targetId: 'lea', details: {} }])
      await audited(() => ok(ins('POST', `${p}/lea/unmute`)), [{ ...byOwner, action: 'participant.unmuted', targetId: 'lea' }])
      await audited(() => ok(ins('PATCH', `${p}/lea`, { hidden: true })), [{ ...byOwner, action: 'participant.hidden', targetId: 'lea' }])
      await audited(() => ok(ins('PATCH', `${p}/lea`, { hidden: false })), [{ ...byOwner, action: 'participant.shown', targetId: 'lea' }])
      // Mute-all: one entry per person it changed.
      const muted = await audited(() => ok(ins('POST', `/v1/sessions/${sid}/mute-all`)), [
        { ...byOwner, action: 'participant.muted', details: { all: true } },
        { ...byOwner, action: 'participant.muted', details: { all: true } },
      ])
      assert.deepEqual(muted.map((e) => e.targetId).sort(), ['lea', 'obs'])
      await audited(() => ok(ins('POST', `/v1/sessions/${sid}/unmute-all`)), [
        { ...byOwner, action: 'participant.unmuted' },
        { ...byOwner, action: 'participant.unmuted' },
      ])
      await audited(() => ok(ins('POST', `/v1/sessions/${sid}/lock`)), [{ ...byOwner, action: 'session.editing_locked', targetId: null }])
      await audited(() => ok(ins('POST', `/v1/sessions/${sid}/unlock`)), [{ ...byOwner, action: 'session.editing_unlocked', targetId: null }])

      // A learner's chat message, taken down by the instructor: against its author.
      const chat = await RawClient.connect(s.url, sid, lea)
      chat.send({ type: 'chat', text: 'something unkind' })
      assert.ok(await chat.waitFor(() => chat.events.some((e) => e.type === 'chat')))
      const messageId = chat.events.find((e) => e.type === 'chat').message.id
      chat.close()
      await audited(() => s.api('DELETE', `/v1/sessions/${sid}/chat/${messageId}`, owner, undefined, { 'user-agent': UA }).then((r) => assert.equal(r.status, 204)), [
        { ...byOwner, action: 'chat.message_deleted', targetId: 'lea', details: { messageId } },
      ])

      // A learner's snapshot deleted by the instructor.
      const snap = await ok(as(lea)('POST', `/v1/sessions/${sid}/snapshots`, { title: 'mine' }), 201)
      await audited(() => ins('DELETE', `/v1/sessions/${sid}/snapshots/${snap.id}`).then((r) => assert.equal(r.status, 204)), [
        { ...byOwner, action: 'snapshot.deleted', targetId: snap.id, details: { creatorRole: 'learner', own: false } },
      ])

      // A recording: started, stopped, deleted.
      const [started] = await audited(() => ok(ins('POST', `/v1/sessions/${sid}/recordings`, { title: 'Lesson' }), 201), [{ ...byOwner, action: 'recording.started', details: { isPublic: false } }])
      const rid = started!.targetId!
      await audited(() => ok(ins('POST', `/v1/sessions/${sid}/recordings/${rid}/stop`)), [{ ...byOwner, action: 'recording.stopped', targetId: rid }])
      await audited(() => ins('DELETE', `/v1/sessions/${sid}/recordings/${rid}`).then((r) => assert.equal(r.status, 204)), [{ ...byOwner, action: 'recording.deleted', targetId: rid }])

      // Invitations: the invitee as the user id they will have, never their address.
      const invitee = guestUserId('new.person@example.edu')
      const [sent] = await audited(() => ok(ins('POST', `/v1/sessions/${sid}/invitations`, { email: 'new.person@example.edu', role: 'learner' }), 201), [
        { ...byOwner, action: 'invitation.sent', targetId: invitee },
      ])
      const invitationId = sent!.details.invitationId as string
      assert.deepEqual(sent!.details, { invitationId, role: 'learner' })
      assert.ok(!JSON.stringify(sent).includes('example.edu'), 'no address in the log')
      await audited(() => ok(ins('POST', `/v1/sessions/${sid}/invitations/${invitationId}/resend`, { notify: false })), [
        { ...byOwner, action: 'invitation.sent', targetId: invitee, details: { invitationId, role: 'learner', resent: true, mailed: false } },
      ])
      await audited(() => ok(ins('DELETE', `/v1/sessions/${sid}/invitations/${invitationId}`)), [{ ...byOwner, action: 'invitation.revoked', targetId: invitee, details: { invitationId } }])

      // Removed, then let back in.
      await audited(() => ok(ins('POST', `${p}/obs/kick`)), [{ ...byOwner, action: 'participant.removed', targetId: 'obs' }])
      await audited(() => ok(ins('POST', `${p}/obs/unban`)), [{ ...byOwner, action: 'participant.unbanned', targetId: 'obs' }])
    })

    it('records an instructor’s lecture actions on others over the socket, with the socket’s address and user agent', async () => {
      const bySocket = { actorId: 'owner', actorRole: 'instructor', sessionId: sid, origin: { ip: '127.0.0.1', userAgent: SOCKET_UA, via: 'socket' } }
      const ins = await RawClient.connect(s.url, sid, owner, { headers: { 'user-agent': SOCKET_UA } })
      const learner = await RawClient.connect(s.url, sid, lea)
      assert.ok(await ins.waitFor(() => ins.text() !== undefined))
      const lecture = () => ins.events.filter((e) => e.type === 'lecture').at(-1)?.lecture
      const handUp = () => lecture()?.hands.some((h: { userId: string }) => h.userId === 'lea') === true

      learner.send({ type: 'hand', raised: true, question: 'why?' })
      assert.ok(await ins.waitFor(handUp))
      await audited(async () => {
        ins.send({ type: 'hand', raised: false, userId: 'lea' })
        assert.ok(await ins.waitFor(() => !handUp()))
      }, [{ ...bySocket, action: 'lecture.hand_lowered', targetId: 'lea' }])

      learner.send({ type: 'hand', raised: true })
      assert.ok(await ins.waitFor(handUp))
      await audited(async () => {
        ins.send({ type: 'hand', raised: false, all: true })
        assert.ok(await ins.waitFor(() => lecture()?.handCount === 0))
      }, [{ ...bySocket, action: 'lecture.hands_cleared', targetId: null }])

      await audited(async () => {
        ins.send({ type: 'spotlight', userId: 'lea' })
        assert.ok(await ins.waitFor(() => lecture()?.spotlight?.userId === 'lea'))
      }, [{ ...bySocket, action: 'lecture.spotlight_started', targetId: 'lea', details: {} }])
      ins.send({ type: 'spotlight', userId: null })
      assert.ok(await ins.waitFor(() => lecture()?.spotlight === null))

      // A learner may not lower someone else's hand: refused, and nothing recorded.
      await audited(async () => {
        const errors = learner.events.filter((e) => e.type === 'error').length
        learner.send({ type: 'hand', raised: false, all: true })
        assert.ok(await learner.waitFor(() => learner.events.filter((e) => e.type === 'error').length > errors))
        assert.equal(learner.events.filter((e) => e.type === 'error').at(-1).code, 'forbidden')
      }, [])
      for (const c of [ins, learner]) c.close()
    })

    it('records nothing for a refused or failed action', async () => {
      const p = `/v1/sessions/${sid}/participants`
      await audited(async () => {
        assert.equal((await as(lea)('POST', `${p}/obs/mute`)).status, 403, 'a learner may not mute')
        assert.equal((await as(lea)('POST', `/v1/sessions/${sid}/lock`)).status, 403, 'nor lock')
        assert.equal((await as(owner)('POST', `${p}/owner/kick`)).status, 400, 'nobody removes themselves')
        assert.equal((await as(owner)('POST', `${p}/nobody/mute`)).status, 404, 'nobody to mute')
        assert.equal((await as(owner)('POST', `${p}/lea/unban`)).status, 404, 'not banned')
        assert.equal((await as(owner)('DELETE', `/v1/sessions/${sid}/recordings/missing`)).status, 404)
        assert.equal((await host('DELETE', '/v1/sessions/no-such-session')).status, 404)
        assert.equal((await s.api('DELETE', '/v1/sessions/audit-room', 'wrong-key')).status, 401)
      }, [])
    })

    it('records the host’s and assignment instructors’ actions: assignments, LTI platforms, deleting a session', async () => {
      const aid = 'audit-hw'
      assert.equal((await host('POST', '/v1/assignments', { id: aid, title: 'HW', instructions: '', language: 'javascript', files: { 'main.js': '1' }, ownerId: 'owner' })).status, 201)
      const teacher = await mintToken({ sub: 'teach', name: 'Teach', role: 'instructor', assignment: aid }, TEST_SECRET, { ttl: '1h' })
      const byTeacher = { actorId: 'teach', actorRole: 'instructor', sessionId: null, assignmentId: aid, origin: { ip: '127.0.0.1', userAgent: UA, via: 'http' } }
      await audited(() => ok(as(teacher)('POST', `/v1/assignments/${aid}/close`)), [{ ...byTeacher, action: 'assignment.closed' }])
      await audited(() => ok(as(teacher)('PATCH', `/v1/assignments/${aid}`, { closed: false })), [{ ...byTeacher, action: 'assignment.reopened' }])
      await audited(() => host('DELETE', `/v1/assignments/${aid}`).then((r) => assert.equal(r.status, 204)), [{ ...byHost, action: 'assignment.deleted', assignmentId: aid, details: { rooms: 0 } }])

      const platform = { issuer: 'https://lms.example.edu', clientId: 'c1', authUrl: 'https://lms.example.edu/auth', tokenUrl: 'https://lms.example.edu/token', jwksUrl: 'https://lms.example.edu/jwks', deploymentIds: ['d1'] }
      const [added] = await audited(() => ok(host('POST', '/v1/lti/platforms', platform), 201), [{ ...byHost, action: 'lti.platform_added', details: { created: true, registeredBy: 'admin', deployments: 1 } }])
      await audited(() => host('DELETE', `/v1/lti/platforms/${added!.targetId}`).then((r) => assert.equal(r.status, 204)), [{ ...byHost, action: 'lti.platform_removed', targetId: added!.targetId }])

      assert.equal((await host('POST', '/v1/sessions', { id: 'audit-gone', title: 'Gone', ownerId: 'owner' })).status, 201)
      await audited(() => host('DELETE', '/v1/sessions/audit-gone').then((r) => assert.equal(r.status, 204)), [{ ...byHost, action: 'session.deleted', sessionId: 'audit-gone', targetId: null }])
    })

    it('GET /v1/sessions/:sid/audit needs EXPORT_DATA and pages the session’s own entries, newest first', async () => {
      const refused = await s.api('GET', `/v1/sessions/${sid}/audit`, lea)
      assert.equal(refused.status, 403)
      assert.equal(refused.json.error.permission, 'EXPORT_DATA')
      assert.equal((await s.api('GET', `/v1/sessions/${sid}/audit`, obs)).status, 403)

      const all = parseApi(AuditListSchema, await ok(s.api('GET', `/v1/sessions/${sid}/audit?limit=200`, owner)))
      assert.ok(all.entries.length >= 20, `${all.entries.length} entries`)
      assert.ok(all.entries.every((e) => e.sessionId === sid), 'only this session’s')
      assert.ok(all.entries.every((e, i) => i === 0 || e.id < all.entries[i - 1]!.id), 'newest first')
      const seen: number[] = []
      let before: number | null = null
      do {
        const page: { entries: AuditEntry[]; next: number | null } = await ok(s.api('GET', `/v1/sessions/${sid}/audit?limit=7${before ? `&before=${before}` : ''}`, owner))
        assert.ok(page.entries.length <= 7)
        seen.push(...page.entries.map((e) => e.id))
        before = page.next
      } while (before !== null)
      assert.deepEqual(seen, all.entries.map((e) => e.id), 'the pages together are the whole log, once each')
      assert.equal((await s.api('GET', `/v1/sessions/${sid}/audit?limit=0`, owner)).status, 400)
      assert.equal((await s.api('GET', `/v1/sessions/${sid}/audit?before=x`, owner)).status, 400)
    })

    it('GET /v1/audit is the host’s, filtered by session, actor, target, action and time', async () => {
      const get = async (query: string) => parseApi(AuditListSchema, await ok(host('GET', `/v1/audit?limit=200&${query}`))).entries
      const muted = await get(`sessionId=${sid}&action=participant.muted`)
      assert.ok(muted.length >= 3 && muted.every((e) => e.action === 'participant.muted' && e.sessionId === sid))
      const byTeacher = await get('actorId=teach')
      assert.deepEqual(byTeacher.map((e) => e.action).reverse(), ['assignment.closed', 'assignment.reopened'])
      const aboutLea = await get('targetId=lea')
      assert.ok(aboutLea.length >= 8 && aboutLea.every((e) => e.targetId === 'lea'))
      assert.deepEqual((await get('assignmentId=audit-hw')).length, 3)
      const newest = (await get(''))[0]!
      assert.ok((await get(`from=${encodeURIComponent(new Date(Date.parse(newest.at) + 60_000).toISOString())}`)).length === 0, 'nothing from the future')
      assert.ok((await get('to=2000-01-01')).length === 0, 'nothing before 2000')
      assert.ok((await get(`from=2000-01-01&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).length > 20)

      const bad = await host('GET', '/v1/audit?action=participant.tickled')
      assert.equal(bad.status, 400)
      assert.equal(bad.json.error.field, 'action')
      assert.equal((await host('GET', '/v1/audit?from=yesterday')).status, 400)
      assert.equal((await host('GET', '/v1/audit?to=2025-03-01T09:30')).status, 400, 'a time needs its zone')
      assert.equal((await s.api('GET', '/v1/audit')).status, 401)
      assert.equal((await s.api('GET', '/v1/audit', owner)).status, 401, 'a room token is not the API key')
    })

    it('is append-only in the database: UPDATE, DELETE and TRUNCATE are refused; erasure and retention go through their functions', async () => {
      const { sql } = s.db
      await assert.rejects(sql`update audit_log set action = 'participant.muted'`, /append-only/)
      await assert.rejects(sql`update audit_log set target_id = 'former-participant:forged' where target_id = 'lea'`, /append-only/, 'not even to a placeholder, outside audit_forget')
      await assert.rejects(sql`delete from audit_log`, /append-only/)
      await assert.rejects(sql`truncate audit_log`, /append-only/)
      // Switching the guard on by hand still allows nothing but a person's id to change.
      await assert.rejects(
        sql.begin(async (tx) => {
          await tx`select set_config('session_kit.audit_forget', 'on', true)`
          await tx`update audit_log set details = '{}' where target_id = 'lea'`
        }),
        /append-only/,
      )

      const aboutLea = (await sql<{ n: number }[]>`select count(*)::int as n from audit_log where target_id = 'lea' or actor_id = 'lea'`)[0]!.n
      assert.ok(aboutLea > 0)
      await assert.rejects(
        sql.begin(async (tx) => {
          const [{ placeholder }] = await tx<{ placeholder: string }[]>`select audit_forget('lea') as placeholder`
          assert.match(placeholder, /^former-participant:[0-9a-f]{16}$/)
          // The guard is off again once the function is done.
          await tx`update audit_log set target_id = 'former-participant:forged' where target_id = 'obs'`
        }),
        /append-only/,
      )
      const [{ placeholder }] = await sql<{ placeholder: string }[]>`select audit_forget('lea') as placeholder`
      const left = await sql<{ n: number }[]>`select count(*)::int as n from audit_log where target_id = 'lea' or actor_id = 'lea'`
      assert.equal(left[0]!.n, 0)
      const replaced = await sql<{ n: number }[]>`select count(*)::int as n from audit_log where target_id = ${placeholder} or actor_id = ${placeholder}`
      assert.equal(replaced[0]!.n, aboutLea, 'every entry about her now names one former participant')

      const total = (await sql<{ n: number }[]>`select count(*)::int as n from audit_log`)[0]!.n
      assert.equal((await sql<{ n: number }[]>`select audit_expire(now() - interval '1 day') as n`)[0]!.n, 0, 'nothing is a day old')
      assert.equal((await sql<{ n: number }[]>`select audit_expire(now() + interval '1 day') as n`)[0]!.n, total)
      await ok(as(owner)('POST', `/v1/sessions/${sid}/lock`))
      await assert.rejects(sql`delete from audit_log`, /append-only/, 'and the guard is back on')
    })
  })
}

for (const backend of backends()) {
  describe(`the audit log of the command line on ${backend}`, () => {
    it('records adding an LMS and rotating the keys as the host, via the CLI', async () => {
      const dataDir = await freshDataDir()
      const pg = backend === 'postgres' ? await freshPostgres() : undefined
      // The command line reads DATABASE_URL when not given --database-url: point it at this test's database only.
      const where = pg ? ['--database-url', pg.url] : ['--data-dir', dataDir]
      const saved = { log: console.log, error: console.error, url: process.env.DATABASE_URL }
      console.log = () => {}
      console.error = () => {}
      delete process.env.DATABASE_URL
      try {
        const flags = ['--issuer', 'https://lms.example.edu', '--client-id', 'c9', '--auth-url', 'https://lms.example.edu/auth', '--token-url', 'https://lms.example.edu/token', '--jwks-url', 'https://lms.example.edu/jwks', '--deployment', 'd1']
        assert.equal(await main(['lti', 'add-platform', ...flags, ...where]), 0)
        assert.equal(await main(['lti', 'rotate-keys', ...where]), 0)
      } finally {
        Object.assign(console, { log: saved.log, error: saved.error })
        if (saved.url !== undefined) process.env.DATABASE_URL = saved.url
      }
      const db = await openDatabase({ dataDir, databaseUrl: pg?.url })
      try {
        const { entries } = await listAudit(db.sql, { limit: 10 })
        const cli = { actorId: null, actorRole: 'host', origin: { ip: null, userAgent: null, via: 'cli' } }
        assert.deepEqual(
          entries.map(({ action, actorId, actorRole, origin }) => ({ action, actorId, actorRole, origin })),
          [
            { action: 'lti.keys_rotated', ...cli },
            { action: 'lti.platform_added', ...cli },
          ],
        )
        assert.match(entries[0]!.targetId!, /^sk-/)
        assert.match(entries[1]!.targetId!, /^p[0-9a-f]{10}$/)
      } finally {
        await db.close()
        await pg?.drop()
        removeDir(dataDir)
      }
    })
  })
}
