import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import { NO_LECTURE, type LectureState, type RaisedHand } from '@session-kit/core'
import '../define/session-room.js'
import '../define/session-editor.js'
import '../define/session-runner.js'
import type { SessionRoom } from './session-room.js'
import { news } from './lecture.js'
import { excerpt } from './spotlight-pane.js'
import { FakeRoomServer, fakeToken, person } from '../test-support/fake-socket.js'
import { waitFor } from '../test-support/room.js'

const hand = (userId: string, question = '', raisedAt = new Date().toISOString()): RaisedHand => ({ userId, name: userId[0]!.toUpperCase() + userId.slice(1), question, raisedAt })
const shadow = (room: SessionRoom) => room.shadowRoot!
const text = (room: SessionRoom, selector: string) => shadow(room).querySelector(selector)?.textContent?.replace(/\s+/g, ' ').trim() ?? ''
const announced = (room: SessionRoom) => text(room, '[role=status][aria-live=polite]')

/** A room showing code (lecture mode is for those), with `slot` beside its editor. */
async function mount(server: FakeRoomServer, slot = html``) {
  const room = await fixture<SessionRoom>(html`<session-room server="http://127.0.0.1:1" session="fake" token=${fakeToken(server.me.userId, server.me.role)}><session-editor file="main.py"></session-editor>${slot}</session-room>`)
  await waitFor(() => room.status === 'live' && shadow(room).querySelector('[part~=lecture]') !== null, 5000, 'the lecture controls')
  return room
}

describe('lecture mode in <session-room> (a page-side server)', () => {
  let server: FakeRoomServer
  afterEach(() => server?.restore())

  it('is not loaded in a room that shows no code (a page of invitations or analytics)', async () => {
    server = new FakeRoomServer(person('grace', 'learner'))
    const room = await fixture<SessionRoom>(html`<session-room server="http://127.0.0.1:1" session="fake" token=${fakeToken('grace', 'learner')}><p>Invitations</p></session-room>`)
    await waitFor(() => room.status === 'live', 5000, 'the room live')
    await new Promise((r) => setTimeout(r, 300))
    expect(shadow(room).querySelector('[part~=lecture]')).to.equal(null)
    const runner = document.createElement('session-runner')
    room.append(runner)
    await waitFor(() => shadow(room).querySelector('[part~=lecture]') !== null, 5000, 'the lecture controls once code is shown')
  })

  it('says each change once, to those it concerns', () => {
    const before: LectureState = { ...NO_LECTURE, hands: [hand('me')], handCount: 1 }
    expect(news({ kind: 'follow-started', userId: 'ada', name: 'Ada' }, 'me', false, NO_LECTURE)).to.equal('You are following Ada.')
    expect(news({ kind: 'follow-started', userId: 'me', name: 'Me' }, 'me', true, NO_LECTURE)).to.equal('Everyone is following you.')
    expect(news({ kind: 'hand-raised', userId: 'grace', name: 'Grace' }, 'ada', true, NO_LECTURE)).to.equal('Grace raised a hand.')
    expect(news({ kind: 'hand-raised', userId: 'grace', name: 'Grace' }, 'lea', false, NO_LECTURE)).to.equal('')
    expect(news({ kind: 'hand-lowered', userId: 'me', name: 'Me', by: 'Ada' }, 'me', false, before)).to.equal('Ada lowered your hand.')
    expect(news({ kind: 'hands-cleared', by: 'Ada' }, 'me', false, before)).to.equal('All hands were lowered.')
    expect(news({ kind: 'hands-cleared', by: 'Ada' }, 'other', false, before)).to.equal('')
    expect(news({ kind: 'spotlight-started', userId: 'grace', name: 'Grace' }, 'me', false, NO_LECTURE)).to.equal('Spotlight on Grace.')
  })

  it('cuts a few lines around a cursor, with its line and column', () => {
    const code = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n')
    const at = code.indexOf('line 12') + 3
    const e = excerpt('main.py', code, at)
    expect([e.line, e.column, e.first, e.lines.length]).to.deep.equal([12, 3, 8, 9])
    expect(e.lines[4]).to.equal('line 12')
    expect(excerpt('main.py', 'a\nb', 99)).to.include({ line: 2, column: 1, first: 1 })
  })

  it('lets a learner raise a hand with a question, then lower it, and says when the server holds them back', async () => {
    server = new FakeRoomServer(person('lea', 'learner'))
    const room = await mount(server)
    const button = () => shadow(room).querySelector<HTMLButtonElement>('[part~=hand-button]')
    expect(button()!.textContent!.trim()).to.equal('Raise hand')
    expect(text(room, '[part~=hand-count]'), 'learners see no count').to.equal('')
    button()!.click()
    await room.updateComplete
    const input = shadow(room).querySelector<HTMLInputElement>('.hand-form input')!
    await waitFor(() => shadow(room).activeElement === input, 2000, 'the question focused')
    expect(input.maxLength).to.equal(280)
    input.value = '  Why does range stop early?  '
    input.dispatchEvent(new Event('input'))
    shadow(room).querySelector<HTMLFormElement>('.hand-form')!.requestSubmit()
    expect(server.sent.at(-1)).to.deep.equal({ type: 'hand', raised: true, question: 'Why does range stop early?' })

    server.push({ type: 'lecture', lecture: { ...NO_LECTURE, hands: [hand('lea', 'Why does range stop early?')], handCount: 1 }, change: { kind: 'hand-raised', userId: 'lea', name: 'Lea' } })
    await waitFor(() => button()?.textContent!.trim() === 'Lower hand', 2000, '"Lower hand"')
    expect(announced(room)).to.equal('Your hand is raised.')
    await expect(room).to.be.accessible()
    button()!.click()
    expect(server.sent.at(-1)).to.deep.equal({ type: 'hand', raised: false })

    server.push({ type: 'rate_limited', what: 'hand', retryAfterMs: 9000, message: 'You raised your hand too often; try again in 9 s.' })
    await waitFor(() => text(room, '[part~=lecture-message]') !== '', 2000, 'the rate-limit message')
    expect(text(room, '[part~=lecture-message]')).to.equal('Too many hand changes: try again in 9 seconds.')
  })

  it('gives instructors "Follow me" and the count of raised hands', async () => {
    server = new FakeRoomServer(person('ada', 'instructor'), undefined, { ...NO_LECTURE, hands: [hand('grace'), hand('lea')], handCount: 2 })
    const room = await mount(server)
    expect(text(room, '[part~=hand-count]')).to.equal('2 hands raised')
    expect(shadow(room).querySelector('[part~=hand-button]'), 'instructors lead, they do not queue').to.equal(null)
    const follow = shadow(room).querySelector<HTMLButtonElement>('[part~=follow-button]')!
    expect(follow.getAttribute('aria-pressed')).to.equal('false')
    follow.click()
    expect(server.sent.at(-1)).to.deep.equal({ type: 'follow', on: true })
    server.push({ type: 'lecture', lecture: { ...NO_LECTURE, follow: { userId: 'ada', name: 'Ada', since: new Date().toISOString() }, hands: [], handCount: 0 }, change: { kind: 'follow-started', userId: 'ada', name: 'Ada' } })
    await waitFor(() => follow.getAttribute('aria-pressed') === 'true', 2000, 'Follow me pressed')
    expect(text(room, '[part~=hand-count]')).to.equal('No hands raised')
    expect(announced(room)).to.equal('Everyone is following you.')
    await expect(room).to.be.accessible()
  })

  it('shows everyone a spotlight pane that follows the participant as they type, and lets an instructor end it', async () => {
    const code = Array.from({ length: 20 }, (_, i) => `x${i + 1} = ${i + 1}`).join('\n')
    const at = code.indexOf('x12') + 2
    server = new FakeRoomServer(person('ada', 'instructor'), { 'main.py': code }, NO_LECTURE, [person('grace', 'learner', { cursor: { file: 'main.py', anchor: at, head: at } })])
    const room = await mount(server, html`<p>Your own work</p>`)
    server.push({ type: 'lecture', lecture: { ...NO_LECTURE, spotlight: { userId: 'grace', name: 'Grace', by: 'Ada', at: new Date().toISOString() } }, change: { kind: 'spotlight-started', userId: 'grace', name: 'Grace' } })
    await waitFor(() => text(room, '[part~=spotlight] h2').includes('line'), 5000, 'the spotlight title')
    expect(text(room, '[part~=spotlight] h2')).to.equal("Spotlight: Grace's code — main.py line 12")
    expect(text(room, '.line.here')).to.equal("12x1(Grace's cursor)2 = 12")
    expect(announced(room)).to.equal('Spotlight on Grace.')
    await expect(room).to.be.accessible()

    // Grace types on line 3: the pane moves with her.
    const line3 = code.indexOf('x3')
    server.push({ type: 'splices', heads: [], splices: [{ file: 'main.py', index: line3, delete: 0, insert: 'y = 0\n' }] })
    server.push({ type: 'presence', participant: person('grace', 'learner', { cursor: { file: 'main.py', anchor: line3 + 5, head: line3 + 5 } }) })
    await waitFor(() => text(room, '[part~=spotlight] h2').endsWith('line 3'), 3000, 'the pane on line 3')
    expect(text(room, '.line.here')).to.contain('y = 0')

    shadow(room).querySelector<HTMLButtonElement>('[part~=end-spotlight]')!.click()
    expect(server.sent.at(-1)).to.deep.equal({ type: 'spotlight', userId: null })
    server.push({ type: 'lecture', lecture: NO_LECTURE, change: { kind: 'spotlight-stopped', userId: 'grace', name: 'Grace' } })
    await waitFor(() => shadow(room).querySelector('[part~=spotlight]') === null, 2000, 'the pane gone')
    expect(announced(room)).to.equal('Spotlight ended.')
  })
})
