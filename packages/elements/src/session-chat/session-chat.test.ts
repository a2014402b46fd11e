import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-chat.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionChat } from './session-chat.js'
import { api, createSession, freshSid, testServer, token, waitFor } from '../test-support/room.js'

async function chatAs(sid: string, role: 'instructor' | 'learner' | 'observer', user: string, name = user) {
  const { url } = await testServer()
  const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, role, user, name)}><session-chat></session-chat></session-room>`)
  const chat = room.querySelector('session-chat') as SessionChat
  await waitFor(() => room.status === 'live' && !chat.shadowRoot!.textContent!.includes('Loading the chat'), 6000, `${role} chat ready`)
  return { room, chat, root: chat.shadowRoot! }
}

function send(root: ShadowRoot, text: string) {
  const box = root.querySelector('textarea')!
  box.value = text
  box.dispatchEvent(new Event('input'))
  box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
}

describe('<session-chat>', () => {
  it('shows markup as text and makes links safe', async () => {
    const sid = freshSid('chat')
    await createSession(sid)
    const a = await chatAs(sid, 'learner', 'lea', 'Grace')
    const b = await chatAs(sid, 'instructor', 'ins', 'Ada')
    ;(window as unknown as { pwned?: boolean }).pwned = false
    send(a.root, '<img src=x onerror="window.pwned=true"> read https://example.edu/notes. javascript:alert(1)')
    await waitFor(() => b.root.querySelectorAll('[part=message]').length === 1, 6000, 'the message arrives')
    const text = b.root.querySelector('.text')!
    expect(text.textContent).to.equal('<img src=x onerror="window.pwned=true"> read https://example.edu/notes. javascript:alert(1)')
    expect(text.querySelector('img')).to.equal(null)
    const links = [...text.querySelectorAll('a')]
    expect(links.map((l) => l.getAttribute('href'))).to.deep.equal(['https://example.edu/notes'])
    expect(links[0]!.rel).to.contain('noopener')
    await new Promise((r) => setTimeout(r, 50))
    expect((window as unknown as { pwned?: boolean }).pwned).to.equal(false)
    await expect(b.chat).to.be.accessible()
  })

  it('is read-only with the reason for observers and muted learners; instructors delete for everyone', async () => {
    const sid = freshSid('chat-roles')
    await createSession(sid)
    const obs = await chatAs(sid, 'observer', 'obs')
    expect(obs.root.querySelector('textarea')).to.equal(null)
    expect(obs.root.querySelector('[part=notice]')!.textContent).to.contain('Observers can read the chat but not post')
    await expect(obs.chat).to.be.accessible()
    const lea = await chatAs(sid, 'learner', 'lea', 'Grace')
    send(lea.root, 'first!')
    const ins = await chatAs(sid, 'instructor', 'ins', 'Ada')
    await waitFor(() => ins.root.querySelectorAll('[part=message]').length === 1, 6000, 'history loads')
    ;(ins.root.querySelector('.delete') as HTMLButtonElement).click()
    await waitFor(() => lea.root.querySelectorAll('[part=message]').length === 0, 6000, 'deleted for the learner too')
    await api('POST', `/v1/sessions/${sid}/participants/lea/mute`, await token(sid, 'instructor', 'ins', 'Ada'))
    await waitFor(() => (lea.root.querySelector('[part=notice]')?.textContent ?? '').includes('muted'), 6000, 'muted notice')
    expect(lea.root.querySelector('textarea')).to.equal(null)
  })

  it('a learner typing when muted keeps their place: on the reason, then back in the box with the draft', async () => {
    const sid = freshSid('chat-mute-focus')
    await createSession(sid)
    const lea = await chatAs(sid, 'learner', 'lea', 'Grace')
    const box = lea.root.querySelector('textarea')!
    box.focus()
    box.value = 'half a thou'
    box.dispatchEvent(new Event('input'))
    const instructor = await token(sid, 'instructor', 'ins', 'Ada')
    await api('POST', `/v1/sessions/${sid}/participants/lea/mute`, instructor)
    await waitFor(() => lea.root.querySelector('textarea') === null, 6000, 'muted')
    expect(lea.root.activeElement?.textContent).to.contain('muted')
    await api('POST', `/v1/sessions/${sid}/participants/lea/unmute`, instructor)
    await waitFor(() => lea.root.querySelector('textarea') !== null, 6000, 'unmuted')
    expect(lea.root.activeElement).to.equal(lea.root.querySelector('textarea'))
    expect(lea.root.querySelector('textarea')!.value).to.equal('half a thou')
  })

  it('tells a fast typist to slow down instead of disconnecting', async () => {
    const sid = freshSid('chat-rate')
    await createSession(sid)
    const lea = await chatAs(sid, 'learner', 'lea')
    for (let i = 0; i < 8; i++) send(lea.root, `msg ${i}`)
    await waitFor(() => (lea.root.querySelector('[part=notice][role=alert]')?.textContent ?? '').includes('too fast'), 6000, 'rate limit notice')
    expect(lea.room.status).to.equal('live')
  })
})
