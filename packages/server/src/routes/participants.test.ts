import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { oneBackend } from '../testing/db.js'
import { RawClient } from '../testing/client.js'
import { startTestServer, type TestServer } from '../testing/server.js'

let n = 0
const sid = (label: string) => `${label}-${Date.now().toString(36)}-${n++}`

for (const backend of [oneBackend()]) {
  describe(`moderation, chat and runs on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    /** A session opened by its owner `ins`, with `lea` (learner) and `obs` (observer) connected. */
    async function room(label: string) {
      const id = sid(label)
      const ins = await RawClient.connect(s.url, id, await s.token(id, 'instructor', 'ins', { name: 'Ada' }))
      assert.ok(await ins.waitFor(() => ins.text() !== undefined), 'instructor synced')
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea', { name: 'Grace', email: 'grace@example.edu' }))
      const obs = await RawClient.connect(s.url, id, await s.token(id, 'observer', 'obs', { name: 'Linus' }))
      assert.ok(await lea.waitFor(() => lea.text() !== undefined) && (await obs.waitFor(() => obs.text() !== undefined)), 'learner and observer synced')
      const as = async (role: 'instructor' | 'learner' | 'observer', user: string) => s.token(id, role, user, { name: user })
      return { id, ins, lea, obs, as, insToken: await s.token(id, 'instructor', 'ins', { name: 'Ada' }) }
    }

    it('refuses every moderation action to learners and observers (403)', async () => {
      const { id, ins, lea, obs, as } = await room('deny')
      const routes: [string, string, unknown?][] = [
        ['POST', `/participants/lea/mute`],
        ['POST', `/participants/lea/unmute`],
        ['POST', `/participants/lea/kick`],
        ['POST', `/participants/lea/unban`],
        ['PATCH', `/participants/lea`, { role: 'observer' }],
        ['POST', `/mute-all`],
        ['POST', `/unmute-all`],
        ['POST', `/lock`],
        ['POST', `/unlock`],
        ['DELETE', `/chat/1`],
      ]
      for (const role of ['learner', 'observer'] as const) {
        const token = await as(role, role === 'learner' ? 'lea' : 'obs')
        for (const [method, path, body] of routes) {
          const r = await s.api(method, `/v1/sessions/${id}${path}`, token, body)
          assert.equal(r.status, 403, `${role} ${method} ${path} → ${r.status}`)
          assert.equal(r.json.error.code, 'forbidden')
        }
      }
      for (const c of [ins, lea, obs]) c.close()
    })

    it('mute stops a live learner’s edits and chat at once, and says who did it', async () => {
      const { id, ins, lea, obs, insToken } = await room('mute')
      const r = await s.api('POST', `/v1/sessions/${id}/participants/lea/mute`, insToken)
      assert.equal(r.status, 200)
      assert.equal(r.json.muted, true)
      assert.equal((await lea.waitClosed())?.code, 4001)
      assert.equal(lea.events.find((e) => e.type === 'permissions')?.reason, 'You were muted by Ada.')
      const back = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea', { name: 'Grace' }))
      assert.ok(!back.welcome.permissions.includes('EDIT_CODE') && !back.welcome.permissions.includes('EXECUTE_CODE'), 'a muted learner cannot edit or run')
      assert.equal(back.welcome.participant.muted, true)
      back.send({ type: 'chat', text: 'hello?' })
      assert.ok(await back.waitFor(() => back.events.some((e) => e.type === 'error' && /muted/.test(e.message))), 'chat refused with the reason')
      assert.equal(back.closed, null, 'a refused chat does not disconnect')
      await back.waitFor(() => back.text() !== undefined)
      back.type('main.js', 0, 'nope')
      assert.equal((await back.waitClosed())?.code, 4003)
      assert.ok(ins.events.some((e) => e.type === 'presence' && e.participant.userId === 'lea' && e.participant.muted), 'the room sees the mute')
      const un = await s.api('POST', `/v1/sessions/${id}/participants/lea/unmute`, insToken)
      assert.equal(un.json.muted, false)
      const again = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      assert.ok(again.welcome.permissions.includes('EDIT_CODE'), 'unmuted')
      for (const c of [ins, obs, again]) c.close()
    })

    it('kick closes the socket with 4409 and the same user is refused until unbanned', async () => {
      const { id, ins, lea, obs, insToken } = await room('kick')
      const r = await s.api('POST', `/v1/sessions/${id}/participants/lea/kick`, insToken)
      assert.equal(r.status, 200)
      const closed = await lea.waitClosed()
      assert.equal(closed?.code, 4409)
      assert.equal(closed?.reason, 'You were removed from this session by Ada.')
      const sameToken = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      assert.equal(sameToken.closed?.code, 4409)
      const asObserver = await RawClient.connect(s.url, id, await s.token(id, 'observer', 'lea'))
      assert.equal(asObserver.closed?.code, 4409, 'any token for that user is refused')
      assert.equal((await s.api('GET', `/v1/sessions/${id}`, await s.token(id, 'learner', 'lea'))).status, 403)
      const list = await s.api('GET', `/v1/sessions/${id}/participants`, insToken)
      assert.equal(list.json.participants.find((p: { userId: string }) => p.userId === 'lea').banned, true)
      assert.equal((await s.api('POST', `/v1/sessions/${id}/participants/lea/unban`, insToken)).status, 200)
      const back = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      assert.ok(back.welcome, 'unbanned user can join again')
      for (const c of [ins, obs, back]) c.close()
    })

    it('nobody can mute, kick or demote the owner', async () => {
      const { id, ins, lea, obs, as } = await room('owner')
      const helper = await as('instructor', 'helper')
      await RawClient.connect(s.url, id, helper).then((c) => c.close())
      for (const [method, path, body] of [
        ['POST', '/participants/ins/mute'],
        ['POST', '/participants/ins/kick'],
        ['PATCH', '/participants/ins', { role: 'learner' }],
      ] as const) {
        const r = await s.api(method, `/v1/sessions/${id}${path}`, helper, body)
        assert.equal(r.status, 403, `${method} ${path}`)
        assert.equal(r.json.error.code, 'owner_protected')
      }
      for (const c of [ins, lea, obs]) c.close()
    })

    it('a role change from observer to learner lets the user type without reconnecting', async () => {
      const { id, ins, lea, obs, insToken } = await room('promote')
      const r = await s.api('PATCH', `/v1/sessions/${id}/participants/obs`, insToken, { role: 'learner' })
      assert.equal(r.json.role, 'learner')
      assert.ok(await obs.waitFor(() => obs.events.some((e) => e.type === 'permissions' && e.permissions.includes('EDIT_CODE'))), 'permissions pushed')
      assert.equal(obs.events.find((e) => e.type === 'permissions').reason, 'Ada changed your role to learner.')
      const h = obs.type('main.js', 0, 'now a learner')
      assert.ok(await obs.waitFor(() => obs.acked.has(h)), 'the edit was saved')
      assert.equal(obs.closed, null)
      // And back down: a writer who loses EDIT_CODE rejoins from the server's state.
      await s.api('PATCH', `/v1/sessions/${id}/participants/obs`, insToken, { role: 'observer' })
      assert.equal((await obs.waitClosed())?.code, 4001)
      for (const c of [ins, lea]) c.close()
    })

    it('mute all mutes everyone but instructors; hide hides from learners and observers only', async () => {
      const { id, ins, lea, obs, insToken, as } = await room('all')
      await RawClient.connect(s.url, id, await as('instructor', 'helper')).then((c) => c.close())
      const all = await s.api('POST', `/v1/sessions/${id}/mute-all`, insToken)
      assert.deepEqual(all.json.changed.sort(), ['lea', 'obs'])
      assert.equal((await lea.waitClosed())?.code, 4001)
      const list = await s.api('GET', `/v1/sessions/${id}/participants`, insToken)
      const byId = Object.fromEntries(list.json.participants.map((p: { userId: string }) => [p.userId, p]))
      assert.equal(byId.helper.muted, false)
      assert.equal(byId.ins.owner, true)
      assert.equal(byId.ins.online, true)
      assert.equal(byId.helper.online, false)
      assert.deepEqual((await s.api('POST', `/v1/sessions/${id}/unmute-all`, insToken)).json.changed.sort(), ['lea', 'obs'])
      const lea2 = await RawClient.connect(s.url, id, await as('learner', 'lea'))
      const seen = lea2.events.length
      await s.api('PATCH', `/v1/sessions/${id}/participants/obs`, insToken, { hidden: true })
      assert.ok(await lea2.waitFor(() => lea2.events.slice(seen).some((e) => e.type === 'left' && e.userId === 'obs')), 'learners stop seeing a hidden participant')
      const asLearner = await s.api('GET', `/v1/sessions/${id}/participants`, await as('learner', 'lea'))
      assert.ok(!asLearner.json.participants.some((p: { userId: string }) => p.userId === 'obs'), 'hidden from the learner’s list')
      assert.ok((await s.api('GET', `/v1/sessions/${id}/participants`, insToken)).json.participants.some((p: { userId: string; hidden: boolean }) => p.userId === 'obs' && p.hidden), 'instructors still see them')
      for (const c of [ins, obs, lea2]) c.close()
    })

    it('chat is persisted, broadcast, paged, moderated and rate limited without disconnecting', async () => {
      const { id, ins, lea, obs, insToken, as } = await room('chat')
      lea.send({ type: 'chat', text: '<img src=x onerror=alert(1)> see https://example.edu/a?b=1' })
      assert.ok(await ins.waitFor(() => ins.events.some((e) => e.type === 'chat')), 'broadcast')
      const msg = ins.events.find((e) => e.type === 'chat').message
      assert.equal(msg.text, '<img src=x onerror=alert(1)> see https://example.edu/a?b=1', 'stored and sent verbatim, as text')
      assert.equal(msg.name, 'Grace')
      assert.ok(await obs.waitFor(() => obs.events.some((e) => e.type === 'chat')), 'observers read the chat')
      obs.send({ type: 'chat', text: 'can I talk?' })
      assert.ok(await obs.waitFor(() => obs.events.some((e) => e.type === 'error' && /Observers can read the chat/.test(e.message))), 'observer refused')
      for (let i = 0; i < 8; i++) ins.send({ type: 'chat', text: `message ${i}` })
      assert.ok(await ins.waitFor(() => ins.events.some((e) => e.type === 'rate_limited' && e.what === 'chat')), 'rate limited')
      assert.equal(ins.closed, null)
      const page1 = await s.api('GET', `/v1/sessions/${id}/chat?limit=3`, await as('observer', 'obs'))
      assert.equal(page1.json.messages.length, 3)
      const page2 = await s.api('GET', `/v1/sessions/${id}/chat?limit=3&before=${page1.json.before}`, await as('observer', 'obs'))
      assert.ok(page2.json.messages.at(-1).id < page1.json.messages[0].id, 'older page')
      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/chat/${msg.id}`, await as('learner', 'lea'))).status, 403)
      assert.equal((await s.api('DELETE', `/v1/sessions/${id}/chat/${msg.id}`, insToken)).status, 204)
      assert.ok(await lea.waitFor(() => lea.events.some((e) => e.type === 'chat-deleted' && e.id === msg.id)), 'deleted for everyone')
      const all = await s.api('GET', `/v1/sessions/${id}/chat?limit=200`, insToken)
      assert.ok(!all.json.messages.some((m: { id: number }) => m.id === msg.id), 'gone from history')
      const [{ count }] = await s.db.sql`select count(*)::int from events where session_id = ${id} and kind = 'chat'`
      assert.ok(count >= 6, 'chat messages are counted as events')
      for (const c of [ins, lea, obs]) c.close()
    })

    it('runs are reported by those who may run, stored and shared with the room', async () => {
      const { id, ins, lea, obs } = await room('runs')
      const report = { file: 'main.js', language: 'javascript', ok: false, errors: 2, durationMs: 31, output: 'TypeError: x is not a function (line 3)' }
      lea.send({ type: 'run', run: report })
      assert.ok(await obs.waitFor(() => obs.events.some((e) => e.type === 'run')), 'the room sees the run')
      const run = obs.events.find((e) => e.type === 'run').run
      assert.deepEqual({ name: run.name, file: run.file, errors: run.errors, ok: run.ok }, { name: 'Grace', file: 'main.js', errors: 2, ok: false })
      obs.send({ type: 'run', run: report })
      assert.ok(await obs.waitFor(() => obs.events.some((e) => e.type === 'error' && e.permission === 'EXECUTE_CODE')), 'observers cannot run')
      lea.send({ type: 'run', run: { ...report, output: 'x'.repeat(5000) } })
      assert.ok(await lea.waitFor(() => lea.events.some((e) => e.type === 'error' && e.code === 'malformed')), 'oversized output refused')
      const [{ count }] = await s.db.sql`select count(*)::int from events where session_id = ${id} and kind = 'run' and user_id = 'lea'`
      assert.equal(count, 1)
      for (const c of [ins, lea, obs]) c.close()
    })
  })
}
