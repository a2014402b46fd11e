import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import type { Role } from '@session-kit/core'
import '../define/session-room.js'
import '../define/session-editor.js'
import '../define/session-chat.js'
import type { SessionRoom } from './session-room.js'
import type { SessionEditor } from '../session-editor/session-editor.js'
import { api, createSession, freshSid, live, testServer, token, typeAt, waitFor } from '../test-support/room.js'
import { listenToLiveRegions } from '../test-support/live-regions.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A host page: the room with an editor and the chat. */
async function page(sid: string, role: Role, user: string, name: string) {
  const { url } = await testServer()
  const room = await fixture<SessionRoom>(
    html`<session-room server=${url} session=${sid} token=${await token(sid, role, user, name)}><session-editor file="main.js"></session-editor><session-chat></session-chat></session-room>`,
  )
  const editor = room.querySelector('session-editor') as SessionEditor
  const view = await live(editor)
  await waitFor(() => room.shadowRoot!.querySelector('[part~=lecture]') !== null, 5000, `${name}'s lecture controls`)
  // Joining is said ("Live"); what follows is what the test listens to.
  await sleep(300)
  return { room, editor, view, heard: listenToLiveRegions(room) }
}

/** What `p` hears once `pred` holds and things have settled. */
async function heardAfter(p: { heard: { take(): string[] } }, pred: () => boolean, what: string) {
  await waitFor(pred, 8000, what)
  await sleep(700)
  return p.heard.take()
}

const lastSaid = (room: SessionRoom) => room.shadowRoot!.querySelector('[role=status][aria-live=polite]')!.textContent ?? ''

describe('<session-room> announcements of changes made by others', () => {
  it('a learner hears each change of their situation once, politely; remote typing says nothing', async function () {
    this.timeout(60000)
    const sid = freshSid('said-once')
    await createSession(sid, { 'main.js': 'let a = 1\n' })
    const ada = await page(sid, 'instructor', 'ins', 'Ada')
    const lea = await page(sid, 'learner', 'lea', 'Lea')
    const ins = await token(sid, 'instructor', 'ins', 'Ada')
    const perm = () => lea.room.permissions.join()

    // A burst of keystrokes from Ada: Lea's page says nothing.
    ada.view.focus()
    typeAt(ada.view, 0, 'const greeting = "hello, world"\n')
    expect(await heardAfter(lea, () => lea.editor.value.startsWith('const greeting = "hello, world"'), 'the typing at Lea’s'), 'remote keystrokes').to.deep.equal([])
    for (const label of lea.editor.shadowRoot!.querySelectorAll('.sk-caret-label')) expect(label.closest('[aria-hidden=true]'), 'caret names are not read').not.to.equal(null)

    await api('POST', `/v1/sessions/${sid}/lock`, ins)
    expect(await heardAfter(lea, () => lea.room.sessionInfo?.editingLocked === true, 'the lock'), 'locked').to.deep.equal(['Editing locked by Ada.'])
    await api('POST', `/v1/sessions/${sid}/unlock`, ins)
    expect(await heardAfter(lea, () => lea.room.sessionInfo?.editingLocked === false, 'the unlock'), 'unlocked').to.deep.equal(['Editing unlocked by Ada.'])

    await api('POST', `/v1/sessions/${sid}/participants/lea/mute`, ins)
    expect(await heardAfter(lea, () => lea.room.participant?.muted === true, 'the mute'), 'muted').to.deep.equal(['You were muted by Ada.'])
    await api('POST', `/v1/sessions/${sid}/participants/lea/unmute`, ins)
    expect(await heardAfter(lea, () => lea.room.participant?.muted === false, 'the unmute'), 'unmuted').to.deep.equal(['You were unmuted by Ada.'])

    const res = await api('POST', `/v1/sessions/${sid}/recordings`, ins, { title: 'Lesson' })
    const { id } = (await res.json()) as { id: string }
    expect(await heardAfter(lea, () => lea.room.sessionInfo?.recordingState === 'recording', 'the recording'), 'recording started').to.deep.equal([
      'Ada started recording this session. This session is being recorded.',
    ])
    await api('POST', `/v1/sessions/${sid}/recordings/${id}/stop`, ins)
    expect(await heardAfter(lea, () => lea.room.sessionInfo?.recordingState === 'off', 'the end of the recording'), 'recording stopped').to.deep.equal(['Ada stopped recording this session.'])

    const before = perm()
    await api('PATCH', `/v1/sessions/${sid}/participants/lea`, ins, { role: 'observer' })
    expect(await heardAfter(lea, () => lea.room.participant?.role === 'observer' && perm() !== before, 'the new role'), 'role changed').to.deep.equal(['Ada changed your role to observer.'])

    // And Ada typing on: still nothing.
    typeAt(ada.view, 0, '// more\n')
    expect(await heardAfter(lea, () => lea.editor.value.startsWith('// more'), 'more typing at Lea’s'), 'remote keystrokes').to.deep.equal([])
  })

  it('an instructor hears each hand raised and lowered once; the same words twice are said twice', async function () {
    this.timeout(60000)
    const sid = freshSid('hands-said')
    await createSession(sid, { 'main.js': 'let a = 1\n' })
    const ada = await page(sid, 'instructor', 'ins', 'Ada')
    const lea = await page(sid, 'learner', 'lea', 'Lea')
    const hands = () => ada.room.shadowRoot!.querySelector('[part~=hand-count]')?.textContent ?? ''

    lea.room.client!.lead({ type: 'hand', raised: true })
    expect(await heardAfter(ada, () => hands() === '1 hand raised', 'the hand at Ada’s'), 'raised').to.deep.equal(['Lea raised a hand.'])
    expect(lea.heard.take(), 'Lea is told once').to.deep.equal(['Your hand is raised.'])
    lea.room.client!.lead({ type: 'hand', raised: false })
    expect(await heardAfter(ada, () => hands() === 'No hands raised', 'the hand lowered'), 'lowered').to.deep.equal(["Lea's hand is lowered."])
    expect(lea.heard.take()).to.deep.equal(['Your hand is lowered.'])
    lea.room.client!.lead({ type: 'hand', raised: true })
    await waitFor(() => hands() === '1 hand raised', 8000, 'the hand up again')
    ada.room.client!.lead({ type: 'hand', raised: false, userId: 'lea' })
    expect(await heardAfter(ada, () => hands() === 'No hands raised', 'the hand answered'), 'answered').to.deep.equal(['Lea raised a hand.', "Lea's hand is lowered."])
    expect(lea.heard.take()).to.deep.equal(['Your hand is raised.', 'Ada lowered your hand.'])

    // Raising too often: told each time it is refused, in the same words.
    for (let i = 0; i < 6 && !lastSaid(lea.room).startsWith('Too many hand changes'); i++) {
      lea.room.client!.lead({ type: 'hand', raised: true })
      await sleep(300)
    }
    await waitFor(() => lastSaid(lea.room).startsWith('Too many hand changes'), 8000, 'the first refusal')
    lea.heard.take()
    // Two more at once: refused twice in the same words (the same seconds to wait), said twice.
    lea.room.client!.lead({ type: 'hand', raised: true })
    lea.room.client!.lead({ type: 'hand', raised: true })
    await sleep(1000)
    const refusals = lea.heard.take().filter((t) => t.startsWith('Too many hand changes'))
    expect(refusals, 'each refusal is said').to.have.length(2)
    expect(refusals[0]).to.equal(refusals[1])
  })
})
