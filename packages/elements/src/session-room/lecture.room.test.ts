import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-room.js'
import '../define/session-editor.js'
import '../define/session-participants.js'
import type { SessionRoom } from './session-room.js'
import type { SessionEditor } from '../session-editor/session-editor.js'
import { createSession, freshSid, live, shadowText, testServer, token, waitFor } from '../test-support/room.js'

const CODE = Array.from({ length: 120 }, (_, i) => `n${i + 1} = ${i + 1}`).join('\n')

/** A host page: the room, an editor on `file` and (for instructors) the participant list. */
async function page(sid: string, role: 'instructor' | 'learner' | 'observer', user: string, name: string, file = 'main.py') {
  const { url } = await testServer()
  const room = await fixture<SessionRoom>(
    html`<session-room server=${url} session=${sid} token=${await token(sid, role, user, name)}><session-editor file=${file}></session-editor><session-participants></session-participants></session-room>`,
  )
  const editor = room.querySelector('session-editor') as SessionEditor
  const view = await live(editor)
  await waitFor(() => room.shadowRoot!.querySelector('[part~=lecture]') !== null, 5000, `${name}'s lecture controls`)
  return { room, editor, view, list: room.querySelector('session-participants')!, bar: (sel: string) => room.shadowRoot!.querySelector<HTMLElement>(sel) }
}

const followText = (editor: SessionEditor) => shadowText(editor, '.follow-text').replace(/\s+/g, ' ')
const shownFile = (editor: SessionEditor) => shadowText(editor, '[part~=file]')

describe('lecture mode against the server', () => {
  it('an observer and a learner follow the instructor, break away and rejoin; the leader stops', async () => {
    const sid = freshSid('follow')
    await createSession(sid, { 'main.py': 'print("mine")\n', 'lesson.py': CODE })
    const ada = await page(sid, 'instructor', 'ada', 'Ada', 'lesson.py')
    const otto = await page(sid, 'observer', 'otto', 'Otto')
    const lea = await page(sid, 'learner', 'lea', 'Lea')
    ada.view.focus()
    ada.view.dispatch({ selection: { anchor: CODE.indexOf('n90 ') } })
    ada.bar('[part~=follow-button]')!.click()
    for (const p of [otto, lea]) {
      await waitFor(() => shownFile(p.editor) === 'lesson.py', 8000, "the leader's file")
      await waitFor(() => followText(p.editor) === 'Following Ada in lesson.py', 4000, 'the banner')
      await waitFor(() => [...p.editor.shadowRoot!.querySelectorAll('.cm-line')].some((l) => l.textContent!.includes('n90 = 90')), 4000, "Ada's line in view")
      expect(shadowText(p.room, '[role=status][aria-live=polite]')).to.equal('You are following Ada.')
    }
    await waitFor(() => followText(ada.editor).startsWith('Everyone is following you'), 4000, 'the leader is told')

    // Lea scrolls away; Otto keeps following as Ada moves to the top.
    lea.editor.shadowRoot!.querySelector('[part~=editor]')!.dispatchEvent(new WheelEvent('wheel', { deltaY: 300, bubbles: true }))
    await waitFor(() => followText(lea.editor) === 'Ada is leading.', 2000, 'Lea away')
    ada.view.dispatch({ selection: { anchor: 0 } })
    await waitFor(() => [...otto.editor.shadowRoot!.querySelectorAll('.cm-line')].some((l) => l.textContent!.includes('n1 = 1')), 4000, 'Otto at the top')
    expect(shadowText(lea.editor, '[part~=follow-action]')).to.equal('Follow Ada again')
    lea.editor.shadowRoot!.querySelector<HTMLButtonElement>('[part~=follow-action]')!.click()
    await waitFor(() => followText(lea.editor) === 'Following Ada in lesson.py', 2000, 'Lea back')
    await expect(lea.editor).to.be.accessible()

    ada.editor.shadowRoot!.querySelector<HTMLButtonElement>('[part~=follow-action]')!.click()
    for (const p of [otto, lea]) await waitFor(() => shownFile(p.editor) === 'main.py' && !p.editor.shadowRoot!.querySelector('[part~=follow]'), 4000, 'back in their own file')
  })

  it('queues raised hands oldest first for the instructor, who lowers one then all; learners never see another question', async () => {
    const sid = freshSid('hands')
    await createSession(sid, { 'main.py': '' })
    const ada = await page(sid, 'instructor', 'ada', 'Ada')
    const grace = await page(sid, 'learner', 'grace', 'Grace')
    const lea = await page(sid, 'learner', 'lea', 'Lea')
    const raise = async (p: typeof grace, question: string) => {
      p.bar('[part~=hand-button]')!.click()
      await p.room.updateComplete
      const input = p.bar('.hand-form input') as HTMLInputElement
      input.value = question
      input.dispatchEvent(new Event('input'))
      ;(p.bar('.hand-form') as HTMLFormElement).requestSubmit()
      await waitFor(() => p.bar('[part~=hand-button]')?.textContent!.trim() === 'Lower hand', 4000, 'Lower hand')
    }
    await raise(grace, 'Why is my loop infinite?')
    await raise(lea, 'Secret question from Lea')
    const queue = () => [...ada.list.shadowRoot!.querySelectorAll('[part~=hand]')].map((li) => li.querySelector('.name')!.textContent)
    await waitFor(() => queue().length === 2, 4000, 'two hands queued')
    expect(queue()).to.deep.equal(['Grace', 'Lea'])
    expect(ada.list.shadowRoot!.querySelector('[part~=hand]')!.textContent).to.contain('Why is my loop infinite?')
    expect(shadowText(ada.room, '[part~=hand-count]')).to.equal('2 hands raised')
    for (const [p, other] of [[grace, 'Secret question from Lea'], [lea, 'Why is my loop infinite?']] as const) {
      expect(JSON.stringify(p.room.client!.lecture), 'another learner’s question').to.not.contain(other)
      expect(p.room.client!.lecture.handCount).to.equal(2)
      expect(p.list.shadowRoot!.querySelector('[part~=hands]')).to.equal(null)
    }

    ada.list.shadowRoot!.querySelector<HTMLButtonElement>('[part~=hand] button')!.click()
    await waitFor(() => queue().join() === 'Lea', 4000, 'Grace lowered')
    await waitFor(() => grace.bar('[part~=hand-button]')?.textContent!.trim() === 'Raise hand', 4000, 'Grace sees it')
    expect(shadowText(grace.room, '[role=status][aria-live=polite]')).to.equal('Ada lowered your hand.')
    await raise(grace, '')
    await waitFor(() => queue().join() === 'Lea,Grace', 4000, 'Grace again, last')
    ada.list.shadowRoot!.querySelector<HTMLButtonElement>('[part~=lower-all]')!.click()
    await waitFor(() => queue().length === 0 && shadowText(ada.room, '[part~=hand-count]') === 'No hands raised', 4000, 'all lowered')
    await waitFor(() => lea.bar('[part~=hand-button]')?.textContent!.trim() === 'Raise hand', 4000, 'Lea sees it')
    await expect(ada.list).to.be.accessible()
  })

  it('spotlights a learner for everyone, live, and ends it without moving anyone', async () => {
    const sid = freshSid('spot')
    await createSession(sid, { 'main.py': CODE })
    const ada = await page(sid, 'instructor', 'ada', 'Ada')
    const grace = await page(sid, 'learner', 'grace', 'Grace')
    const otto = await page(sid, 'observer', 'otto', 'Otto')
    grace.view.focus()
    grace.view.dispatch({ selection: { anchor: CODE.indexOf('n12 ') + 2 } })
    const spot = () => [...ada.list.shadowRoot!.querySelectorAll<HTMLButtonElement>('[part~=spotlight-button]')].find((b) => b.textContent!.includes('Grace'))
    await waitFor(() => spot() !== undefined, 4000, 'the spotlight action')
    const ottoScroll = otto.view.scrollDOM.scrollTop
    spot()!.click()
    for (const p of [ada, grace, otto]) {
      await waitFor(() => shadowText(p.room, '[part~=spotlight] h2') === "Spotlight: Grace's code — main.py line 12", 6000, `the pane for ${p.room.participant?.name}`)
    }
    expect(shadowText(otto.room, '[role=status][aria-live=polite]')).to.equal('Spotlight on Grace.')
    expect(otto.room.shadowRoot!.querySelector('[part~=end-spotlight]'), 'only instructors end it').to.equal(null)
    // Grace types a new line above: everyone's pane moves with her.
    grace.view.dispatch({ changes: { from: 0, insert: 'x = 0\n' }, selection: { anchor: 3 }, userEvent: 'input.type' })
    await waitFor(() => shadowText(otto.room, '[part~=spotlight] h2').endsWith('line 1'), 6000, 'the pane follows Grace')
    expect(shadowText(otto.room, '.line.here')).to.contain('x =')
    await expect(otto.room).to.be.accessible()

    ada.room.shadowRoot!.querySelector<HTMLButtonElement>('[part~=end-spotlight]')!.click()
    for (const p of [ada, grace, otto]) await waitFor(() => p.room.shadowRoot!.querySelector('[part~=spotlight]') === null, 4000, 'the pane gone')
    expect(otto.view.scrollDOM.scrollTop, "Otto's editor did not move").to.equal(ottoScroll)
    expect(shownFile(otto.editor)).to.equal('main.py')
  })
})
