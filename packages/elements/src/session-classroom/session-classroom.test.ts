import { expect, fixture, oneEvent } from '@open-wc/testing'
import { sendKeys, setViewport } from '@web/test-runner-commands'
import { html } from 'lit'
import type { AssignmentRoom, AssignmentRoomList, NotOpenedLearner } from '@session-kit/core'
import '../define/session-classroom.js'
import { FAKE_SERVER, FakeRoomServer, fakeAssignmentToken, person } from '../test-support/fake-socket.js'
import { waitFor } from '../test-support/room.js'
import type { SessionOpenRoomEvent } from '../events/assignment-events.js'
import type { SessionClassroom } from './session-classroom.js'

const NOW = Date.now()
const ago = (min: number) => new Date(NOW - min * 60_000).toISOString()

function room(userId: string, name: string, extra: Partial<AssignmentRoom> = {}): AssignmentRoom {
  return { userId, name, sessionId: `room-${userId}`, startedAt: ago(30), lastActivityAt: ago(2), online: true, submittedAt: null, tests: null, hand: null, attention: [], pendingUpdates: 0, ...extra }
}

const CLASS = [
  room('ada', 'Ada', { tests: { runId: 'r1', status: 'passed', passed: 3, failed: 0, at: ago(1) }, submittedAt: ago(1) }),
  room('bob', 'Bob', { tests: { runId: 'r2', status: 'failed', passed: 1, failed: 2, at: ago(1) }, attention: ['Their last 3 runs failed.'] }),
  room('cy', 'Cy', { lastActivityAt: null, online: false }),
  room('dee', 'Dee', { hand: { raisedAt: ago(3), question: 'Why does it return undefined?' } }),
]

/** What an LMS link gives the fake server: the roster's state in the rooms listing, and the answer to a pull. */
interface FakeLms {
  roster: NonNullable<AssignmentRoomList['roster']>
  pull: (init: RequestInit) => Response | Promise<Response>
}

/** A fake server for the overview: the assignment, its rooms, and a token per room (each one counted). */
function fakeApi(rooms: AssignmentRoom[], notOpened?: NotOpenedLearner[], lms?: FakeLms) {
  const opens: string[] = []
  const before = globalThis.fetch
  globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input)
    if (!url.startsWith(FAKE_SERVER + '/v1/assignments/')) return before(input, init)
    const path = url.slice(FAKE_SERVER.length)
    if (path === '/v1/assignments/a1') return Response.json({ id: 'a1', title: 'Week 4', files: { 'main.js': '' } })
    if (path === '/v1/assignments/a1/rooms') return Response.json({ rooms, ...(notOpened ? { notOpened } : {}), ...(lms ? { roster: lms.roster } : {}) })
    if (path === '/v1/assignments/a1/roster' && init?.method === 'POST' && lms) return lms.pull(init)
    const open = /\/rooms\/([^/]+)\/open$/.exec(path)
    if (open && init?.method === 'POST') {
      const userId = decodeURIComponent(open[1]!)
      opens.push(userId)
      return Response.json({ sessionId: `room-${userId}`, token: fakeAssignmentToken('ins', 'instructor', 'a1'), role: 'instructor', userId: 'ins', created: false })
    }
    return Response.json({ error: { code: 'not_found', message: 'Not here.' } }, { status: 404 })
  }
  return opens
}

const token = fakeAssignmentToken('ins', 'instructor', 'a1')
const names = (root: ShadowRoot) => [...root.querySelectorAll('li[data-user] h3')].map((h) => h.textContent)

async function mount(rooms = CLASS, notOpened?: NotOpenedLearner[], lms?: FakeLms) {
  const server = new FakeRoomServer(person('ins', 'instructor'), { 'main.js': 'function greet(name) {\n  return `Hi ${name}`\n}\n' })
  const opens = fakeApi(rooms, notOpened, lms)
  const el = await fixture<SessionClassroom>(html`<session-classroom server=${FAKE_SERVER} assignment="a1" token=${token}></session-classroom>`)
  await waitFor(() => el.shadowRoot!.querySelectorAll(rooms.length ? 'li[data-user]' : '[part=not-opened-learner]').length > 0, 4000, 'tiles')
  return { el, root: el.shadowRoot!, server, opens }
}

describe('<session-classroom>', () => {
  let server: FakeRoomServer | undefined
  afterEach(async () => {
    server?.restore()
    await setViewport({ width: 800, height: 600 })
  })

  it('shows each learner’s status and live code, raised hands first', async () => {
    const m = await mount()
    server = m.server
    expect(names(m.root)).to.deep.equal(['Dee', 'Bob', 'Ada', 'Cy'])
    const tile = (name: string) => [...m.root.querySelectorAll<HTMLElement>('li[data-user]')].find((li) => li.querySelector('h3')!.textContent === name)!
    expect(tile('Dee').textContent).to.contain('Why does it return undefined?')
    expect(tile('Dee').getAttribute('aria-label')).to.contain('hand raised')
    expect(tile('Ada').textContent).to.contain('Tests 3/3 passed')
    expect(tile('Ada').textContent).to.contain('Submitted')
    expect(tile('Bob').textContent).to.contain('Tests 1/3 passed')
    expect(tile('Bob').textContent).to.contain('Their last 3 runs failed.')
    expect(tile('Cy').textContent).to.contain('not started')
    expect(tile('Ada').textContent).to.match(/active 2 minutes ago/)
    // On screen, each tile follows its room as a light viewer: the code, never a write.
    await waitFor(() => tile('Ada').querySelector('pre')?.textContent?.includes('return `Hi ${name}`') ?? false, 4000, 'live code')
    const hellos = m.server.sockets.length
    expect(hellos).to.equal(4)
    expect(m.server.sent.filter((e) => e.type === 'chat' || e.type === 'presence')).to.deep.equal([])
    expect(m.root.querySelector('[part=roster]'), 'no LMS roster to pull').to.equal(null)
    await expect(m.el).to.be.accessible()
  })

  it('filters and sorts: tests failing, submitted, not started, by name and by search', async () => {
    const m = await mount()
    server = m.server
    const [show, sort] = [...m.root.querySelectorAll('select')] as HTMLSelectElement[]
    const choose = async (select: HTMLSelectElement, value: string) => {
      select.value = value
      select.dispatchEvent(new Event('change'))
      await m.el.updateComplete
    }
    await choose(show!, 'failing')
    expect(names(m.root)).to.deep.equal(['Bob'])
    await choose(show!, 'submitted')
    expect(names(m.root)).to.deep.equal(['Ada'])
    await choose(show!, 'not-started')
    expect(names(m.root)).to.deep.equal(['Cy'])
    await choose(show!, 'all')
    await choose(sort!, 'name')
    expect(names(m.root)).to.deep.equal(['Ada', 'Bob', 'Cy', 'Dee'])
    const search = m.root.querySelector('input[type=search]') as HTMLInputElement
    search.value = 'de'
    search.dispatchEvent(new Event('input'))
    await m.el.updateComplete
    expect(names(m.root)).to.deep.equal(['Dee'])
  })

  it('streams only the tiles on screen: 60 learners, a few connections', async () => {
    await setViewport({ width: 390, height: 700 })
    const many = [...Array(60)].map((_, i) => room(`l${String(i).padStart(2, '0')}`, `Learner ${String(i).padStart(2, '0')}`))
    const m = await mount(many)
    server = m.server
    await waitFor(() => m.server.sockets.length > 0, 4000, 'first sockets')
    await new Promise((r) => setTimeout(r, 300))
    const first = m.server.sockets.length
    expect(first, 'one column at 390 px: only the first tiles stream').to.be.within(1, 8)
    expect(getComputedStyle(m.root.querySelector('.grid')!).gridTemplateColumns.split(' ')).to.have.length(1)
    expect(m.opens.length).to.equal(first)
    const last = m.root.querySelector<HTMLElement>('li[data-user="l59"]')!
    last.scrollIntoView()
    await waitFor(() => m.server.sockets.some((s) => s.url.includes('room-l59')), 4000, 'the last tile streams once on screen')
    // The first tiles, now far off screen, close their connections.
    await waitFor(() => m.server.sockets.filter((s) => s.url.includes('room-l00')).every((s) => s.readyState === 3), 4000, 'off-screen tiles stop')
    expect(m.server.sockets.filter((s) => s.readyState === 1).length).to.be.below(12)
    window.scrollTo(0, 0)
  })

  it('moves between tiles with the arrow keys and opens one with Enter (the host may take it over)', async () => {
    const m = await mount()
    server = m.server
    const tiles = () => [...m.root.querySelectorAll<HTMLElement>('li[data-user]')]
    expect(tiles().map((t) => t.tabIndex)).to.deep.equal([0, -1, -1, -1])
    tiles()[0]!.focus()
    await sendKeys({ press: 'ArrowRight' })
    await m.el.updateComplete
    expect(m.root.activeElement).to.equal(tiles()[1])
    expect(tiles().map((t) => t.tabIndex)).to.deep.equal([-1, 0, -1, -1])
    m.el.addEventListener('session-open-room', (e) => e.preventDefault(), { once: true })
    setTimeout(() => void sendKeys({ press: 'Enter' }))
    const event = (await oneEvent(m.el, 'session-open-room')) as unknown as SessionOpenRoomEvent
    expect(event.sessionId).to.equal('room-bob')
    expect(event.learner).to.deep.equal({ userId: 'bob', name: 'Bob' })
    expect(event.token).to.be.a('string')
    await m.el.updateComplete
    expect(m.root.querySelector('dialog'), 'the host showed it: no dialog').to.equal(null)
  })

  it('opens a room in a dialog with a full editor when the host does not', async () => {
    const m = await mount()
    server = m.server
    ;(m.root.querySelector('li[data-user="ada"] [part=open-button]') as HTMLButtonElement).click()
    await waitFor(() => Boolean(m.root.querySelector('dialog[open]')), 4000, 'dialog open')
    const dialog = m.root.querySelector('dialog')!
    expect(dialog.querySelector('h2')!.textContent).to.equal("Ada's room")
    expect(dialog.querySelector('session-room')!.getAttribute('session')).to.equal('room-ada')
    expect(dialog.querySelector('session-editor')).to.not.equal(null)
    ;[...dialog.querySelectorAll('button')].find((b) => b.textContent === 'Close')!.click()
    await waitFor(() => !m.root.querySelector('dialog'), 4000, 'dialog closed')
  })

  it('sends a message to one learner, or to everyone, in their rooms’ chat', async () => {
    const m = await mount()
    server = m.server
    await waitFor(() => m.server.sockets.filter((s) => s.readyState === 1).length === 4, 4000, 'tiles live')
    ;(m.root.querySelector('li[data-user="bob"]')!.querySelectorAll('button')[1] as HTMLButtonElement).click()
    await m.el.updateComplete
    const text = m.root.querySelector('textarea')!
    expect(m.root.activeElement).to.equal(text)
    text.value = 'Look at line 2'
    m.root.querySelector('form')!.requestSubmit()
    await waitFor(() => m.root.querySelector('.sent')?.textContent === 'Sent to Bob.', 4000, 'sent to Bob')
    expect(m.server.sent.filter((e) => e.type === 'chat')).to.deep.equal([{ type: 'chat', text: 'Look at line 2' }])
    const to = m.root.querySelector('form select') as HTMLSelectElement
    to.value = ''
    to.dispatchEvent(new Event('change'))
    text.value = 'Five minutes left'
    m.root.querySelector('form')!.requestSubmit()
    await waitFor(() => m.root.querySelector('.sent')?.textContent === 'Sent to everyone (4 rooms).', 4000, 'sent to everyone')
    expect(m.server.sent.filter((e) => e.type === 'chat' && e.text === 'Five minutes left')).to.have.length(4)
  })

  it('shows each learner’s grade on its way to the LMS, and the course’s learners who have not opened it, with no room to open', async () => {
    const sent = { status: 'sent' as const, score: 80, scoreMaximum: 100, error: null, sentAt: ago(1), retryAt: null }
    const graded = [
      room('ada', 'Ada', { submittedAt: ago(2), grade: sent }),
      room('bob', 'Bob', { submittedAt: ago(2), grade: { ...sent, status: 'sending', score: 100, sentAt: null, error: 'The LMS refused the score (HTTP 503: server_error)', retryAt: new Date(NOW + 30_000).toISOString() } }),
      room('cy', 'Cy', { submittedAt: ago(2), grade: { ...sent, status: 'failed', sentAt: null, error: 'The LMS refused the score (HTTP 500: gradebook closed)' } }),
      room('dee', 'Dee', { submittedAt: ago(1), grade: { status: 'waiting', score: null, scoreMaximum: null, error: null, sentAt: null, retryAt: null } }),
    ]
    const waiting = [
      { userId: 'lti:p1:u-eli', name: 'Eli', email: 'eli@school.test' },
      { userId: 'lti:p1:u-fay', name: 'Fay', email: null },
    ]
    const m = await mount(graded, waiting)
    server = m.server
    const tile = (name: string) => [...m.root.querySelectorAll<HTMLElement>('li[data-user]')].find((li) => li.querySelector('h3')!.textContent === name)!
    expect(tile('Ada').querySelector('[part=grade]')!.textContent).to.equal('Grade sent 80/100')
    expect(tile('Ada').getAttribute('aria-label')).to.contain('Grade sent 80/100')
    expect(tile('Bob').querySelector('[part=grade]')!.textContent).to.equal('Grade failed: The LMS refused the score (HTTP 503: server_error) — retrying')
    expect(tile('Cy').querySelector('[part=grade]')!.textContent).to.equal('Grade failed: The LMS refused the score (HTTP 500: gradebook closed) — gave up')
    expect(tile('Dee').querySelector('[part=grade]')!.textContent).to.equal('Grading the submission…')

    // Learners without a room: rows under the tiles, not tiles (no code, no Open), their email to invite them.
    expect(m.root.querySelectorAll('li[data-user]')).to.have.length(4)
    const rows = [...m.root.querySelectorAll<HTMLElement>('[part=not-opened-learner]')]
    expect(rows.map((r) => r.querySelector('.name')!.textContent)).to.deep.equal(['Eli', 'Fay'])
    expect(rows.every((r) => r.textContent!.includes('Not opened yet'))).to.equal(true)
    expect(rows.some((r) => r.querySelector('button'))).to.equal(false)
    expect(rows[0]!.querySelector('a')!.getAttribute('href')).to.equal('mailto:eli@school.test')
    expect(rows[1]!.querySelector('a')).to.equal(null)
    expect(m.root.querySelector('.head h2')!.textContent).to.contain('6 learners')
    expect(m.root.querySelector('.summary')!.textContent).to.contain('2 not opened yet')
    await expect(m.el).to.be.accessible()

    // They are among those who have not started or submitted, and match a search by name.
    const show = m.root.querySelector('select') as HTMLSelectElement
    const choose = async (value: string) => {
      show.value = value
      show.dispatchEvent(new Event('change'))
      await m.el.updateComplete
    }
    expect([...show.options].find((o) => o.value === 'not-started')!.textContent).to.equal('Not started (2)')
    await choose('submitted')
    expect(m.root.querySelector('[part=not-opened]')).to.equal(null)
    await choose('not-submitted')
    expect(m.root.querySelectorAll('[part=not-opened-learner]')).to.have.length(2)
    await choose('all')
    const search = m.root.querySelector('input[type=search]') as HTMLInputElement
    search.value = 'fa'
    search.dispatchEvent(new Event('input'))
    await m.el.updateComplete
    expect(names(m.root)).to.deep.equal([])
    expect([...m.root.querySelectorAll('[part=not-opened-learner] .name')].map((x) => x.textContent)).to.deep.equal(['Fay'])
    expect(m.root.textContent).to.not.contain('No learner matches')
  })

  it('lists the rostered learners when nobody has opened the assignment yet', async () => {
    const m = await mount([], [{ userId: 'lti:p1:u-eli', name: 'Eli', email: null }], { roster: { available: false, pulledAt: null }, pull: () => Response.error() })
    server = m.server
    expect(m.root.textContent).to.contain('No learner has opened this assignment yet')
    expect(m.root.querySelector('[part=roster]'), 'a launch without the roster service: nothing to pull').to.equal(null)
    expect([...m.root.querySelectorAll('[part=not-opened-learner] .name')].map((x) => x.textContent)).to.deep.equal(['Eli'])
    expect(m.server.sockets).to.have.length(0)
    await expect(m.el).to.be.accessible()
  })

  it('pulls the LMS course roster on request (by keyboard), then lists its learners who have not opened the assignment', async () => {
    const waiting: NotOpenedLearner[] = []
    const roster = { available: true, pulledAt: null as string | null }
    const pulls: { body: unknown; auth: string | null }[] = []
    let answer!: () => void
    const m = await mount(CLASS.slice(0, 2), waiting, {
      roster,
      pull: async (init) => {
        pulls.push({ body: JSON.parse(String(init.body)), auth: new Headers(init.headers).get('authorization') })
        await new Promise<void>((r) => (answer = r))
        // The LMS named a learner the overview did not know: the next listing has them.
        waiting.push({ userId: 'lti:p1:u-eli', name: 'Eli', email: 'eli@school.test' })
        roster.pulledAt = new Date().toISOString()
        return Response.json({ members: 4, learners: 3, pulledAt: roster.pulledAt })
      },
    })
    server = m.server
    const part = m.root.querySelector('[part=roster]')!
    const button = part.querySelector('button')!
    const status = part.querySelector('[role=status]')!
    expect(button.textContent).to.equal('Update roster from the LMS')
    expect(button.classList.contains('primary'), 'a secondary button').to.equal(false)
    expect(part.textContent).to.not.contain('Roster from the LMS, updated')
    expect(m.root.querySelector('[part=not-opened]')).to.equal(null)
    await expect(m.el).to.be.accessible()

    button.focus()
    await sendKeys({ press: 'Enter' })
    await waitFor(() => button.disabled, 4000, 'disabled while pulling')
    expect(status.textContent).to.equal('Pulling the roster…')
    expect(pulls).to.deep.equal([{ body: {}, auth: `Bearer ${token}` }])
    answer()
    await waitFor(() => m.root.querySelectorAll('[part=not-opened-learner]').length === 1, 4000, 'the rostered learner listed')
    await m.el.updateComplete
    expect(status.textContent).to.equal('Roster updated: 3 learners (4 people).')
    expect(button.disabled).to.equal(false)
    expect(m.root.querySelector('[part=not-opened-learner] .name')!.textContent).to.equal('Eli')
    expect(m.root.querySelector('[part=not-opened-learner]')!.textContent).to.contain('Not opened yet')
    expect(part.textContent).to.contain('Roster from the LMS, updated just now')
    expect(m.root.querySelector('[role=alert]')).to.equal(null)
    await expect(m.el).to.be.accessible()
  })

  it('says why the roster could not be pulled, in the server’s words', async () => {
    const refusal = 'The LMS did not give the course roster (HTTP 500: server_error).'
    const m = await mount(CLASS, undefined, {
      roster: { available: true, pulledAt: ago(120) },
      pull: () => Response.json({ error: { code: 'lti_service_unavailable', message: refusal } }, { status: 503 }),
    })
    server = m.server
    const part = m.root.querySelector('[part=roster]')!
    expect(part.textContent).to.contain('Roster from the LMS, updated 2 hours ago')
    part.querySelector('button')!.click()
    await waitFor(() => Boolean(m.root.querySelector('[part=error][role=alert]')), 4000, 'the refusal shown')
    expect(m.root.querySelector('[part=error][role=alert]')!.textContent).to.equal(refusal)
    expect(part.querySelector('[role=status]')!.textContent).to.equal('')
    expect(part.querySelector('button')!.disabled).to.equal(false)
    await expect(m.el).to.be.accessible()
  })
})
