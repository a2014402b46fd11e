import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-snapshots.js'
import '../define/session-editor.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionSnapshots } from './session-snapshots.js'
import { createSession, freshSid, live, testServer, token, typeAt, waitFor } from '../test-support/room.js'

async function snapshots(sid: string, role: 'instructor' | 'learner' | 'observer', user: string, name: string) {
  const { url } = await testServer()
  const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, role, user, name)}>
    <session-editor></session-editor><session-snapshots></session-snapshots>
  </session-room>`)
  const el = room.querySelector('session-snapshots') as SessionSnapshots
  await waitFor(() => room.status === 'live' && !el.shadowRoot!.textContent!.includes('Loading snapshots'), 6000, `${role} loaded`)
  return { room, el, root: el.shadowRoot!, editor: room.querySelector('session-editor')! }
}

const item = (root: ShadowRoot, title: string) => [...root.querySelectorAll('[part=snapshot]')].find((x) => x.querySelector('.title')!.textContent === title) as HTMLElement | undefined
const button = (scope: ParentNode, label: RegExp) => [...scope.querySelectorAll('button')].find((b) => label.test(b.textContent!.trim())) as HTMLButtonElement | undefined

function capture(root: ShadowRoot, title: string, description = '') {
  ;(root.querySelector('input[name=title]') as HTMLInputElement).value = title
  ;(root.querySelector('input[name=description]') as HTMLInputElement).value = description
  root.querySelector('form')!.requestSubmit()
}

describe('<session-snapshots>', () => {
  it('a learner keeps a personal snapshot, previews a diff, exports it, and cannot restore', async () => {
    const sid = freshSid('snap')
    await createSession(sid, { 'main.js': 'let x = 1\n' }, 'ins')
    const lea = await snapshots(sid, 'learner', 'lea', 'Grace')
    expect(lea.root.textContent).to.contain('No snapshots yet')
    capture(lea.root, 'First try', 'x is one')
    await waitFor(() => item(lea.root, 'First try') !== undefined, 6000, 'listed')
    expect(item(lea.root, 'First try')!.textContent).to.contain('Grace (personal)')
    expect(button(item(lea.root, 'First try')!, /^Restore/)).to.equal(undefined)
    // Change the code, then preview: the diff shows the snapshot against now.
    typeAt(await live(lea.editor), 0, '// changed\n')
    button(item(lea.root, 'First try')!, /^Preview/)!.click()
    await waitFor(() => lea.root.querySelector('.cm-mergeView') !== null, 6000, 'the diff')
    await waitFor(() => lea.root.querySelectorAll('.cm-changedLine').length > 0, 4000, 'changes highlighted')
    // Export downloads the JSON.
    const saved: Blob[] = []
    const createURL = URL.createObjectURL
    URL.createObjectURL = (b: Blob) => (saved.push(b), 'blob:test')
    button(item(lea.root, 'First try')!, /^Export/)!.click()
    await waitFor(() => saved.length === 1, 4000, 'a download')
    URL.createObjectURL = createURL
    const exported = JSON.parse(await saved[0]!.text())
    expect(exported.files).to.deep.equal({ 'main.js': 'let x = 1\n' })
    expect(exported.title).to.equal('First try')
    await expect(lea.el).to.be.accessible()
  })

  it('an instructor restores for everyone after a confirmation, and a page can veto it', async () => {
    const sid = freshSid('snap-restore')
    await createSession(sid, { 'main.js': 'original\n' }, 'ins')
    const ins = await snapshots(sid, 'instructor', 'ins', 'Ada')
    capture(ins.root, 'Baseline')
    await waitFor(() => item(ins.root, 'Baseline') !== undefined, 6000, 'listed')
    const lea = await snapshots(sid, 'learner', 'lea', 'Grace')
    const view = await live(lea.editor)
    typeAt(view, 0, 'messy ')
    await waitFor(() => (ins.editor as HTMLElement & { value: string }).value === 'messy original\n', 6000, 'the mess reached everyone')
    let vetoes = 1
    ins.room.addEventListener('session-before-restore', (e) => {
      if (vetoes-- > 0) e.preventDefault()
    })
    button(item(ins.root, 'Baseline')!, /^Restore/)!.click()
    await ins.el.updateComplete
    button(item(ins.root, 'Baseline')!, /^Restore$/)!.click()
    await waitFor(() => ins.root.querySelector('[role=status][aria-live]')!.textContent!.includes('cancelled'), 4000, 'vetoed')
    expect((lea.editor as HTMLElement & { value: string }).value).to.equal('messy original\n')
    button(item(ins.root, 'Baseline')!, /^Restore/)!.click()
    await ins.el.updateComplete
    button(item(ins.root, 'Baseline')!, /^Restore$/)!.click()
    await waitFor(() => (lea.editor as HTMLElement & { value: string }).value === 'original\n', 6000, 'restored live in the learner’s editor')
    const obs = await snapshots(sid, 'observer', 'obs', 'Linus')
    await waitFor(() => item(obs.root, 'Baseline') !== undefined, 4000, 'observers see instructors’ snapshots')
    expect(obs.root.querySelector('form')).to.equal(null)
    await expect(obs.el).to.be.accessible()
    await expect(ins.el).to.be.accessible()
  })
})
