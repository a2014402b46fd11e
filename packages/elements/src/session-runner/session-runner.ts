import { html, nothing, css } from 'lit'
import { property, query, state } from 'lit/decorators.js'
import { DEFAULT_FILE, languageForFile, MAX_RUN_OUTPUT, Permission, type Language, type RunInfo } from '@session-kit/core'
import { SessionRunEvent } from '../events/events.js'
import { RoomController } from '../internal/room-controller.js'
import { runnerFor, type OutputLine, type RunResult } from '../internal/runners/runners.js'
import { SessionElement } from '../internal/session-element.js'
import { relativeTime } from '../internal/format.js'

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
 * @tag session-runner
 * @summary A sandboxed code runner with an output console.
 *
 * @csspart toolbar - The bar with the Run, Stop and Clear buttons.
 * @csspart run-button - The Run button.
 * @csspart status - What the last run did ("Ran in 31 ms — no errors").
 * @csspart output - The console output.
 * @csspart line - One line of output (also `line-error`, `line-warn`).
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
  static override styles = [
    SessionElement.baseStyles,
    css`
      :host {
        display: block;
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        background: var(--_bg);
        overflow: hidden;
      }
      .toolbar {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        padding: 0.35rem 0.5rem;
        background: var(--_surface);
        border-bottom: 1px solid var(--_border);
        font-size: 0.85rem;
        flex-wrap: wrap;
      }
      .status {
        color: var(--_muted);
      }
      .status.bad {
        color: var(--_danger);
      }
      .status.good {
        color: var(--_ok);
      }
      .why {
        color: var(--_warning);
      }
      .output {
        margin: 0;
        padding: 0.4rem 0.6rem;
        list-style: none;
        font-family: var(--_mono);
        font-size: 0.85rem;
        max-height: var(--session-runner-height, 12rem);
        min-height: 2.5rem;
        overflow: auto;
      }
      .output .line {
        white-space: pre-wrap;
        word-break: break-word;
        border-bottom: 1px solid color-mix(in srgb, var(--_border) 40%, transparent);
        padding: 0.1rem 0;
      }
      .output .error {
        color: var(--_danger);
      }
      .output .warn {
        color: var(--_warning);
      }
      .empty {
        color: var(--_muted);
        font-family: var(--_font);
      }
      .preview-host iframe.preview {
        display: block;
        width: 100%;
        height: var(--session-runner-preview-height, 14rem);
        border: 0;
        border-top: 1px solid var(--_border);
        background: #fff;
      }
      .preview-host iframe.hidden-frame {
        display: none;
      }
      .activity {
        margin: 0;
        padding: 0.3rem 0.6rem;
        border-top: 1px solid var(--_border);
        font-size: 0.8rem;
        color: var(--_muted);
        list-style: none;
      }
    `,
  ]

  /** The room file to run (default: the session's first file). */
  @property({ reflect: true }) file?: string

  /** The language to run as (default: from the file name). */
  @property({ reflect: true }) language?: string

  /** Id of a `<session-editor>` whose code to run instead of the room's file (for playgrounds). */
  @property({ reflect: true, attribute: 'for' }) for?: string

  /** Hard time limit in seconds. */
  @property({ type: Number, reflect: true }) timeout = 5

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _lines: OutputLine[] = []
  @state() private _running = false
  @state() private _status = ''
  @state() private _statusKind: 'good' | 'bad' | '' = ''
  @state() private _activity: RunInfo[] = []
  @state() private _notice = ''

  @query('.preview-host') private _previewHost!: HTMLElement

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
    const file = this.file ?? editor?.file ?? room?.doc?.files()[0] ?? DEFAULT_FILE[(room?.session?.language as Language) ?? 'javascript']
    const language = this.language ?? editor?.language ?? languageForFile(file, (room?.session?.language as Language) ?? 'javascript')
    const code = editor ? editor.value : room?.doc?.synced ? room.doc.text(file) : undefined
    return { file, language, code }
  }

  /** Why the participant may not run code here, or null. */
  get #blocked(): string | null {
    const room = this.#room.state
    if (this.for || !room) return null
    if (!room.participant) return 'Connecting…'
    if (room.can(Permission.EXECUTE_CODE)) return null
    if (room.participant.role === 'observer') return 'Observers can watch the code but not run it.'
    if (room.participant.muted) return 'You are muted by the instructor, so you cannot run code.'
    return 'Your role cannot run code here.'
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
      this._statusKind = 'bad'
      return null
    }
    this.#clearPreview()
    this._lines = []
    this._running = true
    this._status = `Running ${file}…`
    this._statusKind = ''
    this.#abort = new AbortController()
    await this.updateComplete
    const result = await runner.run(code, {
      timeoutMs: Math.max(0.1, this.timeout) * 1000,
      container: this._previewHost,
      signal: this.#abort.signal,
      onOutput: (line) => (this._lines = [...this._lines, line]),
    })
    this._running = false
    this.#abort = null
    this._status = result.timedOut
      ? (result.output.at(-1)?.text ?? 'Stopped.')
      : `Ran ${file} in ${result.durationMs} ms — ${result.errors ? `${result.errors} error${result.errors === 1 ? '' : 's'}` : 'no errors'}`
    this._statusKind = result.ok ? 'good' : 'bad'
    this._notice = this._status
    this.#report(file, language, result)
    this.dispatchEvent(new SessionRunEvent(file, result))
    return result
  }

  /** Stop the current run. */
  stop() {
    this.#abort?.abort()
  }

  clear() {
    this._lines = []
    this._status = ''
    this._statusKind = ''
    this.#clearPreview()
  }

  #clearPreview() {
    this._previewHost?.replaceChildren()
  }

  #report(file: string, language: string, result: RunResult) {
    const room = this.#room.state
    if (!room || this.for) return
    let output = result.output.map((l) => (l.level === 'error' && l.line ? `line ${l.line}: ${l.text}` : l.text)).join('\n')
    if (output.length > MAX_RUN_OUTPUT) output = output.slice(0, MAX_RUN_OUTPUT - 1) + '…'
    room.client.send({ type: 'run', run: { file, language, ok: result.ok, errors: result.errors, durationMs: result.durationMs, timedOut: result.timedOut, output } })
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
        <button type="button" ?disabled=${this._running || (!this._lines.length && !this._status)} @click=${() => this.clear()}>Clear</button>
        ${blocked ? html`<span id="why" class="why">${blocked}</span>` : html`<span part="status" class="status ${this._statusKind}">${this._status}</span>`}
      </div>
      <div part="output" class="output" role="log" aria-label="Output">
        ${this._lines.length
          ? this._lines.map((l) => html`<div part="line line-${l.level}" class="line ${l.level}">${l.line ? `line ${l.line}: ` : ''}${l.text}</div>`)
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
