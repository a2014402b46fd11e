import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-assignment.js'
import '../define/session-classroom.js'
import '../define/session-room.js'
import '../define/session-editor.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionAssignment } from '../session-assignment/session-assignment.js'
import type { SessionEditor } from '../session-editor/session-editor.js'
import { assignmentToken, createAssignment, createSession, freshSid, live, shadowText, testServer, token, typeAt, waitFor } from '../test-support/room.js'
import type { SessionClassroom } from './session-classroom.js'

// <session-classroom> against the real server: every learner's room, live as they type.

describe('<session-classroom> with the server', function () {
  this.timeout(60_000)

  it('lists every learner’s room and shows their code live as two learners type', async () => {
    const { url } = await testServer()
    const aid = freshSid('class')
    await createAssignment({ id: aid, title: 'Loops', instructions: 'Count to ten.', language: 'javascript', files: { 'main.js': '// start here\n' } })
    const learners = await fixture<HTMLElement>(html`<div>
      <session-assignment server=${url} assignment=${aid} token=${await assignmentToken(aid, 'learner', 'grace', 'Grace')}></session-assignment>
      <session-assignment server=${url} assignment=${aid} token=${await assignmentToken(aid, 'learner', 'alan', 'Alan')}></session-assignment>
    </div>`)
    const editors: SessionEditor[] = []
    for (const el of learners.querySelectorAll<SessionAssignment>('session-assignment')) {
      await waitFor(() => Boolean(el.shadowRoot!.querySelector('session-editor')), 10_000, 'a learner’s room')
      editors.push(el.shadowRoot!.querySelector('session-editor') as SessionEditor)
    }
    const [grace, alan] = await Promise.all(editors.map((e) => live(e)))

    const overview = await fixture<SessionClassroom>(html`<session-classroom server=${url} assignment=${aid} token=${await assignmentToken(aid, 'instructor', 'ins', 'Ada')}></session-classroom>`)
    const root = overview.shadowRoot!
    await waitFor(() => root.querySelectorAll('li[data-user]').length === 2, 10_000, 'two tiles')
    // The learners' rooms fill the screen above: the tiles stream once they are in view.
    root.querySelector('[part=grid]')!.scrollIntoView()
    expect(root.querySelector('h2')!.textContent).to.equal('Loops: 2 learners')
    const code = (user: string) => root.querySelector(`li[data-user="${user}"] [part=code]`)?.textContent ?? ''
    await waitFor(() => code('grace').includes('// start here') && code('alan').includes('// start here'), 10_000, 'both tiles show the code')

    typeAt(grace!, grace!.state.doc.length, 'for (let i = 0; i < 10; i++) {}')
    typeAt(alan!, alan!.state.doc.length, 'let n = 0')
    await waitFor(() => code('grace').includes('for (let i = 0; i < 10; i++) {}'), 10_000, 'Grace’s typing in her tile')
    await waitFor(() => code('alan').includes('let n = 0'), 10_000, 'Alan’s typing in his tile')
    expect(code('grace')).to.not.contain('let n = 0')
    typeAt(alan!, alan!.state.doc.length, ' // counting')
    await waitFor(() => code('alan').includes('let n = 0 // counting'), 10_000, 'more of Alan’s typing')
    await expect(overview).to.be.accessible()

    // The assignment's analytics as a spreadsheet, anonymized: a row per learner, no names.
    const saved: { name: string; text: Promise<string> }[] = []
    const click = HTMLAnchorElement.prototype.click
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      if (this.download) saved.push({ name: this.download, text: fetch(this.href).then((r) => r.text()) })
      else click.call(this)
    }
    try {
      ;(root.querySelector('[part=export] input[type=checkbox]') as HTMLInputElement).click()
      ;[...root.querySelectorAll<HTMLButtonElement>('[part=export] button')].find((b) => b.textContent!.includes('Download analytics'))!.click()
      await waitFor(() => saved.length === 1, 10_000, 'the analytics downloaded')
    } finally {
      HTMLAnchorElement.prototype.click = click
    }
    expect(saved[0]!.name).to.match(/^assignment-.+-anonymized-.+\.csv$/)
    const rows = (await saved[0]!.text).trim().split('\r\n')
    expect(rows[0]).to.equal('userId,name,startedAt,secondsToFirstRun,runs,testRuns,lastPassed,lastFailed,submittedAt')
    expect(rows.length).to.equal(3)
    expect(rows.join('\n')).to.not.match(/grace|alan/i)
    expect(shadowText(overview, '[role=status][aria-live=polite]')).to.equal('The analytics were downloaded, anonymized.')
  })

  it('spotlights a learner’s room in a lecture room: everyone there sees her code follow her typing, until it ends', async () => {
    const { url } = await testServer()
    const aid = freshSid('class-spot')
    await createAssignment({ id: aid, title: 'Loops', instructions: '', language: 'javascript', files: { 'main.js': '// start here\n' }, tests: { hidden: { 'hidden.test.js': '// zebra-hidden-case\n' } } })
    const learner = await fixture<SessionAssignment>(html`<session-assignment server=${url} assignment=${aid} token=${await assignmentToken(aid, 'learner', 'grace', 'Grace')}></session-assignment>`)
    await waitFor(() => Boolean(learner.shadowRoot!.querySelector('session-editor')), 10_000, 'Grace’s room')
    const grace = (await live(learner.shadowRoot!.querySelector('session-editor') as SessionEditor))!

    // The lecture room, where Lin (a learner) sits.
    const lid = freshSid('lecture')
    await createSession(lid, { 'main.py': 'print("lecture")\n' })
    const lin = await fixture<SessionRoom>(html`<session-room server=${url} session=${lid} token=${await token(lid, 'learner', 'lin', 'Lin')}><session-editor file="main.py"></session-editor></session-room>`)
    await live(lin.querySelector('session-editor') as SessionEditor)

    // Ada's overview, with a token for the lecture room that also names the assignment.
    const q = new URLSearchParams({ sid: lid, assignment: aid, role: 'instructor', user: 'ins', name: 'Ada' })
    const lectureToken = ((await (await fetch(`/__sk/token?${q}`)).json()) as { token: string }).token
    const overview = await fixture<SessionClassroom>(
      html`<session-classroom server=${url} assignment=${aid} token=${await assignmentToken(aid, 'instructor', 'ins', 'Ada')} lecture-session=${lid} .lectureToken=${lectureToken}></session-classroom>`,
    )
    const button = () => overview.shadowRoot!.querySelector<HTMLButtonElement>('li[data-user="grace"] [part~=spotlight-button]')
    await waitFor(() => button() !== null, 10_000, 'the spotlight button')
    expect(button()!.textContent!.trim()).to.equal('Spotlight in lecture')
    button()!.click()

    const pane = () => lin.shadowRoot!.querySelector('[part~=spotlight]')
    await waitFor(() => shadowText(lin, '[part~=spotlight] h2') === "Spotlight: Grace's room — main.js", 10_000, 'the pane in the lecture room')
    await waitFor(() => pane()!.textContent!.includes('// start here'), 6000, 'her code')
    await waitFor(() => button()!.textContent!.trim() === 'End spotlight', 4000, 'the tile says it is shown')
    typeAt(grace, grace.state.doc.length, 'for (const n of [1, 2, 3]) {}')
    await waitFor(() => pane()!.textContent!.includes('for (const n of [1, 2, 3]) {}'), 6000, 'the pane follows her typing')
    expect(pane()!.textContent).to.not.contain('zebra-hidden-case')
    expect(pane()!.querySelector('pre')!.getAttribute('aria-label')).to.contain('read-only')
    expect(lin.shadowRoot!.querySelector('[part~=end-spotlight]'), 'only instructors end it').to.equal(null)
    await expect(lin).to.be.accessible()

    button()!.click()
    await waitFor(() => pane() === null, 6000, 'the pane gone')
    await waitFor(() => button()!.textContent!.trim() === 'Spotlight in lecture', 4000, 'the tile can spotlight again')
    expect((lin.querySelector('session-editor') as SessionEditor).shadowRoot!.textContent).to.contain('print("lecture")')
  })

  it('refuses a learner’s token, saying why', async () => {
    const { url } = await testServer()
    const aid = freshSid('class-learner')
    await createAssignment({ id: aid, title: 'Loops', instructions: '', language: 'javascript', files: { 'main.js': '' } })
    const el = await fixture<SessionClassroom>(html`<session-classroom server=${url} assignment=${aid} token=${await assignmentToken(aid, 'learner', 'grace', 'Grace')}></session-classroom>`)
    await waitFor(() => Boolean(el.shadowRoot!.querySelector('[part=error]')), 10_000, 'refused')
    expect(el.shadowRoot!.querySelector('[part=error]')!.textContent).to.contain('instructors')
  })
})
