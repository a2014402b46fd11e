import { expect, fixture } from '@open-wc/testing'
import { sendMouse } from '@web/test-runner-commands'
import { html } from 'lit'
import '../define/session-invitations.js'
import '../define/session-editor.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionInvitations } from './session-invitations.js'
import { createSession, freshSid, live, testServer, token, waitFor } from '../test-support/room.js'

async function invitations(sid: string, role: 'instructor' | 'learner' | 'observer', user: string, showDenied = false) {
  const { url } = await testServer()
  const tok = await token(sid, role, user, 'Ada')
  const room = await fixture<SessionRoom>(
    showDenied
      ? html`<session-room server=${url} session=${sid} token=${tok}><session-invitations show-denied></session-invitations></session-room>`
      : html`<session-room server=${url} session=${sid} token=${tok}><session-invitations></session-invitations></session-room>`,
  )
  await waitFor(() => room.status === 'live', 6000, 'live')
  const el = room.querySelector('session-invitations') as SessionInvitations
  return { room, el, root: el.shadowRoot! }
}

function submit(root: ShadowRoot, emails: string, role = 'learner') {
  ;(root.querySelector('textarea[name=emails]') as HTMLTextAreaElement).value = emails
  ;(root.querySelector('select[name=role]') as HTMLSelectElement).value = role
  root.querySelector('form')!.requestSubmit()
}

const rows = (root: ShadowRoot) => [...root.querySelectorAll('[part=invitation]')] as HTMLElement[]
const buttonIn = (el: ParentNode, label: RegExp) => [...el.querySelectorAll('button')].find((b) => label.test(b.textContent!.trim())) as HTMLButtonElement | undefined

describe('<session-invitations>', () => {
  it('is for instructors: learners and observers see nothing, or an explanation with show-denied', async () => {
    const sid = freshSid('inv-roles')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const ins = await invitations(sid, 'instructor', 'ins')
    await waitFor(() => ins.root.textContent!.includes('No invitations yet'), 6000, 'empty state')
    expect(ins.root.querySelector('form')).to.not.equal(null)
    await expect(ins.el).to.be.accessible()
    const lea = await invitations(sid, 'learner', 'lea')
    expect(lea.root.children.length).to.equal(0)
    const obs = await invitations(sid, 'observer', 'obs', true)
    expect(obs.root.querySelector('[part=denied]')!.textContent).to.contain('Only instructors can invite')
    await expect(obs.el).to.be.accessible()
  })

  it('invites, copies the link, and revokes after a confirmation', async () => {
    const sid = freshSid('inv-flow')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const { el, root } = await invitations(sid, 'instructor', 'ins')
    await waitFor(() => root.textContent!.includes('No invitations yet'), 6000, 'loaded')
    submit(root, 'grace@example.edu')
    await waitFor(() => rows(root).length === 1, 6000, 'the invitation is listed')
    const row = rows(root)[0]!
    expect(row.textContent).to.contain('grace@example.edu')
    expect(row.querySelector('[part~=status]')!.textContent).to.equal('pending')
    expect(row.textContent).to.match(/expires in 3 days/)
    // Copy link: the Clipboard API …
    const copied: string[] = []
    const original = navigator.clipboard.writeText
    navigator.clipboard.writeText = async (text: string) => void copied.push(text)
    buttonIn(row, /^Copy link/)!.click()
    await waitFor(() => copied.length === 1, 3000, 'copied')
    expect(copied[0]).to.match(/[?&]invite=[\w-]{40,}/)
    // … or, where it is refused, the execCommand fallback.
    navigator.clipboard.writeText = async () => {
      throw new Error('denied')
    }
    let copyCommands = 0
    const onCopy = () => copyCommands++
    document.addEventListener('copy', onCopy, true)
    // A real click: copying by command needs the user's gesture.
    const box = buttonIn(rows(root)[0]!, /^Copy link/)!.getBoundingClientRect()
    await sendMouse({ type: 'click', position: [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)] })
    await waitFor(() => copyCommands === 1, 3000, 'the fallback ran a copy command')
    expect(root.querySelector('[role=status][aria-live]')!.textContent).to.contain('Link for grace@example.edu copied')
    document.removeEventListener('copy', onCopy, true)
    navigator.clipboard.writeText = original
    buttonIn(rows(root)[0]!, /^Revoke/)!.click()
    await el.updateComplete
    buttonIn(rows(root)[0]!, /^Revoke$/)!.click()
    await waitFor(() => rows(root)[0]?.querySelector('[part~=status]')?.textContent === 'revoked', 6000, 'revoked')
    await expect(el).to.be.accessible()
  })

  it('keeps the role and expiry for the next invitation, and an empty expiry means the default', async () => {
    const sid = freshSid('inv-again')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const { root } = await invitations(sid, 'instructor', 'ins')
    await waitFor(() => root.textContent!.includes('No invitations yet'), 6000, 'loaded')
    const hours = root.querySelector('input[name=hours]') as HTMLInputElement
    const emails = root.querySelector('textarea[name=emails]') as HTMLTextAreaElement
    expect(hours.value).to.equal('72')
    submit(root, 'first@example.edu', 'observer')
    await waitFor(() => rows(root).length === 1, 6000, 'the first invitation')
    expect(emails.value, 'the addresses are cleared').to.equal('')
    expect(hours.value, 'the expiry is kept').to.equal('72')
    expect((root.querySelector('select[name=role]') as HTMLSelectElement).value, 'the role is kept').to.equal('observer')
    submit(root, 'second@example.edu', 'observer')
    await waitFor(() => rows(root).length === 2, 6000, 'the second invitation')
    expect(root.querySelector('[role=alert]')).to.equal(null)
    // Emptied by hand, the field means the default (its placeholder says which).
    hours.value = ''
    expect(hours.placeholder).to.equal('72')
    submit(root, 'third@example.edu')
    await waitFor(() => rows(root).length === 3, 6000, 'the third invitation')
    expect(root.querySelector('[role=alert]')).to.equal(null)
    expect(rows(root).find((r) => r.textContent!.includes('third@example.edu'))!.textContent).to.match(/expires in 3 days/)
    // A number out of range is still refused, with the range.
    hours.value = '1000'
    submit(root, 'fourth@example.edu')
    await waitFor(() => root.querySelector('[role=alert]') !== null, 4000, 'refused')
    expect(root.querySelector('[role=alert]')!.textContent).to.contain('between 1 and 720 hours')
  })

  it('reports each pasted address and updates live when an invitee accepts', async () => {
    const sid = freshSid('inv-bulk')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const { root } = await invitations(sid, 'instructor', 'ins')
    await waitFor(() => root.textContent!.includes('No invitations yet'), 6000, 'loaded')
    submit(root, 'a@example.edu, not-an-address\nb@example.edu', 'observer')
    await waitFor(() => root.querySelectorAll('[part=results] li').length === 3, 6000, 'results')
    expect([...root.querySelectorAll('[part=results] li')].map((l) => l.textContent)).to.deep.equal(['a@example.edu: invited', 'not-an-address: not a valid address', 'b@example.edu: invited'])
    await waitFor(() => rows(root).length === 2, 6000, 'two invitations')
    // The invitee accepts from elsewhere (their link is the one copied here).
    const copied: string[] = []
    navigator.clipboard.writeText = async (text: string) => void copied.push(text)
    const aRow = rows(root).find((r) => r.textContent!.includes('a@example.edu'))!
    buttonIn(aRow, /^Copy link/)!.click()
    await waitFor(() => copied.length === 1, 3000, 'link')
    const inviteToken = new URL(copied[0]!).searchParams.get('invite')!
    const { url } = await testServer()
    await fetch(`${url}/v1/invitations/${inviteToken}/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    await waitFor(() => rows(root).find((r) => r.textContent!.includes('a@example.edu'))?.querySelector('[part~=status]')?.textContent === 'accepted', 6000, 'accepted shows live')
  })
})

describe('<session-room> with an invitation link', () => {
  it('shows an accept card, then joins with the invited role and remembers the guest', async () => {
    const sid = freshSid('inv-room')
    await createSession(sid, { 'main.js': 'welcome()' }, 'ins')
    const { url } = await testServer()
    const ins = await token(sid, 'instructor', 'ins', 'Ada Lovelace')
    const res = await fetch(`${url}/v1/sessions/${sid}/invitations`, { method: 'POST', headers: { authorization: `Bearer ${ins}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: 'newbie@example.edu', role: 'observer', name: 'Newbie' }) })
    const inviteToken = new URL(((await res.json()) as { link: string }).link).searchParams.get('invite')!
    const room = await fixture<SessionRoom>(html`<session-room server=${url} invite=${inviteToken}><session-editor></session-editor></session-room>`)
    await waitFor(() => (room.shadowRoot!.querySelector('[part=invitation]')?.textContent ?? '').includes('Ada Lovelace invited you'), 6000, 'the card')
    expect(room.shadowRoot!.textContent).to.contain('an observer')
    await expect(room).to.be.accessible()
    ;(room.shadowRoot!.querySelector('input[name=name]') as HTMLInputElement).value = 'New Person'
    room.shadowRoot!.querySelector('form')!.requestSubmit()
    await waitFor(() => room.status === 'live', 8000, 'joined')
    expect(room.participant?.role).to.equal('observer')
    expect(room.participant?.name).to.equal('New Person')
    expect(room.session).to.equal(sid)
    await live(room.querySelector('session-editor')!)
    expect(localStorage.getItem(`session-kit:guest:${url}|${sid}`)).to.match(/^ey/)
    // The link is single use: opening it again explains, and the guest comes back with the kept token.
    const again = await fixture<SessionRoom>(html`<session-room server=${url} invite=${inviteToken}></session-room>`)
    await waitFor(() => again.status === 'live', 8000, 'back with the kept token')
  })
})
