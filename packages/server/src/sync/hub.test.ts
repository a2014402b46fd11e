import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as A from '@automerge/automerge'
import { SignJWT } from 'jose'
import { oneBackend } from '../testing/db.js'
import { RawClient } from '../testing/client.js'
import { startTestServer, TEST_SECRET, type TestServer } from '../testing/server.js'

let n = 0
const sid = (label: string) => `${label}-${Date.now().toString(36)}-${n++}`

for (const backend of [oneBackend()]) {
  describe(`sync hub on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend, { env: { SESSION_KIT_HELLO_TIMEOUT_MS: '400' } })
    })
    after(() => s.stop())

    /** An instructor opens the session; returns their connected client. */
    async function open(id: string) {
      const ins = await RawClient.connect(s.url, id, await s.token(id, 'instructor', 'ins'))
      assert.ok(ins.welcome, `instructor not welcomed: ${JSON.stringify(ins.closed)}`)
      assert.ok(await ins.waitFor(() => ins.text() !== undefined), 'no document synced')
      return ins
    }
    const storedText = async (id: string, token: string) => (await s.api('GET', `/v1/sessions/${id}/document`, token)).json.files['main.js'] as string

    it('welcomes with participant, permissions and session, and creates the document on the server', async () => {
      const id = sid('welcome')
      const ins = await open(id)
      assert.equal(ins.welcome.participant.userId, 'ins')
      assert.equal(ins.welcome.participant.owner, true)
      assert.ok(ins.welcome.permissions.includes('MANAGE_SESSION'), 'expected: ins.welcome.permissions.includes(\'MANAGE_SESSION\')')
      assert.deepEqual(Object.keys(ins.doc.files), ['main.js'])
      assert.equal(ins.welcome.session.editingLocked, false)
      ins.close()
    })

    it('two writers typing concurrently converge, and every edit is acknowledged', async () => {
      const id = sid('converge')
      const ins = await open(id)
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      await lea.waitFor(() => lea.text() !== undefined)
      const hashes: string[] = []
      for (let i = 0; i < 30; i++) {
        hashes.push(ins.type('main.js', 0, 'a'))
        hashes.push(lea.type('main.js', lea.text()!.length, 'b'))
        if (i % 5 === 0) await new Promise((r) => setTimeout(r, 5))
      }
      assert.ok(await ins.waitFor(() => ins.text() === lea.text() && ins.text()!.length === 60), `diverged: ${ins.text()} vs ${lea.text()}`)
      assert.ok(await ins.waitFor(() => hashes.every((h) => ins.acked.has(h) || lea.acked.has(h))), 'not every change was acknowledged')
      assert.equal(await storedText(id, await s.token(id, 'observer', 'obs')), ins.text())
      assert.deepEqual([ins.resets, lea.resets], [0, 0], 'the server never made a client reset its sync state')
      ins.close()
      lea.close()
    })

    it('random concurrent inserts, deletions and pastes by three writers all pass verification and converge', async () => {
      const id = sid('fuzz')
      const ins = await open(id)
      const writers = [ins, ...(await Promise.all(['l1', 'l2'].map(async (u) => RawClient.connect(s.url, id, await s.token(id, 'learner', u)))))]
      for (const w of writers) assert.ok(await w.waitFor(() => w.text() !== undefined), 'writer synced')
      let seed = 42
      const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n)
      for (let round = 0; round < 150; round++) {
        const w = writers[rnd(writers.length)]!
        const len = w.text()!.length
        const at = rnd(len + 1)
        const del = len > at && rnd(3) === 0 ? 1 + rnd(Math.min(8, len - at)) : 0
        const insert = rnd(4) === 0 ? 'paste-' + 'x'.repeat(rnd(40)) : String.fromCharCode(97 + rnd(26))
        w.edit((d) => A.splice(d, ['files', 'main.js'], at, del, rnd(5) === 0 ? '' : insert))
        if (rnd(10) === 0) await new Promise((r) => setTimeout(r, 10))
      }
      assert.ok(await ins.waitFor(() => writers.every((w) => w.text() === ins.text()), 15_000), 'writers did not converge')
      for (const w of writers) assert.equal(w.closed, null, `a writer was closed: ${JSON.stringify(w.closed)} ${JSON.stringify(w.event('error'))}`)
      assert.deepEqual(writers.map((w) => w.resets), [0, 0, 0], 'the server never made a client reset its sync state')
      assert.equal(await storedText(id, await s.token(id, 'observer', 'o')), ins.text())
      for (const w of writers) w.close()
    })

    it('records a code_change event per accepted change with characters inserted and deleted', async () => {
      const id = sid('events')
      const ins = await open(id)
      const h1 = ins.type('main.js', 0, 'hello')
      const h2 = ins.edit((d) => A.splice(d, ['files', 'main.js'], 1, 3, 'EY'))
      assert.ok(await ins.waitFor(() => ins.acked.has(h1) && ins.acked.has(h2)), 'expected: await ins.waitFor(() => ins.acked.has(h1) && ins.acked.has(h2))')
      const rows = await s.db.sql`select ref, user_id, inserted, deleted from events where session_id = ${id} and kind = 'code_change' order by id`
      assert.deepEqual(rows.map((r) => [r.ref, r.user_id, r.inserted, r.deleted]), [
        [h1, 'ins', 5, 0],
        [h2, 'ins', 2, 3],
      ])
      ins.close()
    })

    for (const who of ['observer', 'muted learner', 'locked learner'] as const) {
      it(`a ${who} that sends a change is closed with 4003 and nothing is stored`, async () => {
        const id = sid('deny')
        const ins = await open(id)
        ins.type('main.js', 0, 'safe;')
        const role = who === 'observer' ? 'observer' : 'learner'
        if (who === 'muted learner') {
          await RawClient.connect(s.url, id, await s.token(id, 'learner', 'bad')).then((c) => c.close())
          await s.db.sql`update participants set muted = true where session_id = ${id} and user_id = 'bad'`
        }
        if (who === 'locked learner') assert.equal((await s.api('POST', `/v1/sessions/${id}/lock`, await s.token(id, 'instructor', 'ins'))).status, 200)
        const bad = await RawClient.connect(s.url, id, await s.token(id, role, 'bad'))
        assert.ok(bad.welcome, 'expected: bad.welcome')
        assert.ok(!bad.welcome.permissions.includes('EDIT_CODE'), 'expected: !bad.welcome.permissions.includes(\'EDIT_CODE\')')
        assert.ok(await bad.waitFor(() => (bad.text() ?? '').includes('safe;')), 'expected: await bad.waitFor(() => (bad.text() ?? \'\').includes(\'safe;\'))')
        // The handshake itself carries no changes and is allowed.
        await new Promise((r) => setTimeout(r, 100))
        assert.equal(bad.closed, null)
        bad.type('main.js', 0, 'FORBIDDEN();')
        const closed = await bad.waitClosed()
        assert.equal(closed?.code, 4003)
        assert.equal(bad.event('error')?.permission, 'EDIT_CODE')
        assert.ok(!(await storedText(id, await s.token(id, 'instructor', 'ins'))).includes('FORBIDDEN'), 'expected: !(await storedText(id, await s.token(id, \'instructor\', \'ins\'))).includ')
        await new Promise((r) => setTimeout(r, 50))
        assert.ok(!ins.text()!.includes('FORBIDDEN'), 'the forbidden change was relayed')
        ins.close()
      })
    }

    it('unlocking lets a connected learner type again without reconnecting; locking closes a writer with 4001', async () => {
      const id = sid('lock')
      const ins = await open(id)
      const it = await s.token(id, 'instructor', 'ins')
      await s.api('POST', `/v1/sessions/${id}/lock`, it)
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      await lea.waitFor(() => lea.text() !== undefined)
      assert.equal(lea.welcome.session.editingLocked, true)
      await s.api('POST', `/v1/sessions/${id}/unlock`, it)
      assert.ok(await lea.waitFor(() => lea.events.some((e) => e.type === 'permissions' && e.permissions.includes('EDIT_CODE'))), 'expected: await lea.waitFor(() => lea.events.some((e) => e.type === \'permissions')
      assert.match(lea.events.find((e) => e.type === 'permissions').reason, /unlocked by/)
      const h = lea.type('main.js', 0, 'now I can')
      assert.ok(await lea.waitFor(() => lea.acked.has(h)), 'learner edit after unlock was not acknowledged')
      assert.ok(await ins.waitFor(() => ins.text() === 'now I can'), 'expected: await ins.waitFor(() => ins.text() === \'now I can\')')
      await s.api('POST', `/v1/sessions/${id}/lock`, it)
      const closed = await lea.waitClosed()
      assert.equal(closed?.code, 4001)
      ins.close()
    })

    it('muting applies at once (4001 for a writer) and a role override lets an observer type without reconnecting', async () => {
      const id = sid('moderate')
      const ins = await open(id)
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      assert.ok(await lea.waitFor(() => lea.text() !== undefined), 'learner synced')
      await s.db.sql`update participants set muted = true where session_id = ${id} and user_id = 'lea'`
      await s.hub.participantChanged(id, 'lea', 'You were muted by Ada.')
      assert.equal((await lea.waitClosed())?.code, 4001)
      assert.match(lea.events.find((e) => e.type === 'permissions').reason, /muted by Ada/)
      const obs = await RawClient.connect(s.url, id, await s.token(id, 'observer', 'obs'))
      assert.ok(await obs.waitFor(() => obs.text() !== undefined), 'observer synced')
      await s.db.sql`update participants set role_override = 'learner' where session_id = ${id} and user_id = 'obs'`
      await s.hub.participantChanged(id, 'obs', 'You can now edit.')
      assert.ok(await obs.waitFor(() => obs.events.some((e) => e.type === 'permissions' && e.permissions.includes('EDIT_CODE'))), 'EDIT_CODE granted live')
      const h = obs.type('main.js', 0, 'promoted')
      assert.ok(await obs.waitFor(() => obs.acked.has(h)), 'the promoted observer’s edit was saved')
      assert.equal(obs.closed, null)
      ins.close()
      obs.close()
    })

    it('a learner change that adds or removes a file is refused like a forbidden write', async () => {
      const id = sid('files')
      const ins = await open(id)
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      await lea.waitFor(() => lea.text() !== undefined)
      lea.edit((d) => {
        d.files['evil.js'] = 'x'
      })
      assert.equal((await lea.waitClosed())?.code, 4003)
      assert.match(lea.event('error').message, /adding, renaming or deleting files is for instructors/)
      const lea2 = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea2'))
      await lea2.waitFor(() => lea2.text() !== undefined)
      lea2.edit((d) => {
        delete d.files['main.js']
      })
      assert.equal((await lea2.waitClosed())?.code, 4003)
      // An instructor may add files.
      ins.edit((d) => {
        d.files['extra.js'] = '// more'
      })
      const doc = await s.api('GET', `/v1/sessions/${id}/document`, await s.token(id, 'instructor', 'ins'))
      await ins.waitFor(() => ins.acked.size > 0)
      assert.deepEqual(Object.keys((await s.api('GET', `/v1/sessions/${id}/document`, await s.token(id, 'instructor', 'ins'))).json.files).sort(), ['extra.js', 'main.js'])
      assert.equal(doc.status, 200)
      ins.close()
    })

    it('attribution cannot be forged: a change made with another user’s actor id is refused', async () => {
      const id = sid('forge')
      const ins = await open(id)
      const h = ins.type('main.js', 0, 'by instructor')
      await ins.waitFor(() => ins.acked.has(h))
      const insActor = A.getActorId(ins.doc)
      const forger = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'mallory'))
      await forger.waitFor(() => forger.text() === 'by instructor')
      // Continue the instructor's actor: a correctly formed next change, signed as someone else.
      forger.doc = A.clone(forger.doc, { actor: insActor })
      forger.type('main.js', 0, 'FORGED ')
      assert.equal((await forger.waitClosed())?.code, 4003)
      assert.equal(forger.event('error').code, 'actor_mismatch')
      assert.equal(await storedText(id, await s.token(id, 'instructor', 'ins')), 'by instructor')
      ins.close()
    })

    it('a participant who keeps sending forbidden writes is closed for good with 4403', async () => {
      const id = sid('repeat')
      const ins = await open(id)
      const codes: number[] = []
      for (let i = 0; i < 3; i++) {
        const c = await RawClient.connect(s.url, id, await s.token(id, 'observer', 'pest'))
        await c.waitFor(() => c.text() !== undefined)
        c.type('main.js', 0, 'x')
        codes.push((await c.waitClosed())!.code)
      }
      assert.deepEqual(codes, [4003, 4003, 4403])
      ins.close()
    })

    it('refuses malformed and hostile changes with a clear error, and keeps the document intact', async () => {
      const id = sid('hostile')
      const ins = await open(id)
      const h = ins.type('main.js', 0, 'intact')
      await ins.waitFor(() => ins.acked.has(h))
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      await lea.waitFor(() => lea.text() === 'intact')
      const next = A.change(A.clone(lea.doc), (d) => A.splice(d, ['files', 'main.js'], 0, 0, 'Z'))
      const good = A.decodeChange(A.getLastLocalChange(next)!)
      const variants: [string, Partial<A.DecodedChange>][] = [
        ['unknown object', { ops: [{ ...good.ops[0]!, obj: '99@' + 'ab'.repeat(16) }] }],
        ['unknown element', { ops: [{ ...good.ops[0]!, elemId: '999@' + 'ab'.repeat(16) } as A.DecodedChange['ops'][0]] }],
        ['sequence gap', { seq: 7 }],
        ['unknown dependency', { deps: ['ab'.repeat(32)] }],
        ['number in text', { ops: [{ ...good.ops[0]!, value: 42 }] }],
      ]
      for (const [label, patch] of variants) {
        // Each from its own user: repeated offences by one user end in 4403 (tested above).
        const c = await RawClient.connect(s.url, id, await s.token(id, 'learner', `lea-${label.replace(/\W/g, '')}`))
        await c.waitFor(() => c.text() === 'intact')
        const { hash: _h, ...rest } = { ...good, ...patch }
        const bytes = A.encodeChange(rest)
        c.ws.send(A.encodeSyncMessage({ type: 'message', heads: [], need: [], have: [], changes: [bytes] } as unknown as A.DecodedSyncMessage))
        const closed = await c.waitClosed()
        assert.equal(closed?.code, 4003, `${label}: ${JSON.stringify(closed)}`)
        assert.equal(c.event('error').code, 'invalid_change', label)
      }
      // Garbage binary is not a sync message: 4400.
      const g = await RawClient.connect(s.url, id, await s.token(id, 'instructor', 'ins'))
      g.ws.send(Buffer.from([1, 2, 3, 4, 5]))
      assert.equal((await g.waitClosed())?.code, 4400)
      assert.equal(await storedText(id, await s.token(id, 'instructor', 'ins')), 'intact')
      // The room still works.
      const h2 = ins.type('main.js', 6, '!')
      assert.ok(await ins.waitFor(() => ins.acked.has(h2)), 'expected: await ins.waitFor(() => ins.acked.has(h2))')
      ins.close()
    })

    it('accepts offline edits sent as one bundle, attributing each change', async () => {
      const id = sid('bundle')
      const ins = await open(id)
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea'))
      await lea.waitFor(() => lea.text() !== undefined)
      lea.close()
      await lea.waitClosed()
      let offline = lea.doc
      for (let i = 0; i < 40; i++) offline = A.change(offline, (d) => A.splice(d, ['files', 'main.js'], i, 0, String(i % 10)))
      const back = new RawClient(s.url, id, await s.token(id, 'learner', 'lea'))
      back.doc = offline
      await back.opened
      assert.ok(await back.waitFor(() => back.acked.size === 40), `acked ${back.acked.size}`)
      assert.ok(await ins.waitFor(() => ins.text() === back.text()), 'expected: await ins.waitFor(() => ins.text() === back.text())')
      const [{ count }] = await s.db.sql`select count(*)::int as count from events where session_id = ${id} and kind = 'code_change' and user_id = 'lea'`
      assert.equal(count, 40)
      ins.close()
      back.close()
    })

    it('refuses bad tokens, closed sessions and banned users with their close codes', async () => {
      const id = sid('refuse')
      const ins = await open(id)
      const now = Math.floor(Date.now() / 1000)
      const sign = (payload: object, secret = TEST_SECRET) => new SignJWT(payload as never).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret))
      const base = { sub: 'u', name: 'U', sid: id, role: 'learner' }
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')
      const cases: [string, string, number, string][] = [
        ['expired', await sign({ ...base, exp: now - 10 }), 4401, 'token_expired'],
        ['for another session', await s.token('other-session', 'learner', 'u'), 4401, 'token_wrong_session'],
        ['alg none', `${header}.${Buffer.from(JSON.stringify({ ...base, exp: now + 60 })).toString('base64url')}.`, 4401, 'token_unsigned'],
        ['wrong key', await sign({ ...base, exp: now + 60 }, 'another-secret-another-secret-1234'), 4401, 'token_bad_signature'],
        ['not yet valid', await sign({ ...base, exp: now + 600, nbf: now + 300 }), 4401, 'token_not_yet_valid'],
      ]
      for (const [label, token, code, errorCode] of cases) {
        const c = await RawClient.connect(s.url, id, token)
        assert.equal(c.welcome, null, label)
        assert.equal(c.closed?.code, code, `${label}: ${JSON.stringify(c.closed)}`)
        assert.equal(c.event('error')?.code, errorCode, label)
      }
      const early = await RawClient.connect(s.url, sid('not-open'), await s.token('x', 'learner', 'u').then(() => s.token(id + '-later', 'learner', 'u')))
      assert.equal(early.closed?.code, 4401) // token is for another id than the URL
      const waiting = await RawClient.connect(s.url, id + '-later', await s.token(id + '-later', 'learner', 'u'))
      assert.equal(waiting.closed?.code, 4404)
      await s.db.sql`insert into bans (session_id, user_id, banned_by) values (${id}, 'kicked', 'ins')`
      const kicked = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'kicked'))
      assert.equal(kicked.closed?.code, 4409)
      const silent = await RawClient.connect(s.url, id, null, { hello: false })
      assert.equal((await silent.waitClosed(3000))?.code, 4408)
      const future = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'u'), { protocol: 99 })
      assert.equal(future.closed?.code, 4400)
      assert.match(future.closed!.reason, /1–2/)
      ins.close()
    })

    it('closes oversized frames with 4413 and floods with 4429', async () => {
      const id = sid('limits')
      const ins = await open(id)
      const big = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'big'))
      big.send('x'.repeat(1024 * 1024 + 10))
      assert.equal((await big.waitClosed())?.code, 4413)
      const flood = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'flood'))
      for (let i = 0; i < 600; i++) flood.send({ type: 'ping' })
      assert.equal((await flood.waitClosed())?.code, 4429)
      // A bad event is answered, not fatal.
      const odd = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'odd'))
      odd.send({ type: 'shout', loud: true })
      assert.ok(await odd.waitFor(() => odd.event('error')?.code === 'malformed'), 'expected: await odd.waitFor(() => odd.event(\'error\')?.code === \'malformed\')')
      assert.equal(odd.closed, null)
      odd.close()
      ins.close()
    })

    it('events-only connections (sync:false) get no document and may not send sync messages', async () => {
      const id = sid('events-only')
      const ins = await open(id)
      const ev = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'ev'), { sync: false })
      assert.ok(ev.welcome, 'expected: ev.welcome')
      await new Promise((r) => setTimeout(r, 200))
      assert.equal(ev.binaryReceived, 0)
      ev.flush()
      assert.equal((await ev.waitClosed())?.code, 4400)
      ins.close()
    })

    it('stamps presence with the authenticated identity and hides hidden participants from learners', async () => {
      const id = sid('presence')
      const ins = await open(id)
      const lea = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'lea', { name: 'Lea' }))
      assert.ok(await ins.waitFor(() => ins.events.some((e) => e.type === 'joined' && e.participant.userId === 'lea')), 'expected: await ins.waitFor(() => ins.events.some((e) => e.type === \'joined\' && ')
      lea.send({ type: 'presence', cursor: { file: 'main.js', anchor: 0, head: 0 }, userId: 'ins', name: 'Spoofed' })
      assert.ok(await ins.waitFor(() => ins.events.some((e) => e.type === 'presence' && e.participant.cursor)), 'expected: await ins.waitFor(() => ins.events.some((e) => e.type === \'presence\' &')
      const p = ins.events.find((e) => e.type === 'presence' && e.participant.cursor).participant
      assert.equal(p.userId, 'lea')
      assert.equal(p.name, 'Lea')
      // A hidden participant is visible to instructors only.
      await RawClient.connect(s.url, id, await s.token(id, 'learner', 'shy')).then((c) => c.close())
      await s.db.sql`update participants set hidden = true where session_id = ${id} and user_id = 'shy'`
      const seenByIns = ins.events.length
      const seenByLea = lea.events.length
      const shy = await RawClient.connect(s.url, id, await s.token(id, 'learner', 'shy'))
      assert.ok(await ins.waitFor(() => ins.events.slice(seenByIns).some((e) => e.type === 'joined' && e.participant.userId === 'shy' && e.participant.hidden)), 'the instructor should see the hidden participant')
      await new Promise((r) => setTimeout(r, 150))
      assert.ok(!lea.events.slice(seenByLea).some((e) => (e.type === 'joined' || e.type === 'presence') && e.participant.userId === 'shy'), 'a learner saw a hidden participant')
      const late = await RawClient.connect(s.url, id, await s.token(id, 'observer', 'late'))
      assert.ok(!late.welcome.participants.some((x: { userId: string }) => x.userId === 'shy'), 'expected: !late.welcome.participants.some((x: { userId: string }) => x.userId ==')
      assert.ok(late.welcome.participants.some((x: { userId: string }) => x.userId === 'lea'), 'expected: late.welcome.participants.some((x: { userId: string }) => x.userId ===')
      shy.close()
      lea.close()
      late.close()
      ins.close()
    })

    it('refreshes a token on an open connection, only for the same user', async () => {
      const id = sid('refresh')
      const ins = await open(id)
      ins.send({ type: 'token', token: await s.token(id, 'instructor', 'ins', { ttl: '3h' }) })
      assert.ok(await ins.waitFor(() => ins.events.some((e) => e.type === 'token' && e.ok)), 'expected: await ins.waitFor(() => ins.events.some((e) => e.type === \'token\' && e')
      ins.send({ type: 'token', token: await s.token(id, 'instructor', 'someone-else') })
      assert.ok(await ins.waitFor(() => ins.events.some((e) => e.type === 'token' && !e.ok)), 'expected: await ins.waitFor(() => ins.events.some((e) => e.type === \'token\' && !')
      assert.equal(ins.closed, null)
      ins.close()
    })

    it('keeps the document across a restart (compacted base plus chunks)', async () => {
      const id = sid('restart')
      const ins = await open(id)
      for (let i = 0; i < 20; i++) ins.type('main.js', i, 'k')
      assert.ok(await ins.waitFor(() => ins.acked.size === 20), 'expected: await ins.waitFor(() => ins.acked.size === 20)')
      const room = s.hub.rooms.get(id)!
      await room.compact()
      const h = ins.type('main.js', 0, 'after-compaction ')
      assert.ok(await ins.waitFor(() => ins.acked.has(h)), 'expected: await ins.waitFor(() => ins.acked.has(h))')
      const expected = ins.text()
      ins.close()
      await ins.waitClosed()
      s.hub.rooms.delete(id)
      const again = await RawClient.connect(s.url, id, await s.token(id, 'observer', 'o'))
      assert.ok(await again.waitFor(() => again.text() === expected), `got ${again.text()}`)
      again.close()
    })
  })
}
