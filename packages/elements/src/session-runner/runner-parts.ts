import { html, nothing, type TemplateResult } from 'lit'
import { guard } from 'lit/directives/guard.js'
import type { RunInfo, VerifiedRun } from '@session-kit/core'
import { relativeTime } from '../internal/format.js'
import type { OutputLine } from '../runners.js'
import type { ConsoleLines } from './console-lines.js'
import { activityText, formatCount, lineText, progressText, type RunProgress } from './run-report.js'
import { testList, type LineOpener } from './test-results.js'
import { verifyText, verifyTone, type VerifyState } from './verified-run.js'

/** A line of the console; an error's line number is a button to that line when `open` can go there. */
export function outputLine(l: OutputLine, open: ((line: number) => void) | null) {
  if (l.level === 'error' && l.line && open) {
    const line = l.line
    return html`<div part="line line-${l.level}" class="line ${l.level}">
      <button part="line-button" class="goto" type="button" @click=${() => open(line)}>line ${line}</button>: ${l.text}
    </div>`
  }
  return html`<div part="line line-${l.level}" class="line ${l.level}">${lineText(l)}</div>`
}

/**
 * The console: the lines drawn so far, the count of those left out (and, once the run has ended,
 * the download of them all), the last errors, and the program's question when it asks one.
 */
export function consolePanel(
  c: ConsoleLines,
  o: { open: ((line: number) => void) | null; download: { omitted: boolean; save(): void } | null; running: boolean; input: TemplateResult | typeof nothing },
) {
  const open = o.open
  return html`<div part="output" class="output" role="log" aria-label="Output" tabindex="0">
    ${!c.empty
      ? html`${guard([c.drawn, open !== null], () => c.shown.slice(0, c.drawn).map((l) => outputLine(l, open)))}${c.more
          ? html`<div part="more" class="more" aria-live="off">
              <span>… ${formatCount(c.more)} more line${c.more === 1 ? '' : 's'}</span>
              ${o.download
                ? html`<button part="download-button" type="button" @click=${o.download.save}>
                    Download the output${o.download.omitted ? ' (its first 50,000 lines)' : ''} as a text file
                  </button>`
                : nothing}
            </div>`
          : nothing}${guard([c.lateVersion, open !== null], () => c.late.map((l) => outputLine(l, open)))}`
      : o.input === nothing
        ? html`<div class="empty">${o.running ? 'Running…' : 'Output appears here.'}</div>`
        : nothing}
    ${o.input}
  </div>`
}

/** How far a runtime's download has come (a bar with a value), or that it is starting (a bar without). */
export function progressBar(p: RunProgress, name: string) {
  const sized = p.phase === 'download' && p.total > 0
  return html`<progress part="progress" aria-label=${p.phase === 'download' ? `Downloading ${name}` : `Starting ${name}`} aria-valuetext=${progressText(name, p)} max=${sized ? p.total : nothing} value=${sized ? p.loaded : nothing}></progress>`
}

function printed(output: VerifiedRun['output'], summary: string) {
  return html`<details class="server-output">
    <summary>${summary}</summary>
    <pre>${output.map((o) => html`<span class=${o.stream === 'stderr' ? 'error' : ''}>${o.text.endsWith('\n') ? o.text : `${o.text}\n`}</span>`)}</pre>
  </details>`
}

/** What the server says about the run it was asked for: on its way, or its outcome with each test. */
export function verifiedPanel(s: VerifyState | null, pending: boolean, open: LineOpener) {
  if (!s) return nothing
  const run = s.run && !pending && !s.error ? s.run : null
  return html`<section part="verified" class="verified" aria-label="Checked on the server">
    <p class="verdict tone ${verifyTone(s)}">${verifyText(s)}</p>
    ${run?.reason ? html`<p class="reason">${run.reason}</p>` : nothing} ${run?.withheld ? html`<p class="withheld">${run.withheld}</p>` : nothing}
    ${run?.tests.length ? testList(run.tests, 'Test results on the server', open) : nothing}
    ${run?.output.length ? printed(run.output, 'What it printed on the server') : nothing}
    ${run?.hiddenOutput?.length ? printed(run.hiddenOutput, 'What the hidden tests printed (shown to instructors only)') : nothing}
  </section>`
}

/** Recent runs by others in the room, those the server vouches for marked "✓ verified". */
export function activityList(activity: readonly RunInfo[]) {
  if (!activity.length) return nothing
  return html`<ul part="activity" class="activity" aria-label="Recent runs in the room">
    ${activity.map((r) => html`<li>${activityText(r)}${r.verified ? html` <span class="verified-mark tone ok">✓ verified</span>` : nothing} · ${relativeTime(r.at)}</li>`)}
  </ul>`
}
