import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import { NO_LECTURE, type LectureState } from '@session-kit/core'
import '../define/session-room.js'
import '../define/session-editor.js'
import type { SessionEditor } from './session-editor.js'
import type { SessionRoom } from '../session-room/session-room.js'
import { FakeRoomServer, fakeToken, person } from '../test-support/fake-socket.js'
import { live, shadowText, waitFor } from '../test-support/room.js'

const LONG = Array.from({ length: 200 }, (_, i) => `print(${i + 1})`).join('\n')
const files = { 'main.py': 'mine = 1\n', 'lesson.py': LONG }
const led: LectureState = { ...NO_LECTURE, follow: { userId: 'ada', name: 'Ada', since: '2030-01-01T10:00:00.000Z' } }
const at = (line: number) => LONG.split('\n').slice(0, line - 1).join('\n').length + 1

async function mount(server: FakeRoomServer) {
  const room = await fixture<SessionRoom>(html`<session-room server="http://127.0.0.1:1" session="fake" token=${fakeToken(server.me.userId, server.me.role)}><session-editor file="main.py"></session-editor></session-room>`)
  const editor = room.querySelector('session-editor') as SessionEditor
  const view = await live(editor)
  return { room, editor, view }
}

/** The banner as read: its words, then its button. */
const banner = (editor: SessionEditor) => [shadowText(editor, '.follow-text'), shadowText(editor, '[part~=follow-action]')].join(' | ').replace(/\s+/g, ' ')
const action = (editor: SessionEditor) => editor.shadowRoot!.querySelector<HTMLButtonElement>('[part~=follow-action]')!
const shownFile = (editor: SessionEditor) => shadowText(editor, '[part~=file]')
/** Whether line `n` of the code is on screen. */
function lineVisible(editor: SessionEditor, n: number) {
  const box = editor.shadowRoot!.querySelector('.cm-scroller')!.getBoundingClientRect()
  return [...editor.shadowRoot!.querySelectorAll('.cm-line')].some((l) => {
    const r = l.getBoundingClientRect()
    return l.textContent!.includes(`print(${n})`) && r.top >= box.top && r.bottom <= box.bottom
  })
}

describe('<session-editor> follows an instructor (a page-side server)', () => {
  let server: FakeRoomServer
  afterEach(() => server?.restore())

  for (const role of ['observer', 'learner'] as const) {
    it(`shows a ${role} the leader's file and cursor; they break away by scrolling and come back in one click`, async () => {
      server = new FakeRoomServer(person('obs', role), files, led, [person('ada', 'instructor', { cursor: { file: 'lesson.py', anchor: at(150), head: at(150) } })])
      const { editor } = await mount(server)
      await waitFor(() => shownFile(editor) === 'lesson.py', 4000, "the leader's file")
      expect(banner(editor)).to.equal('Following Ada in lesson.py | Stop following')
      await waitFor(() => lineVisible(editor, 150), 4000, "the leader's line in view")
      await expect(editor).to.be.accessible()

      // Ada moves on: the view follows.
      server.push({ type: 'presence', participant: person('ada', 'instructor', { cursor: { file: 'lesson.py', anchor: at(20), head: at(20) } }) })
      await waitFor(() => lineVisible(editor, 20), 4000, 'line 20 in view')

      // The person scrolls with the wheel: they read on their own, in the same file.
      editor.shadowRoot!.querySelector('[part~=editor]')!.dispatchEvent(new WheelEvent('wheel', { deltaY: 200, bubbles: true }))
      await editor.updateComplete
      expect(banner(editor)).to.equal('Ada is leading. | Follow Ada again')
      expect(shownFile(editor)).to.equal('lesson.py')
      expect(shadowText(editor, '.visually-hidden[role=status]')).to.contain('You scrolled away from Ada')
      server.push({ type: 'presence', participant: person('ada', 'instructor', { cursor: { file: 'main.py', anchor: 0, head: 0 } }) })
      await new Promise((r) => setTimeout(r, 100))
      expect(shownFile(editor), 'no longer moved by the leader').to.equal('lesson.py')

      action(editor).click()
      await waitFor(() => shownFile(editor) === 'main.py', 4000, 'back with Ada, in main.py')
      expect(banner(editor)).to.equal('Following Ada in main.py | Stop following')

      // Still following after the connection drops and comes back.
      server.drop()
      await waitFor(() => (editor.closest('session-room') as SessionRoom).status === 'live' && server.sockets.length > 1, 8000, 'reconnected')
      await live(editor)
      expect(banner(editor)).to.equal('Following Ada in main.py | Stop following')

      // "Stop following", then switching file, each ends it.
      action(editor).click()
      await editor.updateComplete
      expect(banner(editor)).to.equal('Ada is leading. | Follow Ada again')
      action(editor).click()
      await editor.updateComplete
      editor.file = 'lesson.py'
      await waitFor(() => banner(editor) === 'Ada is leading. | Follow Ada again', 2000, 'away after switching file')
      expect(shownFile(editor)).to.equal('lesson.py')
    })
  }

  it("tells the leader everyone follows them, shares where they are, and stops on request; nobody's file moves after", async () => {
    server = new FakeRoomServer(person('ada', 'instructor'), files, NO_LECTURE)
    const { editor } = await mount(server)
    expect(editor.shadowRoot!.querySelector('[part~=follow]')).to.equal(null)
    server.push({ type: 'lecture', lecture: led, change: { kind: 'follow-started', userId: 'ada', name: 'Ada' } })
    await waitFor(() => banner(editor).startsWith('Everyone is following you'), 2000, 'the leader banner')
    await waitFor(() => server.sent.some((e) => e.type === 'presence'), 2000, 'the leader shares their cursor')
    expect(server.sent.find((e) => e.type === 'presence')).to.deep.include({ cursor: { file: 'main.py', anchor: 0, head: 0 } })
    await expect(editor).to.be.accessible()
    action(editor).click()
    expect(server.sent.at(-1)).to.deep.equal({ type: 'follow', on: false })
    server.push({ type: 'lecture', lecture: NO_LECTURE, change: { kind: 'follow-stopped', userId: 'ada', name: 'Ada' } })
    await waitFor(() => editor.shadowRoot!.querySelector('[part~=follow]') === null, 2000, 'the banner gone')
    expect(shownFile(editor)).to.equal('main.py')
  })
})
