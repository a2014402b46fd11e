import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-assignment.js'
import type { SessionEditor } from '../session-editor/session-editor.js'
import type { SessionRunner } from '../session-runner/session-runner.js'
import { assignmentToken, createAssignment, freshSid, live, testServer, waitFor } from '../test-support/room.js'
import type { SessionAssignment } from './session-assignment.js'

// <session-assignment> against the real server: the learner's room, its starter code, what counts.

/** Everything the server sent the elements: HTTP answers and socket frames, as text (not the test's own host calls). */
const received: string[] = []
const realFetch = window.fetch.bind(window)
window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
  const res = await realFetch(input, init)
  if (String(input).endsWith('/v1/assignments')) return res
  res
    .clone()
    .text()
    .then((t) => received.push(`${String(input instanceof Request ? input.url : input)} ${t}`), () => {})
  return res
}
const RealSocket = window.WebSocket
window.WebSocket = class extends RealSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols)
    this.addEventListener('message', (e: MessageEvent) => received.push(typeof e.data === 'string' ? e.data : new TextDecoder().decode(e.data as ArrayBuffer)))
  }
}

const STARTER = 'function add(a, b) {\n  // your code here\n}\n'
const HIDDEN_MARKER = 'only-the-server-knows-this'

async function newAssignment(label: string) {
  const id = freshSid(label)
  await createAssignment({
    id,
    title: 'Adding numbers',
    instructions: 'Write **add(a, b)**.\n\n1. Return the sum\n2. Check on the server',
    language: 'javascript',
    files: { 'main.js': STARTER },
    tests: {
      visible: { 'main.test.js': "test('adds', () => {\n  expect(add(1, 2)).toBe(3)\n})\n" },
      hidden: { 'hidden.test.js': `test('${HIDDEN_MARKER}', () => {\n  expect(add(-1, 1)).toBe(0) // ${HIDDEN_MARKER}\n})\n` },
    },
    submitPolicy: 'lock',
  })
  return id
}

async function learner(aid: string, user: string, name: string) {
  const { url } = await testServer()
  const el = await fixture<SessionAssignment>(html`<session-assignment server=${url} assignment=${aid} token=${await assignmentToken(aid, 'learner', user, name)}></session-assignment>`)
  await waitFor(() => Boolean(el.shadowRoot!.querySelector('session-room')), 10_000, 'the room opened')
  const editor = el.shadowRoot!.querySelector('session-editor') as SessionEditor
  const runner = el.shadowRoot!.querySelector('session-runner') as SessionRunner
  return { el, root: el.shadowRoot!, editor, runner }
}

describe('<session-assignment> with the server', function () {
  this.timeout(60_000)

  it('a learner’s first open makes their room from the starter files; opening again finds the same room', async () => {
    const aid = await newAssignment('first-open')
    const a = await learner(aid, 'grace', 'Grace')
    const first = a.el.room!
    expect(a.root.querySelector('[part=title]')!.textContent).to.equal('Adding numbers')
    expect(a.root.querySelector('[part=instructions] ol')!.children).to.have.length(2)
    const view = await live(a.editor)
    expect(view.state.doc.toString()).to.equal(STARTER)
    a.el.remove()
    const again = await learner(aid, 'grace', 'Grace')
    expect(again.el.room!.sessionId).to.equal(first.sessionId)
    await expect(again.el).to.be.accessible()
  })

  it('two first opens at once (two tabs of one learner) make one room, from the starter files, and both show it', async () => {
    const aid = await newAssignment('two-tabs')
    const [a, b] = await Promise.all([learner(aid, 'alan', 'Alan'), learner(aid, 'alan', 'Alan')])
    expect(a.el.room!.sessionId).to.equal(b.el.room!.sessionId)
    const [va, vb] = await Promise.all([live(a.editor), live(b.editor)])
    expect(va.state.doc.toString()).to.equal(STARTER, 'the starter code, once, not twice')
    expect(vb.state.doc.toString()).to.equal(STARTER)
  })

  it('the result that counts includes the hidden tests, and the hidden tests never reach the learner’s page', async () => {
    const aid = await newAssignment('hidden')
    received.length = 0
    const a = await learner(aid, 'linus', 'Linus')
    const view = await live(a.editor)
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: 'function add(a, b) {\n  return a + b\n}\n' } })
    // Saved once the server acknowledged it (the check reads the stored code).
    await new Promise((r) => setTimeout(r, 800))
    await waitFor(() => a.editor.shadowRoot!.querySelector('[part=save-state]')?.textContent?.includes('All changes saved') ?? false, 10_000, 'saved')
    await waitFor(() => Boolean(a.runner.shadowRoot!.querySelector('[part=verify-button]')), 10_000, 'check button')
    ;(a.runner.shadowRoot!.querySelector('[part=verify-button]') as HTMLButtonElement).click()
    await waitFor(() => /2 of 2 tests passed/.test(a.root.querySelector('[part=result]')!.textContent!), 30_000, 'the result that counts')
    expect(a.root.querySelector('[part=result]')!.textContent).to.contain('1 hidden test included')
    // Submitting locks editing (the assignment's policy).
    ;(a.root.querySelector('[part=submit-button]') as HTMLButtonElement).click()
    await a.el.updateComplete
    ;[...a.root.querySelectorAll('button')].find((b) => b.textContent === 'Submit and lock')!.click()
    await waitFor(() => a.root.querySelector('[part=submit]')!.textContent!.includes('Editing is now locked.'), 10_000, 'submitted')
    await waitFor(() => /locked/i.test(a.editor.shadowRoot!.querySelector('[part=indicator]')?.textContent ?? ''), 10_000, 'the editor says it is locked')
    expect(received.length).to.be.greaterThan(5)
    const leaked = received.filter((r) => r.includes(HIDDEN_MARKER) || r.includes('hidden.test.js'))
    expect(leaked, 'no answer the page got holds the hidden tests').to.deep.equal([])
  })
})
