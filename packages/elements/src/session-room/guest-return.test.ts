import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import type { SessionRoom } from './session-room.js'
import { createSession, freshSid, live, shadowText, testServer, token, waitFor } from '../test-support/room.js'

/** An invitation to `sid` from Ada, as the link in the invitee's mail carries it. */
async function invite(sid: string, email: string): Promise<string> {
  const { url } = await testServer()
  const ins = await token(sid, 'instructor', 'ins', 'Ada')
  const res = await fetch(`${url}/v1/sessions/${sid}/invitations`, { method: 'POST', headers: { authorization: `Bearer ${ins}`, 'content-type': 'application/json' }, body: JSON.stringify({ email, role: 'learner' }) })
  return new URL(((await res.json()) as { link: string }).link).searchParams.get('invite')!
}

describe('<session-room> for a guest who accepted an invitation', () => {
  const page = location.href
  afterEach(() => history.replaceState(history.state, '', page))

  it('comes back to the room after a reload, from the token kept on this device', async () => {
    const sid = freshSid('guest-back')
    await createSession(sid, { 'main.js': 'hello()' })
    const { url } = await testServer()
    // The invitation page as the server serves it: a room without a session, the link's ?invite= in the address.
    history.replaceState(history.state, '', `${page.split('?')[0]}?invite=${await invite(sid, 'back@example.edu')}`)
    const room = await fixture<SessionRoom>(html`<session-room server=${url}><session-editor></session-editor></session-room>`)
    await waitFor(() => room.shadowRoot!.querySelector('form') !== null, 6000, 'the accept card')
    ;(room.shadowRoot!.querySelector('input[name=name]') as HTMLInputElement).value = 'Returning Guest'
    room.shadowRoot!.querySelector('form')!.requestSubmit()
    await waitFor(() => room.status === 'live', 8000, 'joined')
    expect(location.search, 'the invitation is gone from the address').not.to.contain('invite=')
    room.remove()

    // Reloaded: the same page, now without ?invite=.
    const again = await fixture<SessionRoom>(html`<session-room server=${url}><session-editor></session-editor></session-room>`)
    await waitFor(() => again.status === 'live' || again.status === 'error', 8000, 'the room after a reload')
    expect(again.error, 'no error after a reload').to.equal(null)
    expect(again.participant?.name).to.equal('Returning Guest')
    expect(again.participant?.role).to.equal('learner')
    expect(again.session).to.equal(sid)
    expect(await live(again.querySelector('session-editor')!)).to.be.ok
    again.remove()

    // A course page that names the session but has no token for a guest: the same.
    const course = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid}></session-room>`)
    await waitFor(() => course.status === 'live' || course.status === 'error', 8000, 'the course page room')
    expect(course.participant?.name).to.equal('Returning Guest')
  })

  it('an expired kept token is not used: the room says so clearly and forgets it', async () => {
    const sid = freshSid('guest-expired')
    await createSession(sid)
    const { url } = await testServer()
    const key = `session-kit:guest:${url}|${sid}`
    localStorage.setItem(key, await token(sid, 'learner', 'guest-x', 'Old Guest', '1s'))
    localStorage.setItem(`session-kit:guest-last:${url}`, sid)
    await new Promise((r) => setTimeout(r, 1500))
    const sockets: string[] = []
    const Native = window.WebSocket
    window.WebSocket = class extends Native {
      constructor(u: string | URL, p?: string | string[]) {
        super(u, p)
        sockets.push(String(u))
      }
    } as typeof WebSocket
    try {
      const room = await fixture<SessionRoom>(html`<session-room server=${url}><session-editor></session-editor></session-room>`)
      await waitFor(() => room.status === 'error', 6000, 'an error')
      expect(room.error?.code).to.equal('token_expired')
      expect(shadowText(room, '[part=error]')).to.match(/expired.*new invitation/)
      expect(sockets, 'the expired token was not sent').to.deep.equal([])
      expect(localStorage.getItem(key), 'the expired token is forgotten').to.equal(null)
      await expect(room).to.be.accessible()
    } finally {
      window.WebSocket = Native
    }
  })

  it('a room with no token and nothing kept says so to the person', async () => {
    const { url } = await testServer()
    const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${freshSid('nobody')}></session-room>`)
    await waitFor(() => room.status === 'error', 6000, 'an error')
    expect(room.error?.code).to.equal('token_missing')
    expect(shadowText(room, '[part=error]')).to.contain('invitation link')
  })

  it('a token the page sets after the room said it had none joins the room (an LMS launch page sets it once its script runs)', async () => {
    const sid = freshSid('late-token')
    await createSession(sid, { 'main.js': 'late()' })
    const { url } = await testServer()
    const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid}><session-editor></session-editor></session-room>`)
    await waitFor(() => room.status === 'error', 6000, 'the missing token said')
    expect(room.error?.code).to.equal('token_missing')
    room.tokenProvider = () => token(sid, 'learner', 'late', 'Late Comer')
    room.token = await token(sid, 'learner', 'late', 'Late Comer')
    await waitFor(() => room.status === 'live', 8000, 'joined with the late token')
    expect(room.error).to.equal(null)
    expect(room.participant?.name).to.equal('Late Comer')
    expect(await live(room.querySelector('session-editor')!)).to.be.ok
  })
})
