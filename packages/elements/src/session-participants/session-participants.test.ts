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
})
