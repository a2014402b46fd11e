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

/** Catch downloads: each file's name and text, none saved. */
function catchDownloads() {
  const blobs = new Map<string, Blob>()
  const files: { name: string; blob: Blob }[] = []
  const createURL = URL.createObjectURL
  const click = HTMLAnchorElement.prototype.click
  URL.createObjectURL = (b: Blob | MediaSource) => {
    const url = `blob:test-${blobs.size}`
    blobs.set(url, b as Blob)
    return url
  }
  HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
    if (this.download) files.push({ name: this.download, blob: blobs.get(this.href)! })
    else click.call(this)
  }
  return {
    files,
    async texts() {
      return Promise.all(files.map(async (f) => [f.name, await f.blob.text()]))
    },
    restore() {
      URL.createObjectURL = createURL
      HTMLAnchorElement.prototype.click = click
    },
  }
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

  it('lists follow what others save, delete and restore, live', async () => {
    const sid = freshSid('snap-live')
    await createSession(sid, { 'main.js': 'original\n' }, 'ins')
    const ada = await snapshots(sid, 'instructor', 'ins', 'Ada')
    const barbara = await snapshots(sid, 'instructor', 'ins2', 'Barbara')
    const grace = await snapshots(sid, 'learner', 'lea', 'Grace')
    const linus = await snapshots(sid, 'learner', 'lea2', 'Linus')
    capture(ada.root, 'Baseline')
    await waitFor(() => item(barbara.root, 'Baseline') !== undefined && item(grace.root, 'Baseline') !== undefined, 6000, 'another instructor’s and a learner’s list show it at once')
    expect(barbara.root.querySelector('[role=status][aria-live]')!.textContent).to.contain('Ada saved the snapshot “Baseline”')
    // A learner's snapshot is personal: instructors see it arrive, other learners never.
    capture(grace.root, 'Mine')
    await waitFor(() => [ada, barbara, grace].every((p) => item(p.root, 'Mine') !== undefined), 6000, 'instructors and its creator see the personal snapshot')
    expect([...grace.root.querySelectorAll('[part=snapshot]')].length, 'listed once for its creator').to.equal(2)
    expect(item(linus.root, 'Mine')).to.equal(undefined)
    // A restore by someone else is said where the snapshots are.
    button(item(ada.root, 'Baseline')!, /^Restore/)!.click()
    await ada.el.updateComplete
    button(item(ada.root, 'Baseline')!, /^Restore$/)!.click()
    await waitFor(() => (grace.root.querySelector('.notice')?.textContent ?? '').includes('Ada restored the snapshot “Baseline” for everyone'), 6000, 'the learner is told')
    expect(ada.root.querySelector('.notice'), 'not the one who restored').to.equal(null)
    // Deleting takes it out of every list.
    button(item(barbara.root, 'Baseline')!, /^Delete/)!.click()
    await barbara.el.updateComplete
    button(item(barbara.root, 'Baseline')!, /^Delete$/)!.click()
    await waitFor(() => [ada, grace, linus].every((p) => item(p.root, 'Baseline') === undefined), 6000, 'gone from every list')
    expect(linus.root.textContent).to.contain('No snapshots yet')
    await expect(grace.el).to.be.accessible()
  })

  it('downloads the code itself: every file under its own name, or the file shown in the preview', async () => {
    const sid = freshSid('snap-code')
    await createSession(sid, { 'main.js': 'import { add } from "./util.js"\n', 'util.js': 'export const add = (a, b) => a + b\n' }, 'ins')
    const ins = await snapshots(sid, 'instructor', 'ins', 'Ada')
    capture(ins.root, 'Two files')
    await waitFor(() => item(ins.root, 'Two files') !== undefined, 6000, 'listed')
    const downloads = catchDownloads()
    try {
      button(item(ins.root, 'Two files')!, /^Download code/)!.click()
      await waitFor(() => downloads.files.length === 2, 4000, 'two downloads')
      expect(await downloads.texts()).to.have.deep.members([
        ['main.js', 'import { add } from "./util.js"\n'],
        ['util.js', 'export const add = (a, b) => a + b\n'],
      ])
      button(item(ins.root, 'Two files')!, /^Preview/)!.click()
      await waitFor(() => button(ins.root.querySelector('[part=preview]') ?? ins.root, /^Download main\.js$/) !== undefined, 6000, 'the preview')
      const select = ins.root.querySelector('[part=preview] select') as HTMLSelectElement
      select.value = 'util.js'
      select.dispatchEvent(new Event('change'))
      await ins.el.updateComplete
      button(ins.root.querySelector('[part=preview]')!, /^Download util\.js$/)!.click()
      await waitFor(() => downloads.files.length === 3, 4000, 'one more download')
      expect((await downloads.texts())[2]).to.deep.equal(['util.js', 'export const add = (a, b) => a + b\n'])
    } finally {
      downloads.restore()
    }
    await expect(ins.el).to.be.accessible()
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
