import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-moderation.js'
import '../define/session-participants.js'
import type { SessionRoom } from '../session-room/session-room.js'
import { createSession, freshSid, mountRoom, testServer, token, waitFor } from '../test-support/room.js'

async function panel(sid: string, role: 'instructor' | 'learner' | 'observer', user: string, name: string, tag: 'session-moderation' | 'session-participants') {
  const { url } = await testServer()
  const tok = await token(sid, role, user, name)
  const room = await fixture<SessionRoom>(
    tag === 'session-moderation'
      ? html`<session-room server=${url} session=${sid} token=${tok}><session-moderation show-denied></session-moderation></session-room>`
      : html`<session-room server=${url} session=${sid} token=${tok}><session-participants></session-participants></session-room>`,
  )
  const el = room.querySelector(tag)!
  await waitFor(() => room.status === 'live', 6000, 'live')
  return { room, el, root: el.shadowRoot! }
}

const person = (root: ShadowRoot, name: string) => [...root.querySelectorAll('[part=participant]')].find((p) => p.querySelector('.name')!.textContent!.startsWith(name)) as HTMLElement | undefined
// A button a person can press: while an action on someone is on its way, their buttons are
// disabled even if the room already shows its outcome.
const button = (scope: ParentNode, label: RegExp) => [...scope.querySelectorAll('button')].find((b) => !b.disabled && label.test(b.textContent!.trim())) as HTMLButtonElement

describe('<session-moderation> and <session-participants>', () => {
  it('lists people with presence and statistics, and instructors mute, change roles and remove', async () => {
    const sid = freshSid('mod')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const learner = await mountRoom(sid, 'learner', 'lea', { name: 'Grace' })
    await waitFor(() => learner.room.status === 'live')
    const mod = await panel(sid, 'instructor', 'ins', 'Ada', 'session-moderation')
    await waitFor(() => person(mod.root, 'Grace') !== undefined, 6000, 'Grace listed')
    expect(mod.root.querySelector('[part=stats]')!.textContent!.replace(/\s+/g, ' ')).to.contain('2 of 2 online')
    expect(person(mod.root, 'Ada')!.textContent).to.contain('Owner — cannot be muted or removed')
    await expect(mod.el).to.be.accessible()

    button(person(mod.root, 'Grace')!, /^Mute/).click()
    await waitFor(() => learner.room.participant?.muted === true, 6000, 'Grace muted at once')
    await waitFor(() => (learner.room.shadowRoot!.querySelector('[role=status]')!.textContent ?? '').includes('You were muted by Ada'), 6000, 'Grace is told why')
    await waitFor(() => person(mod.root, 'Grace')?.textContent?.includes('muted') ?? false, 6000, 'the list shows muted')

    const select = person(mod.root, 'Grace')!.querySelector('select')!
    select.value = 'observer'
    select.dispatchEvent(new Event('change'))
    await waitFor(() => learner.room.participant?.role === 'observer', 6000, 'Grace is an observer now')
    await waitFor(() => person(mod.root, 'Grace')?.querySelector('.badge')?.textContent === 'observer', 6000, 'the list shows the new role')

    button(person(mod.root, 'Grace')!, /^Remove/).click()
    await waitFor(() => button(person(mod.root, 'Grace')!, /^Remove$/) !== undefined, 4000, 'the confirmation')
    button(person(mod.root, 'Grace')!, /^Remove$/).click()
    await waitFor(() => learner.room.status === 'error', 10000, 'Grace removed')
    expect(learner.room.error?.message).to.contain('removed from this session by Ada')
    await waitFor(() => button(person(mod.root, 'Grace')!, /^Unban/) !== undefined, 6000, 'unban offered')
  })

  it('says what Mute and Hide do before they are pressed, and the muted learner’s editor says what it means', async () => {
    const sid = freshSid('mod-explain')
    await createSession(sid, { 'main.js': 'let x = 1\n' }, 'ins')
    const learner = await mountRoom(sid, 'learner', 'lea', { name: 'Grace' })
    await waitFor(() => learner.room.status === 'live')
    const mod = await panel(sid, 'instructor', 'ins', 'Ada', 'session-moderation')
    await waitFor(() => person(mod.root, 'Grace') !== undefined, 6000, 'Grace listed')
    // Each button is described by a sentence shown above the list.
    const described = (b: HTMLButtonElement) => mod.root.getElementById(b.getAttribute('aria-describedby') ?? '')?.textContent ?? ''
    const mute = button(person(mod.root, 'Grace')!, /^Mute/)
    const hide = button(person(mod.root, 'Grace')!, /^Hide/)
    expect(described(mute)).to.match(/cannot type in the code, run it or post in the chat/)
    expect(described(hide)).to.match(/learners and observers stop seeing them/)
    expect(described(hide)).to.match(/instructors still see them/)
    expect(described(button(mod.root, /^Mute all$/))).to.match(/cannot type in the code/)
    expect(mute.title).to.contain('Grace')
    expect(mod.root.querySelector('[part=help]')!.checkVisibility()).to.equal(true)
    // Muted, the learner reads why beside the code, not only on a badge.
    const banner = () => learner.editor.shadowRoot!.querySelector('[part=banner]')?.textContent ?? ''
    expect(banner()).to.equal('')
    mute.click()
    await waitFor(() => banner().includes('The instructor muted you: you can read the code but not edit or run it'), 6000, 'the editor says what mute means')
    await waitFor(() => button(person(mod.root, 'Grace')!, /^Unmute/) !== undefined, 6000, 'Unmute offered')
    button(person(mod.root, 'Grace')!, /^Unmute/).click()
    await waitFor(() => learner.room.participant?.muted === false && banner() === '', 6000, 'unmuted, the banner goes')
    await expect(mod.el).to.be.accessible()
  })

  it('a co-teacher moderates learners but leaves instructors to the owner', async () => {
    const sid = freshSid('mod-co')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const other = await mountRoom(sid, 'instructor', 'ins3', { name: 'Barbara' })
    const learner = await mountRoom(sid, 'learner', 'lea', { name: 'Grace' })
    await waitFor(() => other.room.status === 'live' && learner.room.status === 'live')
    const owner = await panel(sid, 'instructor', 'ins', 'Ada', 'session-moderation')
    const co = await panel(sid, 'instructor', 'ins2', 'Edsger', 'session-moderation')
    await waitFor(() => person(co.root, 'Barbara') !== undefined && person(co.root, 'Grace') !== undefined, 6000, 'everyone listed')
    // Another instructor: no controls, and why.
    expect(person(co.root, 'Barbara')!.textContent).to.contain('only the session owner can change this')
    expect(person(co.root, 'Barbara')!.querySelectorAll('button:not([part~=spotlight-button]), select').length).to.equal(0)
    // A learner: every control, but making them an instructor is the owner's.
    const options = [...person(co.root, 'Grace')!.querySelectorAll('option')].map((o) => o.value)
    expect(options).to.deep.equal(['learner', 'observer'])
    expect(button(person(co.root, 'Grace')!, /^Mute/)).to.not.equal(undefined)
    // The owner has them all, on instructors too.
    await waitFor(() => person(owner.root, 'Barbara') !== undefined, 6000, 'the owner sees Barbara')
    expect(button(person(owner.root, 'Barbara')!, /^Mute/)).to.not.equal(undefined)
    expect([...person(owner.root, 'Grace')!.querySelectorAll('option')].map((o) => o.value)).to.deep.equal(['instructor', 'learner', 'observer'])
    await expect(co.el).to.be.accessible()
  })

  it('shows learners the list without controls, and explains moderation is for instructors', async () => {
    const sid = freshSid('mod-learner')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const list = await panel(sid, 'learner', 'lea', 'Grace', 'session-participants')
    await waitFor(() => person(list.root, 'Grace') !== undefined, 6000, 'listed')
    expect(list.root.querySelectorAll('button').length).to.equal(0)
    await expect(list.el).to.be.accessible()
    const denied = await panel(sid, 'observer', 'obs', 'Linus', 'session-moderation')
    expect(denied.root.querySelector('[part=denied]')!.textContent).to.contain('Only instructors can moderate')
    await expect(denied.el).to.be.accessible()
  })
})
