import { html, nothing } from 'lit'
import type { AssignmentUpdate, VerifiedRun } from '@session-kit/core'
import { clockTime, count, relativeTime } from '../internal/format.js'
import { lineDiff, withContext } from '../internal/line-diff.js'

/** "Due Fri 14 Mar, 17:00 (in 2 days)", or "Was due …" once it has passed. */
export function dueLine(dueAt: string | null, now = Date.now()) {
  if (!dueAt) return nothing
  const past = new Date(dueAt).getTime() < now
  return html`<p part="due" class="due tone ${past ? 'warning' : ''}">
    ${past ? 'Was due' : 'Due'} <time datetime=${dueAt}>${clockTime(dueAt, new Date(now))}</time> (${relativeTime(dueAt, now)})
  </p>`
}

/**
 * The result that counts: the latest tests run the server made itself from the stored code,
 * hidden tests included (their names only, for a learner).
 */
export function verifiedResult(run: VerifiedRun | null, hiddenTestCount: number) {
  const hidden = hiddenTestCount ? ` (${count(hiddenTestCount, 'hidden test')} included)` : ''
  if (!run) {
    return html`<section part="result" class="result" aria-labelledby="result-title">
      <h3 id="result-title">The result that counts</h3>
      <p class="note">No check on the server yet. Use “Check on the server” in the runner: the server runs every test${hidden} on your saved code.</p>
    </section>`
  }
  const passed = run.tests.filter((t) => t.passed).length
  const total = run.tests.length
  const ok = run.status === 'passed'
  const words =
    run.status === 'error' || run.status === 'timeout'
      ? `The tests could not finish: ${run.reason ?? run.status}`
      : total
        ? `${passed} of ${count(total, 'test')} passed`
        : 'No tests ran'
  const failed = run.tests.filter((t) => !t.passed)
  return html`<section part="result" class="result ${ok ? 'ok' : 'failed'}" aria-labelledby="result-title">
    <h3 id="result-title">The result that counts</h3>
    <p><strong class="tone ${ok ? 'ok' : 'danger'}"><span aria-hidden="true">${ok ? '✓' : '✗'}</span> ${words}</strong>
      <span class="note">— verified on the server <time datetime=${run.finishedAt ?? run.createdAt}>${clockTime(run.finishedAt ?? run.createdAt)}</time>${hidden}</span></p>
    ${failed.length
      ? html`<ul class="failed-tests" aria-label="Tests that failed">
          ${failed.slice(0, 8).map((t) => html`<li>${t.name}${t.message ? html`: <span class="note">${t.message}</span>` : nothing}</li>`)}
          ${failed.length > 8 ? html`<li class="note">and ${failed.length - 8} more</li>` : nothing}
        </ul>`
      : nothing}
  </section>`
}

/** A starter file's change offered to the learner: what it would change in their file, and a button to take it. */
export function updateCard(update: AssignmentUpdate, busy: boolean, accept: () => void) {
  const lines = withContext(lineDiff(update.yours ?? '', update.starter))
  return html`<li part="update" class="update">
    <p><strong>${update.file}</strong>: the instructor changed the starter code ${relativeTime(update.offeredAt)}.
      ${update.yours === null ? 'This file is not in your room any more.' : 'Taking it replaces your version of this file.'}</p>
    <pre class="diff" tabindex="0" aria-label="Changes to ${update.file}: lines removed from your version and lines added">${lines.map((l) =>
      l === null
        ? html`<span class="line gap" aria-hidden="true">⋯</span>`
        : html`<span class="line ${l.kind}"><span class="sign" aria-hidden="true">${l.kind === 'add' ? '+' : l.kind === 'del' ? '−' : ' '}</span><span class="visually-hidden">${l.kind === 'add' ? 'added: ' : l.kind === 'del' ? 'removed: ' : ''}</span>${l.text}</span>`,
    )}</pre>
    <button type="button" part="accept-update" ?disabled=${busy} @click=${accept}>Use the new starter code for ${update.file}</button>
  </li>`
}
