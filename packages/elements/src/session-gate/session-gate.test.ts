import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-gate.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionGate } from './session-gate.js'
import { api, createSession, freshSid, testServer, token, waitFor } from '../test-support/room.js'

async function roomWithGates(sid: string, role: 'instructor' | 'learner' | 'observer', user: string) {
  const { url } = await testServer()
  const tok = await token(sid, role, user)
  const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${tok}>
    <session-gate id="edit" permission="EDIT_CODE"><p>edit tools</p><p slot="fallback">read only</p></session-gate>
    <session-gate id="teachers" roles="instructor"><p>teacher tools</p><p slot="fallback">not a teacher</p></session-gate>
    <session-gate id="owner" owner><p>owner tools</p></session-gate>
    <session-gate id="typo" permission="EDIT_CODES"><p>never</p></session-gate>
  </session-room>`)
  await waitFor(() => room.status === 'live')
  const visible = (id: string) => {
    const gate = room.querySelector(`#${id}`) as SessionGate
    const slot = gate.shadowRoot!.querySelector('slot')!
    return slot.assignedElements().map((e) => e.textContent).join('|')
  }
  return { room, visible }
}

describe('<session-gate>', () => {
  it('shows content by permission, role and ownership, and the fallback otherwise', async () => {
    const sid = freshSid('gate')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const ins = await roomWithGates(sid, 'instructor', 'ins')
    await waitFor(() => ins.visible('edit') === 'edit tools', 4000, 'instructor edit gate')
    expect(ins.visible('teachers')).to.equal('teacher tools')
    expect(ins.visible('owner')).to.equal('owner tools')
    expect(ins.visible('typo')).to.equal('', 'an unknown permission never opens the gate')
    const obs = await roomWithGates(sid, 'observer', 'obs')
    await waitFor(() => obs.visible('edit') === 'read only', 4000, 'observer edit gate')
    expect(obs.visible('teachers')).to.equal('not a teacher')
    expect(obs.visible('owner')).to.equal('')
    await expect(obs.room).to.be.accessible()
  })

  it('switches live when permissions change', async () => {
    const sid = freshSid('gate-live')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const lea = await roomWithGates(sid, 'learner', 'lea')
    await waitFor(() => lea.visible('edit') === 'edit tools', 4000, 'learner may edit')
    const insToken = await token(sid, 'instructor', 'ins', 'Ada')
    await api('POST', `/v1/sessions/${sid}/lock`, insToken)
    await waitFor(() => lea.visible('edit') === 'read only', 6000, 'locked → fallback')
    await api('PATCH', `/v1/sessions/${sid}/participants/lea`, insToken, { role: 'instructor' })
    await waitFor(() => lea.visible('teachers') === 'teacher tools', 8000, 'promoted → teacher tools')
    expect(lea.visible('edit')).to.equal('edit tools')
  })
})
