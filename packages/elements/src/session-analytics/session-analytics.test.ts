import { expect, fixture } from '@open-wc/testing'
import { setViewport } from '@web/test-runner-commands'
import { html } from 'lit'
import '../define/session-analytics.js'
import '../define/session-editor.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionAnalytics } from './session-analytics.js'
import { api, createSession, freshSid, live, testServer, token, typeAt, waitFor } from '../test-support/room.js'

/** Every analytics request this page makes. */
const requests: string[] = []
const realFetch = window.fetch.bind(window)
window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const url = String(input instanceof Request ? input.url : input)
  if (url.includes('/analytics')) requests.push(url)
  return realFetch(input, init)
}

async function analytics(sid: string, role: 'instructor' | 'learner' | 'observer', user: string, name: string, hidden = false) {
  const { url } = await testServer()
  const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, role, user, name)}>
    <session-editor></session-editor>
    <div ?hidden=${hidden}><session-analytics></session-analytics></div>
  </session-room>`)
  const el = room.querySelector('session-analytics') as SessionAnalytics
  await waitFor(() => room.status === 'live', 6000, `${role} live`)
  return { room, el, root: el.shadowRoot!, editor: room.querySelector('session-editor')! }
}

const button = (scope: ParentNode, label: RegExp) => [...scope.querySelectorAll('button')].find((b) => label.test(b.textContent!.trim())) as HTMLButtonElement | undefined
const card = (root: ShadowRoot, label: string) => [...root.querySelectorAll('.card')].find((c) => c.querySelector('dt')!.textContent === label)?.querySelector('dd')?.textContent?.trim() ?? ''
/** A card as it reads: label, figure and what the figure is, in plain words. */
const cardWords = (root: ShadowRoot, label: string) => ([...root.querySelectorAll('.card')].find((c) => c.querySelector('dt')!.textContent === label) as HTMLElement | undefined)?.innerText.replace(/\s+/g, ' ').trim() ?? ''
const names = (root: ShadowRoot) => [...root.querySelectorAll('table[part=table] tbody th')].map((th) => th.textContent!.replace('(online)', '').replace('●', '').trim())

/**
 * Edits are counted a moment after they are stored, and typing is not announced to the element:
 * ask again until `counted`.
 */
async function recount(el: SessionAnalytics, counted: () => boolean) {
  for (let i = 0; i < 20 && !counted(); i++) {
    el.reload()
    await new Promise((r) => setTimeout(r, 500))
  }
  expect(counted(), el.shadowRoot!.textContent!).to.equal(true)
}

describe('<session-analytics>', () => {
  it('shows an instructor the cards, a sortable table, the trend and who needs attention; fetches nothing while hidden', async () => {
    const sid = freshSid('stats')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const lea = await analytics(sid, 'learner', 'lea', 'Grace')
    const view = await live(lea.editor)
    typeAt(view, 0, 'let x = 1')
    typeAt(view, view.state.doc.length, '\nlet y = 2')
    for (let i = 0; i < 3; i++) lea.room.client!.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok: false, errors: 1, durationMs: 3, output: 'ReferenceError: z is not defined' } })
    lea.room.client!.send({ type: 'chat', text: 'stuck on this' })

    // The instructor's requests (the learner's own element, on screen, asks for …/analytics/me).
    const full = () => requests.filter((u) => u.includes('/analytics?')).length
    const before = full()
    const ins = await analytics(sid, 'instructor', 'ins', 'Ada', true)
    await new Promise((r) => setTimeout(r, 400))
    expect(full()).to.equal(before, 'nothing is fetched while the element is not on screen')
    expect(ins.root.textContent).to.contain('load when they are on screen')
    ;(ins.el.parentElement as HTMLElement).hidden = false
    ins.el.scrollIntoView()
    await waitFor(() => card(ins.root, 'Runs').startsWith('3'), 8000, 'figures loaded')
    expect(full()).to.be.greaterThan(before)
    expect(card(ins.root, 'Participants')).to.match(/^2/)
    await recount(ins.el, () => /^[1-9]/.test(card(ins.root, 'Code changes')))
    expect(card(ins.root, 'Code changes')).to.match(/^[1-9]/)
    expect(names(ins.root)).to.have.members(['Ada', 'Grace'])

    // Needs attention: Grace's last three runs failed.
    const attention = ins.root.querySelector('[part=attention]')!
    expect(attention.textContent).to.contain('Grace')
    expect(attention.textContent).to.contain('Their last 3 runs failed.')

    // Sort by name, both ways; the header says how it is sorted.
    button(ins.root, /^Name$/)!.click()
    await ins.el.updateComplete
    expect(names(ins.root)).to.deep.equal(['Ada', 'Grace'])
    expect(ins.root.querySelector('th[aria-sort]')!.getAttribute('aria-sort')).to.equal('ascending')
    button(ins.root, /^Name$/)!.click()
    await ins.el.updateComplete
    expect(names(ins.root)).to.deep.equal(['Grace', 'Ada'])
    button(ins.root, /^Runs$/)!.click()
    await ins.el.updateComplete
    expect(names(ins.root)[0]).to.equal('Grace', 'most runs first')

    // The chart draws both lines, with a text description and a data table behind it.
    const lines = ins.root.querySelectorAll('svg polyline')
    expect(lines.length).to.equal(2)
    expect(lines[0]!.getAttribute('points')!.split(' ').length).to.be.greaterThan(0)
    expect(ins.root.querySelector('svg desc')!.textContent).to.match(/code changes and 3 runs/)
    expect(ins.root.querySelectorAll('details tbody tr').length).to.be.greaterThan(0)
    // The chart's description leads to its table, and the table has a row for every point above zero.
    expect(ins.root.querySelector('svg desc')!.textContent).to.match(/The data table below lists the \d+ minutes? with activity\.$/)
    const raised = new Set([...lines].flatMap((l) => l.getAttribute('points')!.split(' ').flatMap((xy, i) => (Number(xy.split(',')[1]) < 160 ? [i] : []))))
    expect(ins.root.querySelectorAll('details tbody tr').length, 'a row for each point above zero').to.be.at.least(raised.size)
    await expect(ins.el).to.be.accessible()

    // Range switch and pseudonyms refetch at once.
    const count = requests.length
    ;(ins.root.querySelector('input[value="1h"]') as HTMLInputElement).click()
    await waitFor(() => requests.slice(count).some((u) => u.includes('/analytics?range=1h')), 4000, 'refetched for the last hour')
    ;(ins.root.querySelector('input[type=checkbox]') as HTMLInputElement).click()
    await waitFor(() => names(ins.root).includes('Participant 2'), 4000, 'pseudonyms')
    expect(names(ins.root)).to.not.include('Grace')
    expect(ins.root.querySelector('[part=attention]')!.textContent).to.contain('Participant 1', 'Grace joined first')
    expect(button(ins.root, /^Export CSV$/)).to.not.equal(undefined)

    // A learner sees only their own counts, never a score or anyone else.
    lea.el.scrollIntoView()
    // Its first load came before the runs were stored; the room's run events refresh it (within 5 s).
    await waitFor(() => card(lea.root, 'Runs') === '3', 8000, 'own activity, refreshed live')
    expect(lea.root.textContent).to.not.contain('Engagement')
    expect(lea.root.textContent).to.not.contain('Ada')
    expect(button(lea.root, /^Export/)).to.equal(undefined)
    await expect(lea.el).to.be.accessible()
  })

  it('says its figures in plain words', async () => {
    const sid = freshSid('stats-words')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const lea = await analytics(sid, 'learner', 'lea', 'Grace')
    typeAt(await live(lea.editor), 0, 'let x = 1')
    lea.el.scrollIntoView()
    // The nine characters may be stored as several changes: count until all of them are.
    await recount(lea.el, () => /\b9 characters added/.test(cardWords(lea.root, 'Code changes')))
    expect(cardWords(lea.root, 'Active')).to.match(/^Active [12] min counting each minute in which you edited, ran code or chatted$/)
    expect(cardWords(lea.root, 'Code changes')).to.match(/^Code changes \d+ 9 characters added, 0 removed$/)
    const ins = await analytics(sid, 'instructor', 'ins', 'Ada')
    ins.el.scrollIntoView()
    await waitFor(() => card(ins.root, 'Engagement') !== '', 8000, 'figures loaded')
    expect(cardWords(ins.root, 'Engagement')).to.match(/^Engagement \d+ out of 100: the learners’ average$/)
    expect(cardWords(ins.root, 'Active now')).to.match(/^Active now \d did something in the last 5 minutes$/)
    expect(cardWords(ins.root, 'Code changes')).to.match(/^Code changes \d+ [\d.]+ a minute$/)
    expect(ins.root.querySelector('details summary')!.textContent).to.match(/^Data table \((1 minute|2 minutes) with activity\)$/)
  })

  it('fits a 390 px phone: cards and controls wrap, the tables scroll inside, the page does not', async () => {
    const before = { width: window.innerWidth, height: window.innerHeight }
    await setViewport({ width: 390, height: 800 })
    try {
      const sid = freshSid('stats-phone')
      await createSession(sid, { 'main.js': '' }, 'ins')
      const { url } = await testServer()
      // A page's one-column grid: a column is as wide as its widest content lets it be.
      const page = await fixture<HTMLElement>(html`<div style="display: grid; grid-template-columns: 1fr; padding: 0 8px">
        <session-room server=${url} session=${sid} token=${await token(sid, 'instructor', 'ins', 'Ada Lovelace')}><session-analytics></session-analytics></session-room>
      </div>`)
      const el = page.querySelector('session-analytics') as SessionAnalytics
      await waitFor(() => el.shadowRoot!.querySelector('table[part=table] tbody tr') !== null, 10000, 'figures loaded')
      await el.updateComplete
      const root = el.shadowRoot!
      expect(document.documentElement.scrollWidth, 'the page scrolls sideways').to.be.at.most(window.innerWidth)
      expect(el.scrollWidth, 'the element overflows').to.be.at.most(el.clientWidth)
      const right = el.getBoundingClientRect().right
      expect(right).to.be.at.most(window.innerWidth)
      for (const [what, node] of [
        ['the Active now card', [...root.querySelectorAll('.card')].find((c) => c.querySelector('dt')!.textContent === 'Active now')],
        ['the pseudonyms checkbox', root.querySelector('input[type=checkbox]')?.parentElement],
        ['the ranges', root.querySelector('fieldset')],
        ['Export JSON', [...root.querySelectorAll('button')].find((b) => b.textContent === 'Export JSON')],
      ] as const) {
        expect(node, what).to.not.equal(undefined)
        expect(node!.getBoundingClientRect().right, `${what} is cut off`).to.be.at.most(right + 0.5)
      }
      await expect(el).to.be.accessible()
    } finally {
      await setViewport(before)
    }
  })

  it('a session with pseudonyms on: instructors see only pseudonyms, the box says so; a learner downloads their own data', async () => {
    const sid = freshSid('stats-pseudo')
    await createSession(sid, { 'main.js': '' }, 'ins')
    expect((await api('PATCH', `/v1/sessions/${sid}`, await token(sid, 'instructor', 'ins', 'Ada'), { pseudonymize: true })).status).to.equal(200)
    const lea = await analytics(sid, 'learner', 'lea', 'Grace')
    typeAt(await live(lea.editor), 0, 'x')
    const ins = await analytics(sid, 'instructor', 'ins', 'Ada')
    ins.el.scrollIntoView()
    await waitFor(() => names(ins.root).length === 2, 8000, 'figures loaded')
    expect(names(ins.root)).to.have.members(['Participant 1', 'Participant 2'])
    expect(ins.root.textContent).to.not.contain('Grace')
    const box = ins.root.querySelector('input[type=checkbox]') as HTMLInputElement
    expect(box.checked && box.disabled, 'checked and locked').to.equal(true)
    expect(box.parentElement!.textContent).to.contain('always on in this session')
    await expect(ins.el).to.be.accessible()

    // The learner's own data, as a file: what the server named it, and theirs only.
    lea.el.scrollIntoView()
    await waitFor(() => button(lea.root, /^Download my data$/) !== undefined, 8000, 'own activity')
    const saved: { name: string; href: string }[] = []
    lea.root.addEventListener('click', (e) => {
      const a = e.target as HTMLAnchorElement
      if (a.localName !== 'a' || !a.download) return
      saved.push({ name: a.download, href: a.href })
      e.preventDefault()
    })
    button(lea.root, /^Download my data$/)!.click()
    await waitFor(() => saved.length === 1, 5000, 'a JSON file')
    expect(saved[0]!.name).to.match(/^my-activity-stats-pseudo-[\w-]+\.json$/)
    const mine = await (await fetch(saved[0]!.href)).json()
    expect(mine.format).to.equal('session-kit-own-activity')
    expect(mine.userId).to.equal('lea')
    expect(mine.name).to.equal('Grace', 'their own data is never pseudonymised for them')
    button(lea.root, /^CSV$/)!.click()
    await waitFor(() => saved.length === 2, 5000, 'a CSV file')
    expect(saved[1]!.name).to.match(/\.csv$/)
    expect(await (await fetch(saved[1]!.href)).text()).to.match(/^userId,name,role,/)
    await expect(lea.el).to.be.accessible()
  })

  it('an observer sees their own activity; with show-denied, an explanation', async () => {
    const sid = freshSid('stats-obs')
    await createSession(sid, { 'main.js': 'x' }, 'ins')
    const obs = await analytics(sid, 'observer', 'obs', 'Linus')
    await waitFor(() => /Your activity/.test(obs.root.textContent!), 6000, 'own activity')
    expect(card(obs.root, 'Code changes')).to.match(/^0/)
    await expect(obs.el).to.be.accessible()
    obs.el.showDenied = true
    await obs.el.updateComplete
    expect(obs.root.querySelector('[part=denied]')!.textContent).to.contain('for instructors')
  })
})
