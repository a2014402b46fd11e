import { html, nothing, css } from 'lit'
import { property, query, state } from 'lit/decorators.js'
import { guard } from 'lit/directives/guard.js'
import { DEFAULT_FILE, languageForFile, Permission, whyNot, type Language, type RunInfo } from '@session-kit/core'
import { SessionRunEvent } from '../events/events.js'
import { downloadBlob } from '../internal/download.js'
import { RoomController, roomUnavailable } from '../room-controller.js'
import { runnerFor, type OutputLine, type RunResult } from '../runners.js'
import { boxStyles, SessionElement, toneStyles, toolbarStyles } from '../session-element.js'
import { relativeTime } from '../internal/format.js'
import { formatCount, lineText, outputFile, reportOutput } from './run-report.js'
import { styles } from './session-runner.styles.js'

/**
 * What the console shows: the first 1,000 lines (or 200,000 characters), then a count of the rest,
 * then the last errors after that (the one that ended the program). The rest is in the download.
 */
const SHOWN = { lines: 1000, chars: 200_000, lateErrors: 20 }
/** New lines drawn per animation frame while output streams in: each frame's work stays small. */
const LINES_PER_FRAME = 200

export interface RunRequest {
  code?: string
  file?: string
  language?: string
}

/**
 * Runs the room's code where it cannot hurt the page and shows what it printed. JavaScript and
 * TypeScript run in a worker inside a sandboxed frame (no cookies, no storage, no network, no
 * access to this page), HTML and CSS as a sandboxed preview; a hard time limit stops endless loops
 * without freezing the tab. Each run is shared with the room ("Grace ran main.js — 2 errors") and
 * counted in its analytics. Outside a room, point it at a playground editor with `for`.
 *
 * The HTML preview cannot leave the page (links, forms, redirects and new windows go nowhere) or
 * reach the network in any way, WebRTC included. The console shows the first 1,000 lines of
 * output and counts the rest; the output, up to its first 50,000 lines (2 MB), can be downloaded
 * as a text file.
 *
 * @tag session-runner
 * @summary A sandboxed code runner with an output console.
 *
 * @csspart toolbar - The bar with the Run, Stop and Clear buttons.
 * @csspart run-button - The Run button.
 * @csspart status - What the last run did ("Ran in 31 ms — no errors").
 * @csspart output - The console output.
 * @csspart line - One line of output (also `line-error`, `line-warn`).
 * @csspart more - The row after the shown lines: "… 19,000 more lines" and the download button.
 * @csspart download-button - Downloads the output as a text file.
 * @csspart preview - The sandboxed preview of HTML and CSS.
 * @csspart activity - Recent runs by others in the room.
 *
 * @cssprop --session-runner-height - Height of the output area (default 12rem).
 * @cssprop --session-color-accent - The Run button.
 * @cssprop --session-font-mono - Font of the output.
 *
 * @event session-run - A run finished (`file`, `result`).
 */
export class SessionRunner extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, boxStyles, toolbarStyles, styles, toneStyles]

  /** The room file to run (default: the session's first file). */
  @property({ reflect: true }) file?: string

  /** The language to run as (default: from the file name). */
  @property({ reflect: true }) language?: string

  /** Id of a `<session-editor>` whose code to run instead of the room's file (for playgrounds). */
  @property({ reflect: true, attribute: 'for' }) for?: string

  /** Hard time limit in seconds. */
  @property({ type: Number, reflect: true }) timeout = 5

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _running = false
  @state() private _status = ''
  @state() private _statusKind: 'ok' | 'danger' | '' = ''
  @state() private _activity: RunInfo[] = []
  @state() private _notice = ''

  @state() private _result: RunResult | null = null
  @state() private _resultFile = ''

  @query('.preview-host') private _previewHost!: HTMLElement

  /** The console, filled as output arrives and drawn at most once a frame (see #take). */
  #shown: OutputLine[] = []
  #shownChars = 0
  #cut = false
  #more = 0
  #late: OutputLine[] = []
  #drawn = 0
  #lateVersion = 0
  #frame = 0
  #abort: AbortController | null = null
  #room = new RoomController(this, {
    needsDocument: true,
    events: {
      run: (e) => {
        const run = e.run
        if (run.userId !== this.#room.state?.participant?.userId) this._activity = [run, ...this._activity].slice(0, 5)
      },
      rate_limited: (e) => {
        if (e.what === 'run') this._notice = e.message
      },
    },
  })

  get #target(): { file: string; language: string; code: string | undefined } {
    const editor = this.for ? (this.ownerDocument.getElementById(this.for) as (HTMLElement & { value?: string; file?: string; language?: string }) | null) : null
    const room = this.#room.state
    const file = this.file ?? editor?.file ?? room?.source?.files()[0] ?? DEFAULT_FILE[(room?.session?.language as Language) ?? 'javascript']
    const language = this.language ?? editor?.language ?? languageForFile(file, (room?.session?.language as Language) ?? 'javascript')
    const code = editor ? editor.value : room?.source?.synced ? room.source.text(file) : undefined
    return { file, language, code }
  }

  /** Why the participant may not run code here, or null. */
  get #blocked(): string | null {
    const room = this.#room.state
    if (this.for || !room) return null
    const unavailable = roomUnavailable(room)
    if (unavailable || !room.participant) return unavailable ?? 'Connecting…'
    const ctx = room.context
    return ctx ? (whyNot(ctx, Permission.EXECUTE_CODE)?.message ?? null) : 'Connecting…'
  }

  /** Whether this participant may run code (for the editor's Run button). */
  get canRun(): boolean {
    return this.#blocked === null
  }

  /** Run code (by default the room's file) and show its output. */
  async run(request: RunRequest = {}): Promise<RunResult | null> {
    if (this._running) return null
    const blocked = this.#blocked
    if (blocked) {
      this._notice = blocked
      return null
    }
    const target = this.#target
    const file = request.file ?? target.file
    const language = (request.language ?? target.language).toLowerCase()
    const code = request.code ?? target.code
    if (code === undefined) {
      this._notice = 'The code has not loaded yet.'
      return null
    }
    const runner = runnerFor(language)
    if (!runner) {
      this._status = `There is no runner for ${language} on this page.`
      this._statusKind = 'danger'
      return null
    }
    this.#clearPreview()
    this.#clearOutput()
    this._running = true
    this._status = `Running ${file}…`
    this._statusKind = ''
    this.#abort = new AbortController()
    await this.updateComplete
    const result = await runner.run(code, {
      timeoutMs: Math.max(0.1, this.timeout) * 1000,
      container: this._previewHost,
      signal: this.#abort.signal,
      onOutput: (line) => this.#take(line),
      onOmitted: (n) => this.#omit(n),
    })
    this.#draw()
    this._result = result
    this._resultFile = file
    this._running = false
    this.#abort = null
    // A run that could not start, or was stopped, says so in its own words (its last line).
    this._status = result.notStarted || result.timedOut
      ? (result.output.at(-1)?.text ?? 'Stopped.')
      : `Ran ${file} in ${result.durationMs} ms — ${result.errors ? `${result.errors} error${result.errors === 1 ? '' : 's'}` : 'no errors'}`
    this._statusKind = result.ok ? 'ok' : 'danger'
    this._notice = this._status
    // A run that never started is not shared with the room or counted.
    if (!result.notStarted) this.#report(file, language, result)
    this.dispatchEvent(new SessionRunEvent(file, result))
    return result
  }

  /** Stop the current run. */
  stop() {
    this.#abort?.abort()
  }

  clear() {
    this.#clearOutput()
    this._status = ''
    this._statusKind = ''
    this.#clearPreview()
  }

  #clearPreview() {
    this._previewHost?.replaceChildren()
  }

  #clearOutput() {
    cancelAnimationFrame(this.#frame)
    this.#frame = 0
    this.#shown = []
    this.#shownChars = 0
    this.#cut = false
    this.#more = 0
    this.#late = []
    this.#drawn = 0
    this.#lateVersion++
    this._result = null
    this.requestUpdate()
  }

  /** A line of output: shown, counted, or (an error after the cut) kept among the last errors. */
  #take(line: OutputLine) {
    if (!this.#cut && this.#shown.length < SHOWN.lines && this.#shownChars + line.text.length <= SHOWN.chars) {
      this.#shown.push(line)
      this.#shownChars += line.text.length
    } else {
      this.#cut = true
      if (line.level === 'error') {
        this.#late.push(line)
        this.#lateVersion++
        if (this.#late.length > SHOWN.lateErrors) {
          this.#late.shift()
          this.#more++
        }
      } else this.#more++
    }
    this.#schedule()
  }

  #omit(count: number) {
    this.#cut = true
    this.#more += count
    this.#schedule()
  }

  /**
   * Draw at most once per frame, and at most LINES_PER_FRAME new lines each time, however fast
   * lines come: the page's work for output stays small in every frame.
   */
  #schedule() {
    this.#frame ||= requestAnimationFrame(() => {
      this.#frame = 0
      this.#drawn = Math.min(this.#shown.length, this.#drawn + LINES_PER_FRAME)
      this.requestUpdate()
      if (this.#drawn < this.#shown.length) this.#schedule()
    })
  }

  /** Draw everything now (the run has ended). */
  #draw() {
    cancelAnimationFrame(this.#frame)
    this.#frame = 0
    this.#drawn = this.#shown.length
    this.requestUpdate()
  }

  #download() {
    if (!this._result) return
    downloadBlob(outputFile(this._result), `${this._resultFile}-output.txt`, this)
  }

  #report(file: string, language: string, result: RunResult) {
    const room = this.#room.state
    if (!room || this.for) return
    room.client.send({ type: 'run', run: { file, language, ok: result.ok, errors: result.errors, durationMs: result.durationMs, timedOut: result.timedOut, output: reportOutput(result) } })
  }

  #renderLine(l: OutputLine) {
    return html`<div part="line line-${l.level}" class="line ${l.level}">${lineText(l)}</div>`
  }

  protected override render() {
    const blocked = this.#blocked
    const target = this.#target
    return html`
      <div part="toolbar" class="toolbar">
        <button part="run-button" class="primary" type="button" ?disabled=${this._running || blocked !== null} aria-describedby=${blocked ? 'why' : nothing} @click=${() => this.run()}>
          Run ${target.file}
        </button>
        ${this._running ? html`<button type="button" @click=${() => this.stop()}>Stop</button>` : nothing}
        <button type="button" ?disabled=${this._running || (!this.#shown.length && !this.#more && !this._status)} @click=${() => this.clear()}>Clear</button>
        ${blocked ? html`<span id="why" class="why tone warning">${blocked}</span>` : html`<span part="status" class="status tone ${this._statusKind}">${this._status}</span>`}
      </div>
      <div part="output" class="output" role="log" aria-label="Output">
        ${this.#drawn || this.#more || this.#late.length
          ? html`${guard([this.#drawn], () => this.#shown.slice(0, this.#drawn).map((l) => this.#renderLine(l)))}${this.#more
              ? html`<div part="more" class="more" aria-live="off">
                  <span>… ${formatCount(this.#more)} more line${this.#more === 1 ? '' : 's'}</span>
                  ${this._result && !this._running
                    ? html`<button part="download-button" type="button" @click=${() => this.#download()}>
                        Download the output${this._result.omitted ? ' (its first 50,000 lines)' : ''} as a text file
                      </button>`
                    : nothing}
                </div>`
              : nothing}${guard([this.#lateVersion], () => this.#late.map((l) => this.#renderLine(l)))}`
          : html`<div class="empty">${this._running ? 'Running…' : 'Output appears here.'}</div>`}
      </div>
      <div class="preview-host" part="preview"></div>
      ${this._activity.length
        ? html`<ul part="activity" class="activity" aria-label="Recent runs in the room">
            ${this._activity.map(
              (r) => html`<li>${r.name} ran ${r.file} — ${r.timedOut ? 'stopped by the time limit' : r.errors ? `${r.errors} error${r.errors === 1 ? '' : 's'}` : 'no errors'} · ${relativeTime(r.at)}</li>`,
            )}
          </ul>`
        : nothing}
      <div class="visually-hidden" role="status" aria-live="polite">${this._notice}</div>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-runner': SessionRunner
  }
}
