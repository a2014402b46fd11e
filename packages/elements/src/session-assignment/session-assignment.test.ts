import { expect, fixture, oneEvent } from '@open-wc/testing'
import { html } from 'lit'
import type { Assignment, AssignmentUpdate, VerifiedRun } from '@session-kit/core'
import '../define/session-assignment.js'
import { FAKE_SERVER, FakeRoomServer, fakeAssignmentToken, person } from '../test-support/fake-socket.js'
import { waitFor } from '../test-support/room.js'
import type { SessionSubmitEvent } from '../events/assignment-events.js'
import type { SessionAssignment } from './session-assignment.js'

const NOW = new Date().toISOString()

function assignment(extra: Partial<Assignment> = {}): Assignment {
  return {
    id: 'a1',
    title: 'Week 4: functions',
    instructions: '# Greet\n\nWrite `greet(name)` so it returns **Hello, name!**\n\n- one\n- two\n\n<script>window.__ran = true</script>\n\n[safe](https://example.org) and [unsafe](javascript:alert(1)) <img src=x onerror="window.__ran=true">',
    language: 'javascript',
    files: { 'main.js': 'function greet(name) {}\n' },
    tests: { visible: {} },
    hiddenTestCount: 2,
    dueAt: new Date(Date.now() + 86_400_000).toISOString(),
    submitPolicy: 'lock',
    ownerId: 'ada',
    closed: false,
    closedAt: null,
    createdAt: NOW,
    updatedAt: NOW,
    you: { userId: 'grace', role: 'learner', sessionId: 'room-1', startedAt: NOW, submittedAt: null, pendingUpdates: 0 },
    ...extra,
  }
}

function run(passed: number, failed: number, extra: Partial<VerifiedRun> = {}): VerifiedRun {
  const tests = [...Array(passed)].map((_, i) => ({ name: `passes ${i}`, passed: true, durationMs: 1 })).concat([...Array(failed)].map((_, i) => ({ name: `Hidden test ${i + 1}`, passed: false, durationMs: 1, hidden: true })))
  return { id: `r${passed}`, kind: 'tests', file: 'main.js', language: 'javascript', status: failed ? 'failed' : 'passed', heads: [], output: [], tests, durationMs: 5, verified: true, userId: 'grace', name: 'Grace', createdAt: NOW, finishedAt: NOW, ...extra }
}

/** The assignment routes of a fake server, answering as the test says; every request kept. */
function fakeApi(answers: Record<string, () => Response | Promise<Response>>) {
  const requests: { method: string; path: string; body: unknown; auth: string }[] = []
  const before = globalThis.fetch
  globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input)
    if (!url.startsWith(FAKE_SERVER)) return before(input, init)
    const path = url.slice(FAKE_SERVER.length).split('?')[0]!
    const method = init?.method ?? 'GET'
    requests.push({ method, path, body: init?.body ? JSON.parse(String(init.body)) : undefined, auth: String((init?.headers as Record<string, string>)?.authorization ?? '') })
    const answer = answers[`${method} ${path}`]
    return answer ? answer() : before(input, init)
  }
  return requests
}

const opened = () => Response.json({ sessionId: 'room-1', token: 'x.eyJzdWIiOiJncmFjZSIsInJvbGUiOiJsZWFybmVyIiwic2lkIjoicm9vbS0xIn0.x', role: 'learner', userId: 'grace', created: true }, { status: 201 })
const token = fakeAssignmentToken('grace', 'learner', 'a1')

async function mount(answers: Record<string, () => Response | Promise<Response>>, server = new FakeRoomServer(person('grace', 'learner'), { 'main.js': 'function greet(name) {}\n' })) {
  const requests = fakeApi({
    'POST /v1/assignments/a1/open': opened,
    'GET /v1/assignments/a1': () => Response.json(assignment()),
    'GET /v1/sessions/room-1/runs': () => Response.json({ runs: [] }),
    ...answers,
  })
  const el = await fixture<SessionAssignment>(html`<session-assignment server=${FAKE_SERVER} assignment="a1" token=${token}></session-assignment>`)
  return { el, root: el.shadowRoot!, requests, server }
}

describe('<session-assignment>', () => {
  let server: FakeRoomServer | undefined
  afterEach(() => server?.restore())

  it('opens the learner’s room, then shows the title, safe instructions, the due time, the editor and runner in that room', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const m = await mount({ 'POST /v1/assignments/a1/open': async () => (await gate, opened()) })
    server = m.server
    expect(m.root.textContent).to.contain('Opening your assignment…')
    release()
    await waitFor(() => Boolean(m.root.querySelector('h2[part=title]')), 4000, 'opened')
    expect(m.root.querySelector('h2[part=title]')!.textContent).to.equal('Week 4: functions')
    expect(m.requests[0]).to.include({ method: 'POST', path: '/v1/assignments/a1/open', auth: `Bearer ${token}` })
    const ins = m.root.querySelector('[part=instructions]')!
    expect(ins.querySelector('h3')!.textContent).to.equal('Greet')
    expect(ins.querySelector('code')!.textContent).to.equal('greet(name)')
    expect(ins.querySelector('strong')!.textContent).to.equal('Hello, name!')
    expect(ins.querySelectorAll('li')).to.have.length(2)
    // Markup in the instructions is shown as text, never made into elements or run.
    expect(ins.querySelector('script, img')).to.equal(null)
    expect(ins.textContent).to.contain('<script>window.__ran = true</script>')
    expect((window as { __ran?: boolean }).__ran).to.equal(undefined)
    const links = [...ins.querySelectorAll('a')]
    expect(links.map((a) => a.getAttribute('href'))).to.deep.equal(['https://example.org/'])
    expect(ins.textContent).to.contain('unsafe')
    expect(m.root.querySelector('[part=due]')!.textContent).to.match(/Due .*\(tomorrow|in \d+ hours\)/)
    const room = m.root.querySelector('session-room')!
    expect(room.getAttribute('session')).to.equal('room-1')
    expect(room.querySelector('session-editor')!.getAttribute('file')).to.equal('main.js')
    expect(room.querySelector('session-runner')).to.not.equal(null)
    await waitFor(() => room.status === 'live', 4000, 'room live')
    await expect(m.el).to.be.accessible()
  })

  for (const [what, answer, title, retry] of [
    ['a closed assignment', () => Response.json({ error: { code: 'assignment_closed', message: 'This assignment is closed: it takes no new work.' } }, { status: 409 }), 'This assignment is closed', false],
    ['a learner not allowed', () => Response.json({ error: { code: 'forbidden', message: 'Only learners of this assignment can do this.' } }, { status: 403 }), 'This assignment is not open to you', false],
    ['a network failure', () => Promise.reject(new TypeError('Failed to fetch')), 'The assignment could not be reached', true],
  ] as const) {
    it(`says what went wrong for ${what}`, async () => {
      const m = await mount({ 'POST /v1/assignments/a1/open': answer })
      server = m.server
      await waitFor(() => Boolean(m.root.querySelector('[part=error]')), 4000, 'error shown')
      const error = m.root.querySelector('[part=error]')!
      expect(error.getAttribute('role')).to.equal('alert')
      expect(error.querySelector('h2')!.textContent).to.equal(title)
      expect(m.root.querySelector('session-room')).to.equal(null)
      const again = [...error.querySelectorAll('button')].find((b) => b.textContent === 'Try again')
      expect(Boolean(again)).to.equal(retry)
      await expect(m.el).to.be.accessible()
    })
  }

  it('tries again after a network failure', async () => {
    let fail = true
    const m = await mount({ 'POST /v1/assignments/a1/open': () => (fail ? Promise.reject(new TypeError('Failed to fetch')) : opened()) })
    server = m.server
    await waitFor(() => Boolean(m.root.querySelector('[part=error]')), 4000, 'error shown')
    fail = false
    ;[...m.root.querySelectorAll('button')].find((b) => b.textContent === 'Try again')!.click()
    await waitFor(() => Boolean(m.root.querySelector('h2[part=title]')), 4000, 'opened on retry')
  })

  it('submits (asking first when the policy locks editing) and says when, and that editing is locked', async () => {
    const m = await mount({ 'POST /v1/assignments/a1/submit': () => Response.json({ sessionId: 'room-1', submittedAt: '2030-01-01T14:02:00.000Z', locked: true }) })
    server = m.server
    await waitFor(() => Boolean(m.root.querySelector('[part=submit-button]')), 4000, 'submit button')
    ;(m.root.querySelector('[part=submit-button]') as HTMLButtonElement).click()
    await m.el.updateComplete
    expect(m.requests.some((r) => r.path.endsWith('/submit')), 'nothing sent before confirming').to.equal(false)
    const confirm = [...m.root.querySelectorAll('button')].find((b) => b.textContent === 'Submit and lock')!
    setTimeout(() => confirm.click())
    const event = (await oneEvent(m.el, 'session-submit')) as unknown as SessionSubmitEvent
    expect(event.locked).to.equal(true)
    await m.el.updateComplete
    const bar = m.root.querySelector('[part=submit]')!
    const clock = new Date('2030-01-01T14:02:00.000Z').toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    expect(bar.textContent).to.contain(`Submitted at`)
    expect(bar.textContent).to.contain(clock)
    expect(bar.textContent).to.contain('Editing is now locked.')
    expect(m.root.querySelector('[part=submit-button]'), 'no second submit once locked').to.equal(null)
  })

  it('shows the latest verified tests run as the result that counts, and follows new ones', async () => {
    let runs = [run(1, 2), run(0, 0, { id: 'prog', kind: 'program' })]
    const m = await mount({ 'GET /v1/sessions/room-1/runs': () => Response.json({ runs }) })
    server = m.server
    await waitFor(() => Boolean(m.root.querySelector('[part=result]')?.textContent?.includes('1 of 3 tests passed')), 4000, 'result')
    const result = m.root.querySelector('[part=result]')!
    expect(result.textContent).to.contain('2 hidden tests included')
    expect(result.textContent).to.contain('Hidden test 1')
    await waitFor(() => m.root.querySelector('session-room')!.status === 'live', 4000, 'room live')
    runs = [run(3, 0), ...runs]
    m.server.push({ type: 'run', run: { id: 1, userId: 'grace', name: 'Grace', at: NOW, file: 'main.js', language: 'javascript', ok: true, errors: 0, durationMs: 5, output: '', timedOut: false, verified: true, runId: 'r3', kind: 'tests', status: 'passed', tests: { passed: 3, failed: 0 } } })
    await waitFor(() => Boolean(m.root.querySelector('[part=result]')?.textContent?.includes('3 of 3 tests passed')), 4000, 'new result')
  })

  it('offers a starter-code update as a diff, and takes it', async () => {
    const update: AssignmentUpdate = { file: 'main.js', yours: 'function greet(name) {\n  return 1\n}\n', starter: 'function greet(name) {\n  // return a greeting\n}\n', offeredAt: NOW }
    const m = await mount({
      'GET /v1/assignments/a1': () => Response.json(assignment({ you: { userId: 'grace', role: 'learner', sessionId: 'room-1', startedAt: NOW, submittedAt: null, pendingUpdates: 1 } })),
      'GET /v1/assignments/a1/updates': () => Response.json({ updates: [update] }),
      'POST /v1/assignments/a1/updates/accept': () => Response.json({ updates: [] }),
    })
    server = m.server
    await waitFor(() => Boolean(m.root.querySelector('[part=update]')), 4000, 'update shown')
    const diff = m.root.querySelector('.diff')!
    expect([...diff.querySelectorAll('.del')].map((l) => l.textContent)).to.deep.equal(['−removed:   return 1'])
    expect([...diff.querySelectorAll('.add')].map((l) => l.textContent)).to.deep.equal(['+added:   // return a greeting'])
    ;(m.root.querySelector('[part=accept-update]') as HTMLButtonElement).click()
    await waitFor(() => !m.root.querySelector('[part=update]'), 4000, 'update taken')
    expect(m.requests.find((r) => r.path.endsWith('/updates/accept'))!.body).to.deep.equal({ file: 'main.js' })
  })

  it('refuses a token for another assignment without asking the server', async () => {
    const real = globalThis.fetch
    const requests = fakeApi({})
    try {
      const el = await fixture<SessionAssignment>(html`<session-assignment server=${FAKE_SERVER} assignment="a2" token=${token}></session-assignment>`)
      await waitFor(() => Boolean(el.shadowRoot!.querySelector('[part=error]')), 4000, 'error')
      expect(el.shadowRoot!.textContent).to.contain('The token is for assignment “a1”')
      expect(requests).to.have.length(0)
    } finally {
      globalThis.fetch = real
    }
  })
})
