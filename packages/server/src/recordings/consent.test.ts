import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ANONYMOUS_AUTHOR, type Replay, type ReplayEvent } from '@session-kit/core'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, type TestServer } from '../testing/server.js'
import { Attribution } from './consent.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The text an edit inserted (all its splices). */
const inserted = (e: ReplayEvent) => (e.type === 'edit' ? e.splices.map((s) => s.ins).join('') : '')

describe('who a recording may name, and when (Attribution)', () => {
  const told = new Map([
    ['ada', 1000],
    ['lea', 2000],
  ])
  it('notice: nobody before they were told, everyone after; the server always; recordings before policies: everyone', () => {
    const a = new Attribution('notice', told, [])
    assert.equal(a.named('lea', 1999), false, 'an edit stored before the notice is not theirs')
    assert.equal(a.named('lea', 2000), true)
    assert.equal(a.named('kim', 5000), false, 'never told: never named')
    assert.equal(a.named('', 0), true, 'the server itself')
    assert.equal(a.presence('lea', 1990), true, 'arriving is stamped around the welcome that told them')
    assert.equal(a.presence('kim', 5000), false)
    assert.equal(a.consentedBetween(0, 9000), null, 'nobody is asked under notice')
    assert.equal(new Attribution(null, new Map(), []).named('kim', 1), true)
  })
  it('consent: only while their latest decision allows it, changing their mind either way', () => {
    const a = new Attribution('consent', told, [
      { userId: 'lea', consent: true, at: 500 },
      { userId: 'lea', consent: false, at: 3000 },
      { userId: 'lea', consent: true, at: 4000 },
      { userId: 'dan', consent: false, at: 100 },
    ])
    assert.equal(a.named('lea', 1500), false, 'consenting but not yet told')
    assert.equal(a.named('lea', 2500), true)
    assert.equal(a.named('lea', 3500), false, 'declined meanwhile')
    assert.equal(a.named('lea', 4000), true, 'changed their mind back')
    assert.equal(a.named('ada', 1500), false, 'told, never decided: not recorded under consent')
    assert.deepEqual(a.consentedBetween(3100, 3900), [], 'declining all through this stretch')
    assert.deepEqual(a.consentedBetween(3100, 4100), ['lea'], 'allowing it again within this one')
    assert.deepEqual(a.consentedBetween(600, 700), ['lea'], 'allowed before this stretch began')
    assert.deepEqual(a.consentedBetween(0, 9000), ['lea'], 'dan only ever declined')
  })
})

for (const backend of [oneBackend()]) {
  describe(`recording consent and notice on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    async function session(id: string, extra: Record<string, unknown> = {}) {
      const made = await s.api('POST', '/v1/sessions', TEST_API_KEY, { id, title: id, ownerId: 'ins', files: { 'main.js': '' }, ...extra })
      assert.equal(made.status, 201, JSON.stringify(made.json))
      return made.json
    }

    async function joined(id: string, role: 'instructor' | 'learner' | 'observer', user: string, name: string) {
      const token = await s.token(id, role, user, { name })
      const c = await RawClient.connect(s.url, id, token)
      assert.ok(c.welcome, `${user} welcomed`)
      if (role !== 'observer') assert.ok(await c.waitFor(() => c.text() !== undefined), `${user} synced`)
      return { c, token }
    }

    /** Type at the end of main.js and wait until the server stored it. */
    async function typed(c: RawClient, text: string) {
      const hash = c.type('main.js', c.text()!.length, text)
      assert.ok(await c.waitFor(() => c.acked.has(hash)), `"${text}" stored`)
    }

    async function chatted(c: RawClient, text: string) {
      c.send({ type: 'chat', text })
      assert.ok(await c.waitFor(() => c.events.some((e) => e.type === 'chat' && e.message.text === text)), `"${text}" shared`)
    }

    async function replayOf(id: string, recId: string, token: string): Promise<{ replay: Replay; meta: any }> {
      let meta: any
      for (let i = 0; i < 200; i++) {
        meta = (await s.api('GET', `/v1/sessions/${id}/recordings/${recId}`, token)).json
        if (meta.status === 'ready' || meta.status === 'failed') break
        await sleep(50)
      }
      assert.equal(meta.status, 'ready', JSON.stringify(meta))
      const res = await fetch(`${s.url}/v1/sessions/${id}/recordings/${recId}/events`, { headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'identity' } })
      assert.equal(res.status, 200)
      return { replay: (await res.json()) as Replay, meta }
    }

    it('notice: everyone present and every joiner is told before anything of theirs is recorded; an untold author stays anonymous', async () => {
      const id = `notice-${Date.now().toString(36)}`
      const created = await session(id)
      assert.equal(created.recordingPolicy, 'notice', 'notice is the default')
      assert.equal(created.pseudonymize, false)
      const ins = await joined(id, 'instructor', 'ins', 'Ada')
      const lea = await joined(id, 'learner', 'lea', 'Lea')
      assert.equal(lea.c.welcome.session.recordingPolicy, 'notice')
      assert.equal(lea.c.welcome.session.recordingConsent, undefined, 'nobody is asked under notice')

      // Storing that people were told takes a while here (their earlier edits being stored first):
      // what the learner sends the moment she is told waits for it, and so is hers.
      const room = s.hub.rooms.get(id)!
      const settled = room.settled.bind(room)
      room.settled = () => sleep(1500).then(settled)
      const starting = s.api('POST', `/v1/sessions/${id}/recordings`, ins.token, { title: 'Notice' })
      assert.ok(await lea.c.waitFor(() => lea.c.events.some((e) => e.type === 'session' && e.session.recordingState === 'recording')), 'the learner present is told')
      await typed(lea.c, 'L')
      const rec = await starting
      room.settled = settled
      assert.equal(rec.status, 201)
      assert.equal(rec.json.policy, 'notice')
      assert.equal(rec.json.consented, null)
      const told = lea.c.events.find((e) => e.type === 'session' && e.session.recordingState === 'recording')
      assert.equal(told.session.recordingPolicy, 'notice')

      // A joiner whose page sends at once, before its welcome arrives: the welcome comes first and
      // says the session is recorded, and what it sent is read only once that is stored (slow here).
      const tell = s.hub.tellRecording.bind(s.hub)
      s.hub.tellRecording = (r, only) => sleep(300).then(() => tell(r, only))
      const lateToken = await s.token(id, 'learner', 'late', { name: 'Late Comer' })
      const late = await RawClient.connect(s.url, id, lateToken, { hello: false })
      late.send({ type: 'hello', token: lateToken, protocol: 1, sync: true })
      late.send({ type: 'chat', text: 'sent with my hello' })
      assert.ok(await late.waitFor(() => late.events.some((e) => e.type === 'chat' && e.message.text === 'sent with my hello')), 'the pipelined chat was read')
      s.hub.tellRecording = tell
      assert.equal(JSON.parse(late.rawText[0]!).type, 'welcome', 'the welcome is the first thing the joiner hears')
      assert.equal(late.welcome.session.recordingState, 'recording', 'and it says the session is being recorded')
      assert.ok(await late.waitFor(() => late.text() !== undefined), 'late synced')
      await typed(late, 'J')

      // An instructor who changes files over HTTP without ever joining was never told: their change
      // is applied but not theirs in the replay; once they join (told), their next one is.
      const ghost = await s.token(id, 'instructor', 'ghost', { name: 'Ghost Writer' })
      assert.equal((await s.api('POST', `/v1/sessions/${id}/files`, ghost, { name: 'untold.js', content: 'U' })).status, 201)
      const ghostIn = await RawClient.connect(s.url, id, ghost, { sync: false })
      assert.ok(ghostIn.welcome?.session.recordingState === 'recording')
      // Its frames are read once the notice is stored: a pong says it is.
      ghostIn.send({ type: 'ping' })
      assert.ok(await ghostIn.waitFor(() => ghostIn.events.some((e) => e.type === 'pong')))
      assert.equal((await s.api('POST', `/v1/sessions/${id}/files`, ghost, { name: 'told.js', content: 'T' })).status, 201)
      await sleep(50)

      const stop = await s.api('POST', `/v1/sessions/${id}/recordings/${rec.json.id}/stop`, ins.token)
      assert.equal(stop.status, 200)
      const { replay } = await replayOf(id, rec.json.id, ins.token)
      const author = (text: string) => replay.events.find((e) => e.type === 'edit' && inserted(e).includes(text))?.userId
      assert.equal(author('L'), 'lea', 'the learner present is recorded by name once told')
      assert.equal(author('J'), 'late', 'the joiner is recorded by name from their first edit')
      assert.equal(replay.events.find((e) => e.type === 'chat' && e.text === 'sent with my hello')?.userId, 'late', 'even what they sent with their hello is theirs: it was read after they were told')
      const untold = replay.events.find((e) => e.type === 'edit' && e.created?.includes('untold.js'))
      assert.ok(untold, 'the untold change is in the replay (the code needs it)')
      assert.notEqual(untold.userId, 'ghost', 'but not under their id')
      assert.deepEqual(replay.participants[untold.userId], { name: ANONYMOUS_AUTHOR.notice, color: replay.participants[untold.userId]!.color, anonymous: true })
      assert.equal(replay.events.find((e) => e.type === 'edit' && e.created?.includes('told.js'))?.userId, 'ghost', 'once told, theirs')
      for (const c of [ins.c, lea.c, late, ghostIn]) c.close()
    })

    it('consent: only those who allowed it are named; a decliner’s edits are anonymous, their chat and name absent; minds change both ways', async () => {
      const id = `consent-${Date.now().toString(36)}`
      const created = await session(id, { recordingPolicy: 'consent' })
      assert.equal(created.recordingPolicy, 'consent')
      const ins = await joined(id, 'instructor', 'ins', 'Ada Instructor')
      assert.equal(ins.c.welcome.session.recordingPolicy, 'consent')
      assert.equal(ins.c.welcome.session.recordingConsent, null, 'asked, not decided yet')
      const yes = await s.api('POST', `/v1/sessions/${id}/recording-consent`, ins.token, { consent: true })
      assert.equal(yes.status, 200, JSON.stringify(yes.json))
      assert.equal(yes.json.consent, true)
      assert.ok(!Number.isNaN(Date.parse(yes.json.decidedAt)))
      assert.ok(await ins.c.waitFor(() => ins.c.events.some((e) => e.type === 'session' && !e.reason && e.session.recordingConsent === true)), 'their connection hears their choice')

      const lea = await joined(id, 'learner', 'lea', 'Lea Learner')
      await s.api('POST', `/v1/sessions/${id}/recording-consent`, lea.token, { consent: true })
      const leaAgain = await joined(id, 'learner', 'lea', 'Lea Learner')
      assert.equal(leaAgain.c.welcome.session.recordingConsent, true, 'a new connection is welcomed with the standing choice')
      const kim = await joined(id, 'learner', 'kim', 'Kim Neverasked')
      const dan = await joined(id, 'learner', 'dan', 'Dan Decliner')
      const obs = await joined(id, 'observer', 'obs', 'Olive Observer')
      assert.equal(obs.c.welcome.session.recordingConsent, null, 'observers are asked too')

      const rec = await s.api('POST', `/v1/sessions/${id}/recordings`, ins.token, { title: 'Consent' })
      assert.equal(rec.status, 201)
      assert.equal(rec.json.policy, 'consent')
      assert.deepEqual(rec.json.consented.map((p: { userId: string }) => p.userId), ['ins', 'lea'], 'who allowed it so far')
      assert.equal((await s.api('PATCH', `/v1/sessions/${id}`, ins.token, { recordingPolicy: 'notice' })).status, 409, 'the policy stays while recording')
      const started = (c: RawClient) => c.events.find((e) => e.type === 'session' && e.session.recordingState === 'recording')?.session
      assert.equal(started(lea.c)?.recordingConsent, true, 'each is told of the recording with their own choice')
      assert.equal(started(kim.c)?.recordingConsent, null)

      await typed(ins.c, 'I1')
      await typed(lea.c, 'A1')
      await chatted(lea.c, 'lea while consenting')
      await typed(kim.c, 'K1')
      await chatted(kim.c, 'kim never asked to be recorded')
      await typed(dan.c, 'D1')
      // Dan declines mid-recording (he had not decided); Lea changes her mind, then back.
      await s.api('POST', `/v1/sessions/${id}/recording-consent`, dan.token, { consent: false })
      const no = await s.api('POST', `/v1/sessions/${id}/recording-consent`, lea.token, { consent: false })
      assert.equal(no.json.consent, false)
      assert.ok(await leaAgain.c.waitFor(() => leaAgain.c.events.some((e) => e.type === 'session' && e.session.recordingConsent === false)), 'every connection of hers hears it')
      assert.ok(!ins.c.events.some((e) => (e.type === 'session' || e.type === 'permissions') && e.session.recordingConsent === false), 'nobody else hears her choice')
      await typed(dan.c, 'D2')
      await chatted(dan.c, 'dan does not want this kept')
      await typed(lea.c, 'A2')
      await chatted(lea.c, 'lea secret while declining')
      const live = await s.api('GET', `/v1/sessions/${id}/recordings/${rec.json.id}`, ins.token)
      assert.deepEqual(live.json.consented.map((p: { userId: string }) => p.userId), ['ins', 'lea'], 'Lea consented at a moment of it; Dan never did')
      await s.api('POST', `/v1/sessions/${id}/recording-consent`, lea.token, { consent: true })
      await typed(lea.c, 'A3')
      await chatted(lea.c, 'lea back on the record')

      await s.api('POST', `/v1/sessions/${id}/recordings/${rec.json.id}/stop`, ins.token)
      const { replay, meta } = await replayOf(id, rec.json.id, ins.token)
      const author = (text: string) => replay.events.find((e) => e.type === 'edit' && inserted(e).includes(text))?.userId
      const anon = author('K1')!
      assert.equal(replay.participants[anon]?.anonymous, true)
      assert.equal(replay.participants[anon]?.name, ANONYMOUS_AUTHOR.consent)
      assert.equal(author('I1'), 'ins', 'instructors are participants too')
      assert.equal(author('A1'), 'lea')
      assert.equal(author('A2'), anon, 'her edits while declining are anonymous')
      assert.equal(author('A3'), 'lea', 'and hers again once she allowed it again')
      assert.equal(author('D1'), anon, 'undecided: anonymous')
      assert.equal(author('D2'), anon, 'declined: anonymous')
      const chats = replay.events.filter((e) => e.type === 'chat').map((e) => e.type === 'chat' && e.text)
      assert.deepEqual(chats, ['lea while consenting', 'lea back on the record'], 'only chat written while consenting is kept')
      assert.deepEqual(Object.keys(replay.participants).sort(), [anon, 'ins', 'lea'].sort())
      const everything = JSON.stringify(replay)
      for (const gone of ['kim', 'Kim Neverasked', 'dan', 'Dan Decliner', 'obs', 'Olive']) assert.ok(!everything.includes(`"${gone}`) && !everything.includes(gone + '"'), `"${gone}" appears nowhere in the replay`)
      assert.ok(!replay.events.some((e) => (e.type === 'join' || e.type === 'leave') && !['ins', 'lea'].includes(e.userId)), 'nor their comings and goings')
      assert.equal(replay.files['main.js'], '', 'starts from the code at the start')
      assert.equal(
        replay.events.reduce((t, e) => (e.type === 'edit' ? t + inserted(e) : t), ''),
        'I1A1K1D1D2A2A3',
        'every edit is still there: the code the replay ends with is the room’s',
      )

      assert.equal(meta.policy, 'consent')
      assert.deepEqual(meta.consented, [
        { userId: 'ins', name: 'Ada Instructor' },
        { userId: 'lea', name: 'Lea Learner' },
      ])
      assert.ok(!JSON.stringify(meta).includes('Dan'), 'the metadata does not name the decliner')
      assert.equal((await s.api('PATCH', `/v1/sessions/${id}`, ins.token, { recordingPolicy: 'notice' })).status, 200, 'between recordings it may change')
      for (const c of [ins.c, lea.c, leaAgain.c, kim.c, dan.c, obs.c]) c.close()
    })

    it('the policy is the owner’s to set, reaches open connections, and consent decisions are validated and rate-limited', async () => {
      const id = `policy-${Date.now().toString(36)}`
      await session(id)
      const ins = await joined(id, 'instructor', 'ins', 'Ada')
      const lea = await joined(id, 'learner', 'lea', 'Lea')
      const ins2 = await s.token(id, 'instructor', 'ins2')
      assert.equal((await s.api('PATCH', `/v1/sessions/${id}`, lea.token, { recordingPolicy: 'consent' })).status, 403)
      assert.equal((await s.api('PATCH', `/v1/sessions/${id}`, ins2, { recordingPolicy: 'consent' })).status, 403, 'another instructor does not manage the session')
      assert.equal((await s.api('PATCH', `/v1/sessions/${id}`, ins.token, { recordingPolicy: 'sometimes' })).status, 400)
      const patched = await s.api('PATCH', `/v1/sessions/${id}`, ins.token, { recordingPolicy: 'consent', pseudonymize: true })
      assert.equal(patched.status, 200)
      assert.equal(patched.json.recordingPolicy, 'consent')
      assert.equal(patched.json.pseudonymize, true)
      assert.equal((await s.api('GET', `/v1/sessions/${id}`, lea.token)).json.recordingPolicy, 'consent')
      assert.ok(await lea.c.waitFor(() => lea.c.events.some((e) => e.type === 'permissions' && e.session.recordingPolicy === 'consent')), 'open connections see the policy')
      assert.ok(await lea.c.waitFor(() => lea.c.events.some((e) => e.type === 'permissions' && e.session.recordingConsent === null)), 'and are asked, each with their own choice')

      assert.equal((await s.api('POST', `/v1/sessions/${id}/recording-consent`, lea.token, {})).status, 400)
      assert.equal((await s.api('POST', `/v1/sessions/${id}/recording-consent`, lea.token, { consent: 'yes' })).status, 400)
      assert.equal((await s.api('POST', `/v1/sessions/${id}/recording-consent`, await s.token('elsewhere', 'learner', 'lea'), { consent: true })).status, 401, 'a token for another session')
      for (let i = 0; i < 10; i++) assert.equal((await s.api('POST', `/v1/sessions/${id}/recording-consent`, lea.token, { consent: i % 2 === 0 })).status, 200)
      const limited = await s.api('POST', `/v1/sessions/${id}/recording-consent`, lea.token, { consent: true })
      assert.equal(limited.status, 429)
      assert.equal(limited.json.error.code, 'rate_limited')
      assert.ok(Number(limited.headers.get('retry-after')) >= 1)
      assert.equal((await s.api('POST', `/v1/sessions/${id}/recording-consent`, ins.token, { consent: true })).status, 200, 'the limit is per person')
      ins.c.close()
      lea.c.close()
    })
  })
}
