import { html, nothing } from 'lit'
import type { AssignmentRoom, GradeState, NotOpenedLearner } from '@session-kit/core'
import { clockTime, relativeTime } from '../internal/format.js'
import type { PeekView } from './room-peek.js'

export interface TileActions {
  /** Whether this tile holds the grid's focus stop. */
  active: boolean
  focus: () => void
  open: () => void
  message: () => void
  /** With a lecture room: show this room there, or end it (`on`: this room is the one shown). */
  spotlight?: { on: boolean; busy: boolean; toggle: () => void }
}

/** "Tests 3/5", in words and with a tone. */
function tests(r: AssignmentRoom) {
  if (!r.tests) return html`<span class="tone">No tests checked yet</span>`
  const total = r.tests.passed + r.tests.failed
  const ok = r.tests.status === 'passed'
  const words = r.tests.status === 'error' || r.tests.status === 'timeout' ? `Tests did not finish (${r.tests.status})` : `Tests ${r.tests.passed}/${total} passed`
  return html`<span class="tone ${ok ? 'ok' : 'danger'}"><span aria-hidden="true">${ok ? '✓' : '✗'}</span> ${words}</span>`
}

/** A score as a gradebook shows it: "80", "83.3". */
const points = (n: number | null) => String(Math.round((n ?? 0) * 10) / 10)

/** Where the learner's grade stands on its way to the LMS, in a few words, with a tone (and the whole reason in a tooltip). */
export function gradeWords(g: GradeState): { text: string; tone: '' | 'ok' | 'warning' | 'danger'; title: string } {
  const reason = g.error ?? ''
  const short = reason.length > 90 ? `${reason.slice(0, 90)}…` : reason
  if (g.status === 'sent') return { text: `Grade sent ${points(g.score)}/${points(g.scoreMaximum ?? 100)}`, tone: 'ok', title: '' }
  if (g.status === 'failed') return { text: `Grade failed: ${short || 'not sent'} — gave up`, tone: 'danger', title: reason }
  if (g.status === 'sending' && reason) return { text: `Grade failed: ${short} — retrying`, tone: 'warning', title: reason }
  return { text: g.status === 'waiting' ? 'Grading the submission…' : 'Sending the grade…', tone: '', title: '' }
}

function grade(g: GradeState | undefined) {
  if (!g) return nothing
  const w = gradeWords(g)
  return html`<span part="grade" class="tone ${w.tone}" title=${w.title || nothing}>${w.text}</span>`
}

/** What a screen reader hears on the tile: the whole state in one sentence. */
function label(r: AssignmentRoom, online: boolean, hand: boolean) {
  const parts = [r.name, online ? 'online' : 'offline']
  if (hand) parts.push('hand raised')
  if (r.tests) parts.push(`tests ${r.tests.passed} of ${r.tests.passed + r.tests.failed} passed`)
  if (r.submittedAt) parts.push('submitted')
  if (r.grade) parts.push(gradeWords(r.grade).text)
  if (r.attention.length) parts.push('needs attention')
  return parts.join(', ')
}

/** One learner's tile: who, how they are doing, and their code as they type it. */
export function tile(r: AssignmentRoom, view: PeekView | null, a: TileActions) {
  // The room's own connection knows sooner than the last poll whether they are here and their hand.
  const online = view?.online ?? r.online
  const hand = view?.status === 'live' ? view.hand : r.hand
  const question = hand && 'question' in hand ? hand.question : ''
  const live = view?.status === 'live'
  const tab = a.active ? 0 : -1
  const id = `t-${r.userId.replace(/[^\w-]/g, '_')}`
  return html`<li
    part="tile${hand ? ' tile-hand' : ''}${r.attention.length ? ' tile-attention' : ''}"
    class="tile ${hand ? 'hand' : ''} ${r.attention.length ? 'attention' : ''}"
    data-user=${r.userId}
    tabindex=${tab}
    aria-label=${label(r, online, Boolean(hand))}
    @focus=${a.focus}
  >
    <div class="tile-head">
      <span class="dot ${online ? 'on' : ''}" aria-hidden="true"></span>
      <h3 id=${id} class="name">${r.name}</h3>
      ${hand ? html`<span class="badge hand-badge" title=${question || 'Hand raised'}><span aria-hidden="true">✋</span> Hand</span>` : nothing}
    </div>
    <p class="facts">
      <span>${online ? 'Online' : 'Offline'}${r.lastActivityAt ? html` · active ${relativeTime(r.lastActivityAt)}` : html` · not started`}</span>
      ${tests(r)}
      ${r.submittedAt ? html`<span class="tone ok">Submitted ${clockTime(r.submittedAt)}</span>` : nothing}
      ${grade(r.grade)}
    </p>
    ${question ? html`<p class="question">“${question}”</p>` : nothing}
    ${r.attention.length ? html`<p class="needs tone warning"><span aria-hidden="true">⚠</span> ${r.attention.join(' ')}</p>` : nothing}
    <div part="code" class="code ${live ? 'live' : 'paused'}" role="group" aria-label="${r.name}'s code${view?.file ? ` in ${view.file}` : ''}${live ? ', live' : ''}">
      ${view?.lines.length
        ? html`<pre>${view.lines.map((text, i) => html`<span class="line ${view.first + i === view.edited ? 'edited' : ''}"><span class="n">${view.first + i}</span>${text}</span>`)}</pre>`
        : html`<p class="note">${view && view.status !== 'idle' ? 'Loading code…' : 'Code appears when this tile is on screen.'}</p>`}
      ${view?.file ? html`<span class="file">${view.file}${live ? html` · <span class="live-tag">live</span>` : nothing}</span>` : nothing}
    </div>
    <div class="tile-actions">
      <button type="button" part="open-button" class="primary" tabindex=${tab} @click=${a.open} aria-describedby=${id}>Open</button>
      <button type="button" tabindex=${tab} @click=${a.message} aria-describedby=${id}>Message</button>
      ${a.spotlight
        ? html`<button type="button" part="spotlight-button" tabindex=${tab} aria-pressed=${String(a.spotlight.on)} ?disabled=${a.spotlight.busy} @click=${a.spotlight.toggle} aria-describedby=${id}>
            ${a.spotlight.on ? 'End spotlight' : 'Spotlight in lecture'}
          </button>`
        : nothing}
    </div>
  </li>`
}

/**
 * A learner of the course (from the LMS roster) who has not opened the assignment: a row with no
 * room to open, their email to invite them where the LMS gave it.
 */
export function notOpenedRow(m: NotOpenedLearner) {
  return html`<li part="not-opened-learner" class="not-opened-learner" data-learner=${m.userId}>
    <span class="name">${m.name}</span>
    <span class="tone">Not opened yet</span>
    ${m.email ? html`<a href="mailto:${m.email}" title="Write to ${m.name} to invite them">${m.email}</a>` : nothing}
  </li>`
}
