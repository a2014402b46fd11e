import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { LectureState, Role, SpotlightText } from '@session-kit/core'
import { mintToken } from '../auth/tokens.js'
import { RawClient } from '../testing/client.js'
import { oneBackend } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'
import { changedRange } from './room-spotlight.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
let made = 0

const STARTER = { 'main.js': 'function add(a, b) {\n  return a + b\n}\n', 'util.js': 'export const two = 2\n' }
const SECRET = 'zebra-hidden-case'
const HIDDEN = { 'hidden.test.js': `// ${SECRET}\ntest('${SECRET}', () => expect(add(20, 22)).toBe(42))\n` }

/** A token as a host signs it: for the lecture room `sid`, and (with `assignment`) instructing that assignment too. */
const token = (claims: { sid?: string; assignment?: string; role: Role; sub: string; name: string }) => mintToken(claims, TEST_SECRET, { ttl: '1h' })

const frames = (c: RawClient) => c.events.filter((e) => e.type === 'spotlight-text') as SpotlightText[]
const lastFrame = (c: RawClient) => frames(c).at(-1)
const lecture = (c: RawClient): LectureState | undefined => [...c.events].reverse().find((e) => e.type === 'lecture')?.lecture ?? c.welcome?.lecture
const lastError = (c: RawClient) => c.events.filter((e) => e.type === 'error').at(-1)

describe('the changed range of a file', () => {
  it('is what differs between two texts (an insertion, a deletion, a replacement)', () => {
    assert.deepEqual(changedRange('abc', 'abXc'), { from: 2, to: 3 })
    assert.deepEqual(changedRange('abXc', 'abc'), { from: 2, to: 2 })
    assert.deepEqual(changedRange('aaa', 'aaaa'), { from: 3, to: 4 })
    assert.deepEqual(changedRange('one two', 'one six'), { from: 4, to: 7 })
  })
})

for (const backend of [oneBackend()]) {
  describe(`room spotlight on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    /** An assignment with Grace's room open and typed in, and a lecture room with its instructor Ada (of the assignment), a learner and an observer. */
    async function setup() {
      const aid = `hw-${++made}-${Date.now().toString(36)}`
      const res = await s.api('POST', '/v1/assignments', TEST_API_KEY, {
        id: aid, title: 'Adding numbers', instructions: 'Write `add`.', language: 'javascript', files: STARTER, tests: { visible: {}, hidden: HIDDEN }, ownerId: 'owner',
      })
      assert.equal(res.status, 201, JSON.stringify(res.json))
      const opened = await s.api('POST', `/v1/assignments/${aid}/open`, await token({ assignment: aid, role: 'learner', sub: 'grace', name: 'Grace' }))
      const room = opened.json as { sessionId: string; token: string }
      const grace = await RawClient.connect(s.url, room.sessionId, room.token)
      assert.ok(await grace.waitFor(() => grace.text('main.js') !== undefined), 'Grace has her room')

      const lid = `lecture-${made}-${Date.now().toString(36)}`
      const ada = await RawClient.connect(s.url, lid, await token({ sid: lid, assignment: aid, role: 'instructor', sub: 'ada', name: 'Ada' }))
      assert.ok(ada.welcome, 'Ada opened the lecture room')
      const lea = await RawClient.connect(s.url, lid, await token({ sid: lid, role: 'learner', sub: 'lin', name: 'Linus' }))
      const obs = await RawClient.connect(s.url, lid, await token({ sid: lid, role: 'observer', sub: 'obs', name: 'Obi' }), { mode: 'view' })
      for (const c of [lea, obs]) assert.ok(c.welcome, 'joined the lecture room')
      return { aid, lid, sessionId: room.sessionId, grace, ada, lea, obs, close: () => [grace, ada, lea, obs].forEach((c) => c.close()) }
    }

    it('an instructor of the assignment shows a learner’s room; everyone follows its code read-only, hidden tests never; ending stops it', async () => {
      const r = await setup()
      r.ada.send({ type: 'spotlight', userId: null, sessionId: r.sessionId })
      for (const c of [r.ada, r.lea, r.obs]) {
        assert.ok(await c.waitFor(() => lecture(c)?.spotlight?.sessionId === r.sessionId), 'the spotlight shows Grace’s room')
        assert.equal(lecture(c)!.spotlight!.userId, 'grace')
        assert.equal(lecture(c)!.spotlight!.name, 'Grace')
        assert.ok(await c.waitFor(() => lastFrame(c)?.text === STARTER['main.js']), 'the starter file is shown')
        assert.equal(lastFrame(c)!.file, 'main.js')
        assert.equal(lastFrame(c)!.sessionId, r.sessionId)
      }

      // Grace types: the lecture room follows, with the range she changed.
      const at = STARTER['main.js'].indexOf('return')
      r.grace.type('main.js', at, '// sum\n  ')
      for (const c of [r.lea, r.obs]) {
        assert.ok(await c.waitFor(() => lastFrame(c)?.text.includes('// sum') ?? false), 'her typing arrives')
        assert.deepEqual(lastFrame(c)!.changed, { from: at, to: at + '// sum\n  '.length })
      }
      // Another file she types in is the one shown.
      r.grace.type('util.js', 0, '// helpers\n')
      assert.ok(await r.lea.waitFor(() => lastFrame(r.lea)?.file === 'util.js'), 'the file changed last is shown')

      // Someone joining meanwhile gets the latest frame right after the welcome.
      const late = await RawClient.connect(s.url, r.lid, await token({ sid: r.lid, role: 'learner', sub: 'late', name: 'Lou' }))
      assert.ok(await late.waitFor(() => lastFrame(late)?.file === 'util.js'), 'a late joiner sees the room at once')

      for (const c of [r.ada, r.lea, r.obs, late]) {
        for (const f of frames(c)) assert.ok(!f.text.includes(SECRET), 'hidden tests are never shown')
      }

      // No change, no frame.
      const quiet = frames(r.lea).length
      await sleep(1200)
      assert.equal(frames(r.lea).length, quiet, 'nothing is sent while the room does not change')

      r.ada.send({ type: 'spotlight', userId: null })
      for (const c of [r.lea, r.obs, late]) assert.ok(await c.waitFor(() => lecture(c)?.spotlight === null), 'the spotlight ended')
      const ended = frames(r.lea).length
      r.grace.type('main.js', 0, '// after\n')
      await sleep(1200)
      assert.equal(frames(r.lea).length, ended, 'no frame after the spotlight ended')
      late.close()
      r.close()
    })

    it('is refused to an instructor of another assignment, to a learner, and for a session that is no learner’s room', async () => {
      const r = await setup()
      const other = await RawClient.connect(s.url, r.lid, await token({ sid: r.lid, assignment: 'another-assignment', role: 'instructor', sub: 'eve', name: 'Eve' }))
      other.send({ type: 'spotlight', userId: null, sessionId: r.sessionId })
      assert.ok(await other.waitFor(() => lastError(other)?.code === 'forbidden'), 'another assignment’s instructor is refused')
      r.lea.send({ type: 'spotlight', userId: null, sessionId: r.sessionId })
      assert.ok(await r.lea.waitFor(() => lastError(r.lea)?.code === 'forbidden'), 'a learner is refused')
      r.ada.send({ type: 'spotlight', userId: null, sessionId: r.lid })
      assert.ok(await r.ada.waitFor(() => lastError(r.ada)?.code === 'not_found'), 'the lecture room itself is no learner’s room')
      r.ada.send({ type: 'spotlight', userId: null, sessionId: 'no-such-room' })
      await r.ada.waitFor(() => r.ada.events.filter((e) => e.type === 'error' && e.code === 'not_found').length === 2)
      assert.equal(r.ada.events.filter((e) => e.type === 'error' && e.code === 'not_found').length, 2, 'an unknown session is not found')
      await sleep(700)
      for (const c of [r.ada, r.lea, other]) assert.equal(frames(c).length, 0, 'nothing was shown')
      assert.equal(lecture(r.lea)?.spotlight, null)

      // The assignment's owner may, with a token for the lecture room alone.
      const owner = await RawClient.connect(s.url, r.lid, await token({ sid: r.lid, role: 'instructor', sub: 'owner', name: 'Olive' }))
      owner.send({ type: 'spotlight', userId: null, sessionId: r.sessionId })
      assert.ok(await r.lea.waitFor(() => lastFrame(r.lea)?.sessionId === r.sessionId), 'the owner’s spotlight shows the room')
      for (const c of [other, owner]) c.close()
      r.close()
    })
  })
}
