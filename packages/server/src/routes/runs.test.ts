import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createServer } from '../server.js'
import { RawClient } from '../testing/client.js'
import { oneBackend, freshDataDir, removeDir } from '../testing/db.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from '../testing/server.js'
import { RESTARTED } from '../runs/verified-runs.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const FINAL = new Set(['passed', 'failed', 'error', 'timeout'])
/** Small limits, so a runaway program is stopped quickly. */
const LIMITS = { SESSION_KIT_RUN_TIMEOUT_MS: '3000', SESSION_KIT_RUN_MEMORY_MB: '64' }

let rooms = 0
/** A session with these files, owned by `ins`; tokens for its instructor, a learner and an observer. */
async function room(s: TestServer, files: Record<string, string>) {
  const sid = `runs-${++rooms}-${Date.now().toString(36)}`
  const created = await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Runs', ownerId: 'ins', files })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  return {
    sid,
    ins: await s.token(sid, 'instructor', 'ins', { name: 'Ada' }),
    lea: await s.token(sid, 'learner', `lea-${rooms}`, { name: 'Grace' }),
    obs: await s.token(sid, 'observer', `obs-${rooms}`, { name: 'Linus' }),
  }
}

/** Ask for a run and wait until it ends (Python's first start takes seconds); the run as `reader` sees it. */
async function runTo(s: TestServer, sid: string, token: string, body: unknown, reader = token) {
  const asked = await s.api('POST', `/v1/sessions/${sid}/runs`, token, body)
  assert.equal(asked.status, 202, JSON.stringify(asked.json))
  assert.equal(asked.json.status, 'queued')
  return finished(s, sid, asked.json.id, reader)
}

async function finished(s: TestServer, sid: string, id: string, token: string) {
  for (let i = 0; i < 1200; i++) {
    const r = await s.api('GET', `/v1/sessions/${sid}/runs/${id}`, token)
    assert.equal(r.status, 200, JSON.stringify(r.json))
    if (FINAL.has(r.json.status)) return r.json
    await sleep(100)
  }
  throw new Error(`run ${id} did not finish`)
}

const printed = (run: { output: { text: string }[] }) => run.output.map((o) => o.text).join('')

for (const backend of [oneBackend()]) {
  describe(`verified runs on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend, { env: LIMITS })
    })
    after(() => s.stop())

    it('Python: runs the stored program and its tests at the heads the document had', async () => {
      const { sid, ins, lea } = await room(s, {
        'main.py': 'def add(a, b):\n    return a + b\n\nprint("sum", add(2, 3))\n',
        'test_main.py': 'from main import add\n\ndef test_small():\n    assert add(1, 2) == 3\n\ndef test_wrong():\n    assert add(2, 2) == 5\n',
      })
      // An edit first: the run must read the code as it is now, and say which version that was.
      const editor = await RawClient.connect(s.url, sid, ins)
      assert.ok(await editor.waitFor(() => editor.text('main.py') !== undefined), 'synced')
      const h = editor.type('main.py', editor.text('main.py')!.length, 'print("edited")\n')
      assert.ok(await editor.waitFor(() => editor.acked.has(h)), 'the edit is stored')
      const doc = (await s.api('GET', `/v1/sessions/${sid}/document`, lea)).json

      const program = await runTo(s, sid, lea, { kind: 'program' })
      assert.equal(program.status, 'passed', JSON.stringify(program))
      assert.equal(program.file, 'main.py', 'the first file that runs')
      assert.equal(program.language, 'python')
      assert.equal(program.verified, true)
      assert.match(printed(program), /sum 5\s+edited/)
      assert.deepEqual(program.heads, doc.heads, 'the heads of the document the code was read from')
      assert.equal(program.userId, `lea-${rooms}`)
      assert.equal(program.name, 'Grace')
      assert.ok(program.durationMs > 0 && program.finishedAt >= program.createdAt)

      const tests = await runTo(s, sid, lea, { kind: 'tests', file: 'main.py' })
      assert.equal(tests.status, 'failed', JSON.stringify(tests))
      assert.deepEqual(tests.tests.map((t: { name: string; passed: boolean }) => [t.name, t.passed]), [['test_small', true], ['test_wrong', false]])
      assert.ok(tests.tests[1].message, 'a failing test says why')

      // The document moves on; the run keeps the version it ran.
      editor.type('main.py', 0, '# later\n')
      await editor.waitFor(() => editor.acked.size === 2)
      const later = (await s.api('GET', `/v1/sessions/${sid}/document`, lea)).json
      assert.notDeepEqual(later.heads, doc.heads)
      assert.deepEqual((await s.api('GET', `/v1/sessions/${sid}/runs/${program.id}`, lea)).json.heads, doc.heads)
      const list = (await s.api('GET', `/v1/sessions/${sid}/runs?limit=5`, lea)).json
      assert.deepEqual(list.runs.map((r: { id: string }) => r.id), [tests.id, program.id], 'newest first')
      editor.close()
    })

    it('JavaScript: tests pass and fail; the code is the stored one whatever the request carries', async () => {
      const { sid, lea, obs } = await room(s, {
        'main.js': 'function add(a, b) { return a + b }\nconsole.log("stored", add(20, 22))\n',
        'main.test.js': "test('adds', () => { expect(add(1, 2)).toBe(3) })\ntest('is wrong', () => { expect(add(2, 2)).toBe(5) })\n",
        // A TypeScript test of a JavaScript program: its types are stripped.
        'types.spec.ts': "test('typed', () => { const n: number = add(1, 1); expect(n).toBe(2) })\n",
      })
      const program = await runTo(s, sid, lea, { kind: 'program', file: 'main.js', code: 'console.log("sent by the client")', files: { 'main.js': 'console.log("sent by the client")' } })
      assert.equal(program.status, 'passed', JSON.stringify(program))
      assert.match(printed(program), /stored 42/)
      assert.doesNotMatch(printed(program), /sent by the client/)

      const tests = await runTo(s, sid, lea, { kind: 'tests', file: 'main.js' })
      assert.equal(tests.status, 'failed', JSON.stringify(tests))
      assert.deepEqual(tests.tests.map((t: { name: string; passed: boolean }) => [t.name, t.passed]), [['adds', true], ['is wrong', false], ['typed', true]])
      assert.match(tests.tests[1].message, /5/)

      // Observers see runs but may not start one; a muted learner neither.
      assert.equal((await s.api('GET', `/v1/sessions/${sid}/runs/${tests.id}`, obs)).status, 200)
      const refused = await s.api('POST', `/v1/sessions/${sid}/runs`, obs, { kind: 'program' })
      assert.equal(refused.status, 403)
      assert.equal(refused.json.error.permission, 'EXECUTE_CODE')
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/runs`, lea, { kind: 'program', file: 'missing.js' })).status, 404)
      const style = await s.api('POST', `/v1/sessions/${sid}/runs`, lea, { kind: 'tests', file: 'main.test.js' })
      assert.equal(style.status, 400)
      assert.match(style.json.error.message, /is a test file/)
    })

    it('a program that never ends, or grows without end, is stopped and stored with the reason', async () => {
      const { sid, lea } = await room(s, {
        'ok.py': 'print("ready")\n',
        'loop.py': 'while True:\n    pass\n',
        'grow.py': "x = []\nwhile True:\n    x.append('x' * 10**6)\n",
        'loop.js': 'for (;;) {}\n',
        'grow.js': 'const a = []\nfor (;;) a.push(new Array(1e6).fill(1))\n',
      })
      // Python's interpreter is started once (seconds); the limit is about the program.
      assert.equal((await runTo(s, sid, lea, { kind: 'program', file: 'ok.py' })).status, 'passed')
      for (const file of ['loop.js', 'loop.py']) {
        const t0 = Date.now()
        const run = await runTo(s, sid, lea, { kind: 'program', file })
        assert.equal(run.status, 'timeout', `${file}: ${JSON.stringify(run)}`)
        assert.equal(run.reason, 'Stopped after 3 s: the time limit', file)
        assert.ok(run.durationMs >= 3000 && run.durationMs < 5000, `${file} ran ${run.durationMs} ms`)
        assert.ok(Date.now() - t0 < 15_000, `${file} ended in ${Date.now() - t0} ms`)
      }
      for (const file of ['grow.js', 'grow.py']) {
        const run = await runTo(s, sid, lea, { kind: 'program', file })
        assert.equal(run.status, 'error', `${file}: ${JSON.stringify(run)}`)
        assert.match(run.reason, /memory/i, file)
      }
      assert.deepEqual((await s.api('GET', '/healthz')).json.ok, true, 'the server is well')
    })

    it('hidden test files: instructors manage them; they run only on the server; no learner reads them anywhere', async () => {
      const SECRET = 'q7zz'
      const { sid, ins, lea, obs } = await room(s, {
        // The learner's program and tests try to read the hidden file and show what they found.
        'main.py': 'def add(a, b):\n    return a + b\n\nprint("program ran")\ntry:\n    print(open("test_hidden.py").read())\nexcept Exception as e:\n    print("cannot read it:", type(e).__name__)\n',
        'test_visible.py':
          'from main import add\n\ndef test_visible():\n    assert add(1, 1) == 2\n\ndef test_peek():\n    try:\n        import test_hidden\n        found = open(test_hidden.__file__).read()\n    except Exception as e:\n        found = "nothing: " + type(e).__name__\n    assert False, found\n',
      })
      const hidden = `from main import add\nprint("printed by hidden ${SECRET}")\n\ndef test_secret_${SECRET}():\n    assert add(2, 2) == 4, "never ${SECRET}"\n\ndef test_fails_${SECRET}():\n    assert add(1, 1) == 3, "message ${SECRET}"\n`
      const base = `/v1/sessions/${sid}/hidden-files`

      // Managing them: instructors only, with clear refusals.
      for (const [token, who] of [[lea, 'learner'], [obs, 'observer']] as const) {
        for (const [method, path, body] of [['GET', base], ['GET', `${base}/test_hidden.py`], ['PUT', `${base}/test_hidden.py`, { text: 'x' }], ['DELETE', `${base}/test_hidden.py`]] as const) {
          const r = await s.api(method, path, token, body)
          assert.equal(r.status, 403, `${who} ${method} ${path}`)
          assert.equal(r.json.error.permission, 'MANAGE_FILES')
        }
      }
      const notTest = await s.api('PUT', `${base}/notes.txt`, ins, { text: 'x' })
      assert.equal(notTest.status, 400)
      assert.match(notTest.json.error.message, /"notes\.txt" is not a test file/)
      assert.equal((await s.api('PUT', `${base}/test_big.py`, ins, { text: 'x'.repeat(256 * 1024 + 1) })).status, 413)
      assert.equal((await s.api('PUT', `${base}/test_hidden.py`, ins, { text: 'old' })).status, 201)
      const plain = await fetch(`${s.url}${base}/test_hidden.py`, { method: 'PUT', headers: { authorization: `Bearer ${ins}`, 'content-type': 'text/plain; charset=utf-8' }, body: hidden })
      assert.equal(plain.status, 200, 'replaced, as plain text')
      const listed = (await s.api('GET', base, ins)).json
      assert.deepEqual(listed.files.map((f: { name: string; size: number }) => [f.name, f.size]), [['test_hidden.py', Buffer.byteLength(hidden)]])
      assert.equal((await s.api('GET', `${base}/test_hidden.py`, ins)).json.text, hidden)
      assert.equal((await s.api('GET', `${base}/test_missing.py`, ins)).status, 404)

      // Everyone is in the room: the learner as a full replica, an observer as a light viewer, a recording runs.
      const learner = await RawClient.connect(s.url, sid, lea)
      const viewer = await RawClient.connect(s.url, sid, obs, { mode: 'view' })
      const teacher = await RawClient.connect(s.url, sid, ins, { mode: 'events' })
      assert.ok(await learner.waitFor(() => learner.text('main.py') !== undefined) && (await viewer.waitFor(() => viewer.view !== null)), 'synced')
      const rec = await s.api('POST', `/v1/sessions/${sid}/recordings`, ins, { title: 'Lesson' })
      assert.equal(rec.status, 201)

      const run = await runTo(s, sid, lea, { kind: 'tests', file: 'main.py' })
      assert.equal(run.status, 'failed', JSON.stringify(run))
      assert.deepEqual(
        run.tests.map((t: { name: string; passed: boolean; message?: string; hidden?: boolean }) => [t.name, t.passed, t.message ?? null, t.hidden ?? false]),
        [['test_visible', true, null, false], ['test_peek', false, run.tests[1].message, false], ['Hidden test 1', true, null, true], ['Hidden test 2', false, null, true]],
        'the learner sees hidden tests by number only',
      )
      assert.match(run.tests[1].message, /nothing: ModuleNotFoundError/, 'the learner’s test found no hidden file to read')
      assert.match(printed(run), /program ran\s+cannot read it/, 'the visible part’s output is the learner’s')
      assert.equal(run.withheld, 'The hidden tests’ output and messages are shown to instructors only.')
      assert.equal(run.hiddenOutput, undefined)

      const full = await finished(s, sid, run.id, ins)
      assert.deepEqual(full.tests.map((t: { name: string }) => t.name), ['test_visible', 'test_peek', `test_secret_${SECRET}`, `test_fails_${SECRET}`])
      assert.match(full.tests[3].message, new RegExp(`message ${SECRET}`))
      assert.match(printed({ output: full.hiddenOutput }), new RegExp(`printed by hidden ${SECRET}`))
      assert.equal(full.withheld, undefined)

      // The room heard of it, without anything of the hidden tests.
      assert.ok(await teacher.waitFor(() => teacher.events.some((e) => e.type === 'run' && e.run.runId === run.id)), 'the run event')
      const event = teacher.events.find((e) => e.type === 'run' && e.run.runId === run.id).run
      assert.deepEqual([event.verified, event.status, event.kind, event.tests, event.file, event.ok], [true, 'failed', 'tests', { passed: 2, failed: 2 }, 'main.py', false])
      assert.ok(await learner.waitFor(() => learner.events.some((e) => e.type === 'run' && e.run.runId === run.id)), 'the learner heard it too')

      // Everything a learner or an observer can read holds nothing of the hidden file.
      const reachable: unknown[] = []
      const read = async (path: string, token = lea) => {
        const r = await s.api('GET', path, token)
        assert.equal(r.status, 200, `${path}: ${r.status}`)
        reachable.push(r.json)
        return r.json
      }
      const doc = await read(`/v1/sessions/${sid}/document`)
      assert.deepEqual(Object.keys(doc.files).sort(), ['main.py', 'test_visible.py'])
      assert.deepEqual(Object.keys((await read(`/v1/sessions/${sid}/document`, ins)).files).sort(), ['main.py', 'test_visible.py'], 'not in the document, even for instructors')
      const mine = await s.api('POST', `/v1/sessions/${sid}/snapshots`, lea, { title: 'mine' })
      const theirs = await s.api('POST', `/v1/sessions/${sid}/snapshots`, ins, { title: 'reference' })
      reachable.push(mine.json, theirs.json)
      await read(`/v1/sessions/${sid}/snapshots`)
      await read(`/v1/sessions/${sid}/snapshots/${mine.json.id}`)
      await read(`/v1/sessions/${sid}/snapshots/${theirs.json.id}/export`)
      assert.equal(Object.keys((await read(`/v1/sessions/${sid}/snapshots/${theirs.json.id}`, ins)).files).length, 2, 'an instructor’s snapshot holds the document only')
      await read(`/v1/sessions/${sid}/runs`)
      await read(`/v1/sessions/${sid}/runs/${run.id}`, obs)
      await read(`/v1/sessions/${sid}/analytics/me`)
      assert.equal((await s.api('POST', `/v1/sessions/${sid}/recordings/${rec.json.id}/stop`, ins)).status, 200)
      let replay: { events: { type: string; verified?: boolean; status?: string; tests?: unknown }[] } | undefined
      for (let i = 0; i < 200; i++) {
        const r = await s.api('GET', `/v1/sessions/${sid}/recordings/${rec.json.id}/events`, lea)
        if (r.status === 200) {
          replay = r.json
          break
        }
        await sleep(50)
      }
      assert.ok(replay, 'the replay was built')
      reachable.push(replay)
      const replayed = replay!.events.find((e) => e.type === 'run')
      assert.deepEqual([replayed?.verified, replayed?.status, replayed?.tests], [true, 'failed', { passed: 2, failed: 2 }], 'the recording has the verified run')
      for (const c of [learner, viewer, teacher]) reachable.push(c.rawText, c.doc)
      reachable.push(viewer.view)
      for (const [i, body] of reachable.entries()) {
        assert.ok(!JSON.stringify(body).includes(SECRET), `response ${i} holds the hidden file: ${JSON.stringify(body).slice(0, 300)}`)
      }

      // Deleted, it no longer runs.
      assert.equal((await s.api('DELETE', `${base}/test_hidden.py`, ins)).status, 204)
      assert.equal((await s.api('DELETE', `${base}/test_hidden.py`, ins)).status, 404)
      assert.deepEqual((await s.api('GET', base, ins)).json, { files: [] })
      const after = await runTo(s, sid, lea, { kind: 'tests', file: 'main.py' })
      assert.deepEqual(after.tests.map((t: { name: string; passed: boolean }) => [t.name, t.passed]), [['test_visible', true], ['test_peek', false]])
      assert.equal(after.withheld, undefined)
      for (const c of [learner, viewer, teacher]) c.close()
    })

    it('a hidden test file wins over a document file of the same name', async () => {
      const { sid, ins, lea } = await room(s, {
        'main.js': 'function add(a, b) { return a + b }\n',
        // A learner's own file named like the hidden one, to swap it for a test that always passes.
        'secret.test.js': "test('always passes', () => {})\n",
      })
      const put = await s.api('PUT', `/v1/sessions/${sid}/hidden-files/secret.test.js`, ins, { text: "test('real check', () => { expect(add(2, 2)).toBe(5) })\n" })
      assert.equal(put.status, 201)
      const run = await runTo(s, sid, lea, { kind: 'tests', file: 'main.js' }, ins)
      assert.deepEqual(run.tests.map((t: { name: string; passed: boolean; hidden?: boolean }) => [t.name, t.passed, t.hidden ?? false]), [['real check', false, true]])
      assert.equal(run.status, 'failed')

      // Deleting the session deletes its runs and hidden files with it.
      assert.equal((await s.api('DELETE', `/v1/sessions/${sid}`, TEST_API_KEY)).status, 204)
      const [left] = await s.db.sql`select (select count(*) from verified_runs where session_id = ${sid})::int as runs, (select count(*) from hidden_files where session_id = ${sid})::int as hidden`
      assert.deepEqual({ ...left }, { runs: 0, hidden: 0 })
    })

    it('the run event reaches the room on every instance, and analytics count verified runs and their tests', async () => {
      const { sid, ins, lea } = await room(s, {
        'main.js': 'function add(a, b) { return a + b }\n',
        'main.test.js': "test('adds', () => { expect(add(1, 2)).toBe(3) })\ntest('fails', () => { expect(add(1, 2)).toBe(4) })\n",
      })
      const here = await RawClient.connect(s.url, sid, ins, { mode: 'events' })
      // With PostgreSQL, the learner is on a second instance on the same database: its room hears the run too.
      const other = backend === 'postgres' ? await createServer({ port: 0, host: '127.0.0.1', dataDir: await freshDataDir(), databaseUrl: s.databaseUrl, env: { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY }, log: () => {} }) : undefined
      const there = await RawClient.connect(other?.url ?? s.url, sid, lea, { mode: 'events' })
      assert.ok(await here.waitFor(() => here.welcome !== null && there.welcome !== null), 'joined')

      const run = await runTo(s, sid, lea, { kind: 'tests' })
      for (const c of [here, there]) {
        assert.ok(await c.waitFor(() => c.events.some((e) => e.type === 'run' && e.run.runId === run.id)), 'the room heard the run')
        const e = c.events.find((x) => x.type === 'run' && x.run.runId === run.id).run
        assert.equal(e.verified, true)
        assert.equal(e.userId, `lea-${rooms}`)
        assert.deepEqual(e.tests, { passed: 1, failed: 1 })
        assert.equal(e.errors, 1)
      }
      // A page cannot pass its own run off as one the server made (its test counts stay what it
      // reported: the room hears them, analytics' test counts come from verified runs only).
      there.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok: true, errors: 0, durationMs: 1, output: '', verified: true, runId: run.id, status: 'passed', tests: { passed: 9, failed: 0 } } })
      assert.ok(await here.waitFor(() => here.events.filter((e) => e.type === 'run').length === 2), 'the reported run was shared')
      const reported = here.events.filter((e) => e.type === 'run')[1].run
      assert.deepEqual([reported.verified, reported.runId, reported.status, reported.tests], [undefined, undefined, undefined, { passed: 9, failed: 0 }])

      const stats = (await s.api('GET', `/v1/sessions/${sid}/analytics`, ins)).json
      const learnerStats = stats.participants.find((p: { userId: string }) => p.userId === `lea-${rooms}`)
      assert.deepEqual([learnerStats.verifiedRuns, learnerStats.testsPassed, learnerStats.testsFailed, learnerStats.executions], [1, 1, 1, 2], 'two runs, one of them verified')
      assert.equal(stats.session.verifiedRuns, 1)
      const own = (await s.api('GET', `/v1/sessions/${sid}/analytics/me`, lea)).json
      assert.deepEqual([own.verifiedRuns, own.testsPassed, own.testsFailed], [1, 1, 1])
      here.close()
      there.close()
      if (other) {
        const dir = other.config.dataDir
        await other.close()
        removeDir(dir)
      }
    })
  })
}

describe('verified runs: limits (PGlite)', () => {
  let s: TestServer
  before(async () => {
    s = await startTestServer('pglite', {
      env: { SESSION_KIT_RUN_WORKERS: '1', SESSION_KIT_RUN_QUEUE: '1', SESSION_KIT_RUN_TIMEOUT_MS: '2000', SESSION_KIT_RUNS_PER_USER: '3', SESSION_KIT_RUNS_PER_ROOM: '5' },
    })
  })
  after(() => s.stop())

  it('per person and per room a minute, then 429 with Retry-After and a sentence to act on', async () => {
    const { sid, lea } = await room(s, { 'main.js': 'console.log(1)\n' })
    for (let i = 0; i < 3; i++) await runTo(s, sid, lea, { kind: 'program' })
    const refused = await s.api('POST', `/v1/sessions/${sid}/runs`, lea, { kind: 'program' })
    assert.equal(refused.status, 429)
    assert.equal(refused.json.error.code, 'rate_limited')
    assert.match(refused.json.error.message, /at most 3 times a minute; try again in \d+ s/)
    const wait = Number(refused.headers.get('retry-after'))
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`)
    assert.equal(refused.json.error.retryAfterSeconds, wait)

    // Others in the room still may, until the room's own limit.
    for (const user of ['u2', 'u3']) await runTo(s, sid, await s.token(sid, 'learner', user), { kind: 'program' })
    const room429 = await s.api('POST', `/v1/sessions/${sid}/runs`, await s.token(sid, 'learner', 'u4'), { kind: 'program' })
    assert.equal(room429.status, 429)
    assert.match(room429.json.error.message, /This room can run code on the server at most 5 times a minute/)
    assert.ok(Number(room429.headers.get('retry-after')) >= 1)
    assert.equal((await s.api('GET', `/v1/sessions/${sid}/runs?limit=100`, lea)).json.runs.length, 5, 'refused runs are not stored')
  })

  it('a full queue answers 429 with Retry-After; the runs taken all finish', async () => {
    const { sid } = await room(s, { 'loop.js': 'for (;;) {}\n' })
    const ask = async (user: string) => s.api('POST', `/v1/sessions/${sid}/runs`, await s.token(sid, 'learner', user), { kind: 'program' })
    const first = await ask('q1')
    const second = await ask('q2')
    assert.deepEqual([first.status, second.status], [202, 202], 'one runs, one waits')
    const third = await ask('q3')
    assert.equal(third.status, 429, JSON.stringify(third.json))
    assert.equal(third.json.error.code, 'queue_full')
    assert.match(third.json.error.message, /try again in \d+ s/)
    assert.ok(Number(third.headers.get('retry-after')) >= 1)
    const token = await s.token(sid, 'learner', 'q1')
    for (const r of [first, second]) assert.equal((await finished(s, sid, r.json.id, token)).status, 'timeout')
    assert.equal((await ask('q3')).status, 202, 'room again once the queue drained')
  })
})

describe('verified runs across a restart (PGlite)', () => {
  it('a run in progress when the server stops is stored as an error, and one an earlier process left is ended at start-up', async () => {
    const dataDir = await freshDataDir()
    const env = { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY, SESSION_KIT_RUN_TIMEOUT_MS: '20000' }
    try {
      let server = await createServer({ port: 0, host: '127.0.0.1', dataDir, env, log: () => {} })
      const sid = 'restart'
      const api = (method: string, path: string, token: string, body?: unknown) =>
        fetch(server.url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }))
      assert.equal((await api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: 'Restart', ownerId: 'ins', files: { 'loop.js': 'for (;;) {}\n' } })).status, 201)
      const { mintToken } = await import('../auth/tokens.js')
      const token = await mintToken({ sid, role: 'learner', sub: 'lea', name: 'Grace' }, TEST_SECRET, { ttl: '1h' })
      const asked = await api('POST', `/v1/sessions/${sid}/runs`, token, { kind: 'program' })
      assert.equal(asked.status, 202)
      // A run an earlier process (another instance id) left unfinished.
      await server.db.sql`insert into verified_runs (id, session_id, user_id, name, kind, file, language, status, heads, instance_id) values ('left-behind', ${sid}, 'lea', 'Grace', 'program', 'loop.js', 'javascript', 'running', '{}', 'gone')`
      await server.close()

      server = await createServer({ port: 0, host: '127.0.0.1', dataDir, env, log: () => {} })
      for (const id of [asked.json.id, 'left-behind']) {
        const run = await api('GET', `/v1/sessions/${sid}/runs/${id}`, token)
        assert.equal(run.json.status, 'error', `${id}: ${JSON.stringify(run.json)}`)
        assert.equal(run.json.reason, RESTARTED)
        assert.equal(typeof run.json.finishedAt, 'string')
      }
      await server.close()
    } finally {
      removeDir(dataDir)
    }
  })
})
