import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import type { SessionRoom } from './session-room.js'
import { api, createSession, freshSid, mountRoom, shadowText, testServer, token, waitFor } from '../test-support/room.js'

describe('<session-room>', () => {
  it('connects, shows who is here and the room is accessible, in each role', async () => {
    const sid = freshSid('room')
    await createSession(sid)
    for (const role of ['instructor', 'learner', 'observer'] as const) {
      const { room } = await mountRoom(sid, role, `${role}-1`, { name: `Pat ${role}` })
      await waitFor(() => room.status === 'live', 8000, `${role} live`)
      expect(room.participant?.role).to.equal(role)
      expect(shadowText(room, '[part=status-text]')).to.contain('Live')
      await waitFor(() => room.shadowRoot!.querySelectorAll('[part=avatar]').length >= 1, 4000, 'presence')
      await expect(room).to.be.accessible()
    }
  })

  it('fires session-status and exposes permissions by role', async () => {
    const sid = freshSid('perm')
    await createSession(sid)
    const { url } = await testServer()
    const tok = await token(sid, 'learner', 'lea')
    const statuses: string[] = []
    const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${tok} @session-status=${(e: Event & { status: string }) => statuses.push(e.status)}></session-room>`)
    await waitFor(() => room.status === 'live')
    expect(statuses).to.include('live')
    expect(room.can('EDIT_CODE' as never)).to.equal(true)
    expect(room.can('KICK_PARTICIPANT' as never)).to.equal(false)
    expect(room.sessionInfo?.id).to.equal(sid)
  })

  it('updates permissions live when an instructor locks editing, and says why', async () => {
    const sid = freshSid('lock')
    await createSession(sid)
    const { room } = await mountRoom(sid, 'learner', 'lea')
    await waitFor(() => room.status === 'live')
    let reason: string | null = null
    room.addEventListener('session-permissions-changed', (e) => (reason = e.reason))
    await api('POST', `/v1/sessions/${sid}/lock`, await token(sid, 'instructor', 'ins', 'Ada'))
    await waitFor(() => !room.permissions.includes('EDIT_CODE' as never), 5000, 'EDIT_CODE removed')
    await waitFor(() => reason !== null, 5000, 'a reason')
    expect(reason).to.contain('Editing locked by Ada')
    expect(room.shadowRoot!.querySelector('[role=status]')!.textContent).to.contain('Editing locked by Ada')
  })

  it('shows a clear error for a bad token and does not retry', async () => {
    const sid = freshSid('bad')
    await createSession(sid)
    const { url } = await testServer()
    const errors: string[] = []
    const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token="abc.def.ghi" @session-error=${(e: Event & { message: string }) => errors.push(e.message)}></session-room>`)
    await waitFor(() => room.status === 'error', 6000, 'error status')
    expect(shadowText(room, '[part=error]')).to.match(/token/i)
    expect(errors.length).to.be.greaterThan(0)
    await expect(room).to.be.accessible()
  })

  it('refuses a token for another session before connecting', async () => {
    const { url } = await testServer()
    const tok = await token('some-other-session', 'learner', 'x')
    const room = await fixture<SessionRoom>(html`<session-room server=${url} session="this-session" token=${tok}></session-room>`)
    await waitFor(() => room.status === 'error')
    expect(room.error?.message).to.contain('some-other-session')
  })

  it('waits when a learner arrives before the instructor opened the session', async () => {
    const sid = freshSid('early')
    const { room } = await mountRoom(sid, 'learner', 'early-bird')
    await waitFor(() => room.status === 'waiting', 6000, 'waiting')
    expect(shadowText(room, '[part=status-text]')).to.contain('Waiting for the instructor')
  })

  it('renews an expiring token through tokenProvider', async () => {
    const sid = freshSid('renew')
    await createSession(sid)
    const { url } = await testServer()
    let calls = 0
    const room = document.createElement('session-room') as SessionRoom
    room.server = url
    room.session = sid
    room.tokenProvider = async () => {
      calls++
      return token(sid, 'learner', 'renewer', 'Renewer', '30s')
    }
    document.body.append(room)
    await waitFor(() => room.status === 'live', 8000, 'live with a provided token')
    expect(calls).to.be.greaterThan(0)
    room.remove()
  })
})
