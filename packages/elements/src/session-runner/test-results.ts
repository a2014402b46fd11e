import { html, nothing } from 'lit'
import type { TestResult } from '@session-kit/core'

/** One test as shown, from a run in the page or on the server. */
export interface ShownTest extends TestResult {
  /** From a test file only the server has (instructors see its tests' names). */
  hidden?: boolean
}

/** Moves an editor to a line of a file: a function to call, or null when no editor shows that file. */
export type LineOpener = (file: string, line: number) => (() => void) | null

/** "3 of 4 tests passed"; "No tests ran". */
export function testSummary(tests: readonly { passed: boolean }[]): string {
  if (!tests.length) return 'No tests ran'
  const passed = tests.filter((t) => t.passed).length
  return `${passed} of ${tests.length} test${tests.length === 1 ? '' : 's'} passed`
}

const ms = (n: number) => (n < 1 ? 'under 1 ms' : `${Math.round(n).toLocaleString('en')} ms`)

function where(t: ShownTest, open: LineOpener) {
  if (!t.line || !t.file) return nothing
  const text = `${t.file}, line ${t.line}`
  const go = open(t.file, t.line)
  return go ? html`<button part="test-line" class="where" type="button" @click=${go}>Go to ${text}</button>` : html`<span class="where">${text}</span>`
}

/**
 * The tests of a run, each with its outcome (a sign and a word, never colour alone), its name, how
 * long it took, why it failed and the line it points at (a button to that line when an editor on
 * the page shows its file).
 */
export function testList(tests: readonly ShownTest[], label: string, open: LineOpener) {
  return html`<ul part="tests" class="tests" aria-label=${label}>
    ${tests.map(
      (t) => html`<li part="test ${t.passed ? 'test-passed' : 'test-failed'}" class="test ${t.passed ? 'passed' : 'failed'}">
        <span class="outcome tone ${t.passed ? 'ok' : 'danger'}"><span aria-hidden="true">${t.passed ? '✓' : '✗'}</span> ${t.passed ? 'Passed' : 'Failed'}</span>
        <span class="name">${t.name}${t.hidden ? html` <span class="hidden-tag">(hidden test)</span>` : nothing}</span>
        <span class="time">${ms(t.durationMs)}</span>
        ${t.message ? html`<div class="message">${t.message}</div>` : nothing} ${where(t, open)}
      </li>`,
    )}
  </ul>`
}
