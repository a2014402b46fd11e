import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, type TestServer } from '../testing/server.js'

/** A real SMTP server in this process: every mail it receives, parsed. */
async function smtpInbox() {
  const mails: ParsedMail[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, done) {
      simpleParser(stream).then((m) => {
        mails.push(m)
        done()
      }, done)
    },
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.server.address() as AddressInfo).port
  return { mails, url: `smtp://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) }
}

const HOUR = 3_600_000

for (const backend of [oneBackend()]) {
  describe(`invitations on ${backend}`, () => {
    let s: TestServer
    let inbox: Awaited<ReturnType<typeof smtpInbox>>
    let offset = 0
    before(async () => {
      inbox = await smtpInbox()
      s = await startTestServer(backend, {
        clock: () => new Date(Date.now() + offset),
        env: { SMTP_URL: inbox.url, SESSION_KIT_INVITE_URL: 'https://lms.example.edu/course/42?tab=code' },
      })
    })
    after(async () => {
      await s.stop()
      await inbox.close()
    })

    let n = 0
    async function session(label: string) {
      const id = `${label}-${Date.now().toString(36)}-${n++}`
      const owner = `owner-${id}`
      const res = await s.api('POST', '/v1/sessions', undefined, { id, title: `Course ${label}`, ownerId: owner }, { authorization: 'Bearer test-api-key' })
      assert.equal(res.status, 201)
      return { id, ins: await s.token(id, 'instructor', owner, { name: 'Ada Lovelace' }), owner }
    }
    const mailTo = async (to: string) => {
      const sentTo = (m: ParsedMail) => JSON.stringify(m.to ?? '').toLowerCase().includes(to.toLowerCase())
      for (let i = 0; i < 100 && !inbox.mails.some(sentTo); i++) await new Promise((r) => setTimeout(r, 30))
      const mail = [...inbox.mails].reverse().find(sentTo)
      assert.ok(mail, `no mail reached ${to}`)
      return mail
    }
    const linkToken = (mail: ParsedMail) => {
      const link = /https:\/\/lms\.example\.edu\/course\/42\?tab=code&invite=[\w-]+/.exec(mail.text ?? '')?.[0]
      assert.ok(link, 'the mail carries the link on the host page')
      return new URL(link).searchParams.get('invite')!
    }

    it('mails a link that can be accepted exactly once, giving a room token with the invited role', async () => {
      const { id, ins } = await session('accept')
      const r = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'grace@example.edu', role: 'learner', name: 'Grace' })
      assert.equal(r.status, 201)
      assert.equal(r.json.status, 'pending')
      assert.equal(r.json.role, 'learner')
      assert.match(r.json.link, /invite=/)
      const mail = await mailTo('grace@example.edu')
      assert.match(mail.subject!, /Ada Lovelace invited you to “Course accept”/)
      assert.match(mail.text!, /as a learner/)
      assert.match(mail.text!, /expires on/)
      assert.ok(mail.html && (mail.html as string).includes('Join the session'), 'an HTML part too')
      const token = linkToken(mail)
      const [{ hash }] = await s.db.sql`select token_hash as hash from invitations where id = ${r.json.id}`
      assert.notEqual(hash, token, 'only a hash of the token is stored')
      const peek = await s.api('GET', `/v1/invitations/${token}`)
      assert.deepEqual([peek.json.sessionTitle, peek.json.role, peek.json.inviterName, peek.json.status], ['Course accept', 'learner', 'Ada Lovelace', 'pending'])
      const ok = await s.api('POST', `/v1/invitations/${token}/accept`, undefined, { name: 'Grace H.' })
      assert.equal(ok.status, 200)
      assert.equal(ok.json.role, 'learner')
      assert.equal(ok.json.sessionId, id)
      const room = await RawClient.connect(s.url, id, ok.json.token)
      assert.ok(room.welcome, 'the returned token opens the room')
      assert.deepEqual([room.welcome.participant.role, room.welcome.participant.name], ['learner', 'Grace H.'])
      room.close()
      const again = await s.api('POST', `/v1/invitations/${token}/accept`, undefined, {})
      assert.equal(again.status, 410)
      assert.equal(again.json.error.code, 'invitation_accepted')
      const refreshed = await s.api('POST', '/v1/tokens/refresh', ok.json.token)
      assert.equal(refreshed.status, 200, 'a guest renews the token to come back later')
      const list = await s.api('GET', `/v1/sessions/${id}/invitations`, ins)
      assert.equal(list.json.invitations[0].status, 'accepted')
      assert.ok(!JSON.stringify(list.json).includes(token), 'the list never carries tokens')
      const participants = await s.api('GET', `/v1/sessions/${id}/participants`, ins)
      const grace = participants.json.participants.find((p: { name: string }) => p.name === 'Grace H.')
      assert.ok(grace && grace.role === 'learner', 'the participant is recorded with the invited role')
    })

    it('revoked → 410; expired (clock moved) → 410 and status expired; resend kills the old link', async () => {
      const { id, ins } = await session('states')
      const revoked = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'r@example.edu', role: 'observer' })
      const revokedToken = linkToken(await mailTo('r@example.edu'))
      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/invitations/${revoked.json.id}`, ins)).json.status, 'revoked')
      const r1 = await s.api('POST', `/v1/invitations/${revokedToken}/accept`, undefined, {})
      assert.equal(r1.status, 410)
      assert.equal(r1.json.error.code, 'invitation_revoked')

      await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'e@example.edu', role: 'learner', expiresInHours: 2 })
      const expiredToken = linkToken(await mailTo('e@example.edu'))
      offset = 3 * HOUR
      try {
        const e1 = await s.api('POST', `/v1/invitations/${expiredToken}/accept`, undefined, {})
        assert.equal(e1.status, 410)
        assert.equal(e1.json.error.code, 'invitation_expired')
        assert.equal((await s.api('GET', `/v1/invitations/${expiredToken}`)).json.status, 'expired')
        const listed = (await s.api('GET', `/v1/sessions/${id}/invitations`, ins)).json.invitations.find((i: { email: string }) => i.email === 'e@example.edu')
        assert.equal(listed.status, 'expired', 'expired without any job having run')
      } finally {
        offset = 0
      }

      const first = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'twice@example.edu', role: 'learner' })
      const oldToken = linkToken(await mailTo('twice@example.edu'))
      inbox.mails.length = 0
      const resent = await s.api('POST', `/v1/sessions/${id}/invitations/${first.json.id}/resend`, ins, {})
      assert.equal(resent.status, 200)
      const newToken = linkToken(await mailTo('twice@example.edu'))
      assert.notEqual(newToken, oldToken)
      assert.equal((await s.api('GET', `/v1/invitations/${oldToken}`)).status, 404, 'the old link stops working')
      assert.equal((await s.api('POST', `/v1/invitations/${oldToken}/accept`, undefined, {})).status, 404)
      assert.equal((await s.api('POST', `/v1/invitations/${newToken}/decline`)).json.status, 'declined')
      assert.equal((await s.api('POST', `/v1/invitations/${newToken}/accept`, undefined, {})).status, 410)
    })

    it('creates one invitation per pasted address, reporting each', async () => {
      const { id, ins } = await session('bulk')
      await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'dup@example.edu', role: 'learner' })
      const r = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { emails: 'a@example.edu, b@example.edu\nnot-an-email  DUP@example.edu;a@example.edu', role: 'observer' })
      assert.equal(r.status, 201)
      assert.deepEqual(
        r.json.results.map((x: { email: string; result: string }) => [x.email, x.result]),
        [
          ['a@example.edu', 'created'],
          ['b@example.edu', 'created'],
          ['not-an-email', 'invalid'],
          ['DUP@example.edu', 'already_invited'],
        ],
      )
    })

    it('validates input with clear errors', async () => {
      const { id, ins } = await session('validate')
      const bad = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'nope', role: 'learner' })
      assert.equal(bad.status, 400)
      assert.equal(bad.json.error.code, 'invalid_email')
      const role = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'x@example.edu', role: 'admin' })
      assert.equal(role.status, 400)
      assert.match(role.json.error.message, /instructor, learner, observer/)
      const hours = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'x@example.edu', role: 'learner', expiresInHours: 1000 })
      assert.equal(hours.status, 400)
      assert.match(hours.json.error.message, /720/)
      await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'x@example.edu', role: 'learner' })
      assert.equal((await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'X@example.edu', role: 'learner' })).status, 409)
    })

    it('a guest’s name must be one people can read: control characters, direction overrides and invisible names get 400', async () => {
      const { id, ins } = await session('names')
      const invite = async (email: string) => {
        assert.equal((await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email, role: 'learner' })).status, 201)
        return linkToken(await mailTo(email))
      }
      const token = await invite('names@example.edu')
      const bad: [string, RegExp][] = [
        ['Ada\nLovelace', /control characters/],
        ['Ada\u0000', /U\+0000/],
        ['Ada \u202eecalevoL', /text-direction/],
        ['Eve \u2066x\u2069', /text-direction/],
        ['\u200b\u200b', /invisible/],
        ['\u3164', /invisible/],
        ['\u200c\u0301', /visible letter/],
        ['   ', /empty/],
      ]
      for (const [name, why] of bad) {
        const r = await s.api('POST', `/v1/invitations/${token}/accept`, undefined, { name })
        assert.equal(r.status, 400, JSON.stringify(name))
        assert.equal(r.json.error.code, 'validation_failed')
        assert.match(r.json.error.message, why, JSON.stringify(name))
      }
      const ok = await s.api('POST', `/v1/invitations/${token}/accept`, undefined, { name: ' Zoë Ñúñez ' })
      assert.equal(ok.status, 200, 'the refused names did not use the invitation up')
      assert.equal(ok.json.name, 'Zoë Ñúñez')
      for (const name of ['李雷', "O'Brien"]) {
        const r = await s.api('POST', `/v1/invitations/${await invite(`n${name.length}@example.edu`)}/accept`, undefined, { name })
        assert.equal(r.status, 200, name)
        assert.equal(r.json.name, name)
      }
      const named = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'named@example.edu', role: 'learner', name: 'Mallory\u202e' })
      assert.equal(named.status, 400, 'the name an instructor gives follows the same rule')
      assert.match(named.json.error.message, /^name: a name cannot contain text-direction/)
    })

    it('a learner’s token gets 403 on every invitation route, and only instructors see the list', async () => {
      const { id, ins } = await session('deny')
      const inv = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'z@example.edu', role: 'learner' })
      for (const role of ['learner', 'observer'] as const) {
        const t = await s.token(id, role, `${role}-1`)
        for (const [method, path, body] of [
          ['POST', '/invitations', { email: 'q@example.edu', role: 'learner' }],
          ['GET', '/invitations'],
          ['POST', `/invitations/${inv.json.id}/resend`, {}],
          ['DELETE', `/invitations/${inv.json.id}`],
        ] as const) {
          const r = await s.api(method, `/v1/sessions/${id}${path}`, t, body)
          assert.equal(r.status, 403, `${role} ${method} ${path}`)
          assert.equal(r.json.error.permission, 'INVITE_PARTICIPANTS')
        }
      }
    })

    it('a banned participant is not invited again, and cannot accept an invitation sent before the ban', async () => {
      const { id, ins } = await session('banned')
      await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'mallory@example.edu', role: 'learner' })
      const first = await s.api('POST', `/v1/invitations/${linkToken(await mailTo('mallory@example.edu'))}/accept`, undefined, {})
      assert.equal(first.status, 200)
      const before = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'Mallory@Example.edu', role: 'learner' })
      assert.equal(before.status, 201, 'a second invitation, still pending when the ban comes')
      const link = linkToken(await mailTo('Mallory@Example.edu'))
      assert.equal((await s.api('POST', `/v1/sessions/${id}/participants/${first.json.userId}/kick`, ins)).status, 200)
      // Before: a banned address could be invited again (the refusal came only on accepting).
      const again = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'MALLORY@example.edu', role: 'learner' })
      assert.equal(again.status, 409)
      assert.equal(again.json.error.code, 'banned')
      assert.match(again.json.error.message, /unban them/)
      const bulk = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { emails: 'mallory@example.edu, friend@example.edu', role: 'learner' })
      assert.deepEqual(bulk.json.results.map((r: { email: string; result: string }) => [r.email, r.result]), [['mallory@example.edu', 'banned'], ['friend@example.edu', 'created']])
      const refused = await s.api('POST', `/v1/invitations/${link}/accept`, undefined, {})
      assert.equal(refused.status, 403)
      assert.equal(refused.json.error.code, 'removed')
    })

    it('the 21st invitation in an hour gets 429 with a retry time', async () => {
      const { id, ins } = await session('limit')
      const results: number[] = []
      for (let i = 0; i < 21; i++) results.push((await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: `p${i}@example.edu`, role: 'observer' })).status)
      assert.deepEqual(results.slice(0, 20), Array(20).fill(201))
      const last = await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'p99@example.edu', role: 'observer' })
      assert.equal(last.status, 429)
      assert.ok(Number(last.headers.get('retry-after')) > 0, 'Retry-After is set')
      assert.equal(last.json.error.code, 'rate_limited')
      offset = HOUR + 60_000
      try {
        assert.equal((await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'p100@example.edu', role: 'observer' })).status, 201, 'allowed again an hour later')
      } finally {
        offset = 0
      }
    })

    it('tells instructors in the room when an invitee accepts', async () => {
      const { id, ins, owner } = await session('live')
      const teacher = await RawClient.connect(s.url, id, await s.token(id, 'instructor', owner, { name: 'Ada' }), { sync: false })
      await s.api('POST', `/v1/sessions/${id}/invitations`, ins, { email: 'live@example.edu', role: 'learner' })
      await s.api('POST', `/v1/invitations/${linkToken(await mailTo('live@example.edu'))}/accept`, undefined, {})
      assert.ok(await teacher.waitFor(() => teacher.events.some((e) => e.type === 'invitation' && e.status === 'accepted')), 'the instructor heard about it')
      teacher.close()
    })
  })
}

describe('invitations without SMTP', () => {
  it('go to the outbox table and the log, with the link', async () => {
    const s = await startTestServer('pglite')
    try {
      const id = 'outbox-room'
      await s.api('POST', '/v1/sessions', undefined, { id, title: 'Outbox', ownerId: 'o' }, { authorization: 'Bearer test-api-key' })
      const r = await s.api('POST', `/v1/sessions/${id}/invitations`, await s.token(id, 'instructor', 'o'), { email: 'dev@example.edu', role: 'learner' })
      const [row] = await s.db.sql`select to_address, link, sent_at from outbox`
      assert.equal(row?.to_address, 'dev@example.edu')
      assert.equal(row?.link, r.json.link)
      assert.equal(row?.sent_at, null)
      assert.ok((s as unknown as { logs: string[] }).logs.some((l) => l.includes(r.json.link)), 'a log line carries the link')
      assert.ok(r.json.link.startsWith(`${s.config.publicUrl}/invite?invite=`), 'default link: PUBLIC_URL/invite')
    } finally {
      await s.stop()
    }
  })
})
