import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-participants.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionParticipants } from './session-participants.js'
import { api, createSession, freshSid, live, mountRoom, testServer, token, waitFor } from '../test-support/room.js'

/** Requests for the participant list made since the last `clearResourceTimings()`. */
const listFetches = () => performance.getEntriesByType('resource').filter((e) => /\/participants(\?|$)/.test(new URL(e.name).pathname + new URL(e.name).search)).length

async function listAs(sid: string, role: 'instructor' | 'learner' | 'observer', user: string, name: string) {
  const { url } = await testServer()
  const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, role, user, name)}><session-participants></session-participants></session-room>`)
  const list = room.querySelector('session-participants') as SessionParticipants
  await waitFor(() => room.status === 'live' && list.shadowRoot!.querySelector('[part=list]') !== null, 8000, `${role}'s list`)
  return { room, list }
}

/** The list as a person reads it: "name: status" per row. */
function rows(list: SessionParticipants): string[] {
  return [...list.shadowRoot!.querySelectorAll('[part=participant]')].map((li) => `${li.querySelector('.name')!.textContent!.trim()}: ${li.querySelector('.meta')!.textContent!.trim()}${li.textContent!.includes('muted') ? ' (muted)' : ''}`)
}

describe('<session-participants>', () => {
  before(() => performance.setResourceTimingBufferSize(10_000))

  it('follows the room from the socket: a moving cursor, a join, a mute and a leave fetch nothing', async () => {
    const sid = freshSid('people')
    await createSession(sid, { 'main.js': 'hello world\n'.repeat(20) })
    const { list } = await listAs(sid, 'instructor', 'ins', 'Ada')
    const grace = await mountRoom(sid, 'learner', 'grace', { name: 'Grace' })
    const view = await live(grace.editor)
    await waitFor(() => rows(list).includes('Grace: online now'), 6000, 'Grace online')
    await new Promise((r) => setTimeout(r, 400))
    performance.clearResourceTimings()

    // Grace's cursor moves for two seconds, in bursts with pauses as a person's do.
    view.focus()
    const moved = new Set<string>()
    const watcher = (list.closest('session-room') as SessionRoom).client!
    for (let t0 = performance.now(), i = 0; performance.now() - t0 < 2000; i++) {
      view.dispatch({ selection: { anchor: (i * 7) % view.state.doc.length } })
      await new Promise((r) => setTimeout(r, i % 5 === 4 ? 320 : 40))
      const c = watcher.participants.get('grace')?.cursor
      if (c) moved.add(JSON.stringify(c))
    }
    await new Promise((r) => setTimeout(r, 400))
    expect(moved.size, 'the cursor moves reached the list’s room').to.be.greaterThan(3)
    expect(listFetches(), 'requests for the list while a cursor moved').to.equal(0)

    // Someone joins, is muted, and Grace leaves: all from the socket.
    const linus = await mountRoom(sid, 'observer', 'linus', { name: 'Linus' })
    await waitFor(() => rows(list).includes('Linus: online now'), 6000, 'Linus joined')
    await api('POST', `/v1/sessions/${sid}/participants/grace/mute`, await token(sid, 'instructor', 'ins', 'Ada'))
    await waitFor(() => rows(list).includes('Grace: online now (muted)'), 6000, 'Grace muted')
    grace.room.remove()
    await waitFor(() => rows(list).some((r) => r.startsWith('Grace: last seen')), 6000, 'Grace left')
    expect(rows(list)[0]).to.equal('Ada (you): online now')
    expect(listFetches(), 'requests for the list').to.equal(0)
    expect(list.shadowRoot!.querySelector('[part=stats]')!.textContent!.replace(/\s+/g, ' ')).to.contain('2 of 3 online')
    linus.room.remove()
    await expect(list).to.be.accessible()
  })

  it('lists everyone who joined, for a learner too, with loading and not-in-a-room states', async () => {
    const sid = freshSid('people-learner')
    await createSession(sid)
    const early = await fixture<SessionParticipants>(html`<session-participants></session-participants>`)
    await new Promise((r) => setTimeout(r, 50))
    expect(early.shadowRoot!.textContent).to.contain('Not in a room')
    const { list } = await listAs(sid, 'learner', 'lea', 'Lea')
    expect(rows(list)).to.deep.equal(['Lea (you): online now'])
    await expect(list).to.be.accessible()
  })

  it('counts who is online, each role and the muted in its statistics, and lists who never came', async () => {
    const sid = freshSid('people-stats')
    await createSession(sid)
    const ins = await token(sid, 'instructor', 'ins', 'Ada')
    const { list } = await listAs(sid, 'instructor', 'ins', 'Ada')
    const grace = await mountRoom(sid, 'learner', 'grace', { name: 'Grace' })
    const linus = await mountRoom(sid, 'observer', 'linus', { name: 'Linus' })
    await waitFor(() => rows(list).includes('Grace: online now') && rows(list).includes('Linus: online now'), 6000, 'both online')
    await api('POST', `/v1/sessions/${sid}/participants/grace/mute`, ins)
    const stats = () => list.shadowRoot!.querySelector('[part=stats]')!.textContent!.replace(/\s+/g, ' ')
    await waitFor(() => stats().includes('1 muted'), 6000, 'the mute counted')
    expect(stats()).to.contain('3 of 3 online')
    expect(stats()).to.contain('1 instructor')
    expect(stats()).to.contain('1 learner')
    expect(stats()).to.contain('1 observer')
    // Online first, then by role: instructor, learner, observer.
    expect(rows(list)).to.deep.equal(['Ada (you): online now', 'Grace: online now (muted)', 'Linus: online now'])
    expect([...list.shadowRoot!.querySelectorAll('[part=badge]')].map((b) => b.textContent)).to.deep.equal(['instructor', 'learner', 'observer'])
    linus.room.remove()
    await waitFor(() => stats().includes('2 of 3 online'), 6000, 'Linus gone')
    expect(rows(list).at(-1)).to.match(/^Linus: last seen/)
    grace.room.remove()
  })

  it('shows instructors a hidden participant, flagged, and learners and observers not at all; nobody gets moderation controls', async () => {
    const sid = freshSid('people-hidden')
    await createSession(sid)
    const ins = await token(sid, 'instructor', 'ins', 'Ada')
    const grace = await mountRoom(sid, 'learner', 'grace', { name: 'Grace' })
    await waitFor(() => grace.room.status === 'live', 6000, 'Grace live')
    const res = await api('PATCH', `/v1/sessions/${sid}/participants/grace`, ins, { hidden: true })
    expect(res.status).to.equal(200)
    const teacher = await listAs(sid, 'instructor', 'ins', 'Ada')
    const learner = await listAs(sid, 'learner', 'lea', 'Lea')
    const observer = await listAs(sid, 'observer', 'obs', 'Otto')
    await waitFor(() => rows(teacher.list).some((r) => r.startsWith('Grace')), 6000, 'the instructor sees Grace')
    const graceRow = [...teacher.list.shadowRoot!.querySelectorAll('[part=participant]')].find((li) => li.textContent!.includes('Grace'))!
    expect([...graceRow.querySelectorAll('.flag')].map((f) => f.textContent)).to.include('hidden')
    await waitFor(() => rows(learner.list).some((r) => r.startsWith('Otto')), 6000, 'the learner sees the observer join')
    for (const { list } of [learner, observer]) {
      expect(rows(list).some((r) => r.startsWith('Grace')), 'Grace is hidden').to.equal(false)
      expect(list.shadowRoot!.querySelectorAll('button, select').length).to.equal(0)
      await expect(list).to.be.accessible()
    }
    // Instructors may spotlight and lower hands (lecture mode); moderation is <session-moderation>'s.
    expect(teacher.list.shadowRoot!.querySelectorAll('[part~=participant] button:not([part~=spotlight-button]), select').length).to.equal(0)
    await expect(teacher.list).to.be.accessible()
  })
})
