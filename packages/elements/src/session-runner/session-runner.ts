import { html, nothing } from 'lit'
import { property, query, state } from 'lit/decorators.js'
import { DEFAULT_FILE, isTestFile, languageForFile, Permission, runLanguage, whyNot, type Language, type RunInfo } from '@session-kit/core'
import { SessionRunEvent } from '../events/events.js'
import { downloadBlob } from '../internal/download.js'
import { RoomController, roomUnavailable } from '../room-controller.js'
import type { RoomState } from '../room-state.js'
import { runnerFor, type RunContext, type RunResult, type TestResult, type TestRunResult } from '../runners.js'
import { boxStyles, SessionElement, toneStyles, toolbarStyles } from '../session-element.js'
import type { TextSource } from '../text-source.js'
import { ConsoleLines } from './console-lines.js'
import { InputPrompt } from './input-prompt.js'
import { exampleTestFile, languageName, outputFile, progressText, reportOutput, type RunProgress } from './run-report.js'
import { activityList, consolePanel, progressBar, verifiedPanel } from './runner-parts.js'
import { styles } from './session-runner.styles.js'
import { testList, testSummary, type LineOpener } from './test-results.js'
import { ended, VerifiedRunController, verifyText, type VerifyKind } from './verified-run.js'

export interface RunRequest {
  code?: string
  file?: string
  language?: string
}

/** An editor on the page, as far as the runner uses one. */
type EditorLike = HTMLElement & { value?: string; file?: string; language?: string; goToLine?(line: number): void }

/**
 * Runs the room's code where it cannot hurt the page and shows what it printed. JavaScript and
 * TypeScript run in a worker inside a sandboxed frame (no cookies, no storage, no network, no
 * access to this page), HTML and CSS as a sandboxed preview; a hard time limit stops endless loops
 * without freezing the tab. Each run is shared with the room ("Grace ran main.js — 2 errors") and
 * counted in its analytics. Outside a room, point it at a playground editor with `for`.
 *
 * A language whose runtime is downloaded first (Python) shows how far the download has come. A
 * program that asks for input (`input()`) gets a field in the console.
 *
 * When the room has test files for the file's language (`test_main.py`, `main.test.js`), "Run
 * tests" runs them against the file and lists each test: passed or failed, why, how long it took,
 * and a button to the line a failure points at. In a room, "Check on the server" runs the tests
 * (or the program, when there are none) on the server, from the code as saved there: a result the
 * room can trust ("Verified on the server at version 1a2b3c4d: 3 of 4 tests passed").
 *
 * The HTML preview cannot leave the page (links, forms, redirects and new windows go nowhere) or
 * reach the network in any way, WebRTC included. The console shows the first 1,000 lines of
 * output and counts the rest; the output, up to its first 50,000 lines (2 MB), can be downloaded
 * as a text file.
 *
 * @tag session-runner
 * @summary A sandboxed code runner with an output console, tests and checks on the server.
 *
 * @csspart toolbar - The bar with the Run, Run tests, Check on the server, Stop and Clear buttons.
 * @csspart run-button - The Run button.
 * @csspart tests-button - The Run tests button (when the room has test files for the language).
 * @csspart verify-button - The Check on the server button (in a room).
 * @csspart status - What the last run did ("Ran in 31 ms — no errors", "3 of 4 tests passed").
 * @csspart progress - The bar of a runtime's download.
 * @csspart output - The console output.
 * @csspart line - One line of output (also `line-error`, `line-warn`).
 * @csspart line-button - The button on an error's line number that shows the line in the editor.
 * @csspart input - The field the program's `input()` is answered in, with its prompt.
 * @csspart more - The row after the shown lines: "… 19,000 more lines" and the download button.
 * @csspart download-button - Downloads the output as a text file.
 * @csspart tests - The list of test results (also inside `verified`).
 * @csspart test - One test (also `test-passed`, `test-failed`).
 * @csspart test-line - The button to the line a failed test points at.
 * @csspart verified - What the server said about the run it was asked for.
 * @csspart preview - The sandboxed preview of HTML and CSS.
 * @csspart activity - Recent runs by others in the room.
 *
 * @cssprop --session-runner-height - Height of the output area (default 12rem).
 * @cssprop --session-color-accent - The Run button.
 * @cssprop --session-font-mono - Font of the output.
 *
 * @event session-run - A run or test run in the page finished (`file`, `result`; a test run's
 * result has `tests`).
 */
export class SessionRunner extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, boxStyles, toolbarStyles, styles, toneStyles]

  /** The room file to run (default: the session's first file that is not a test file). */
  @property({ reflect: true }) file?: string

  /** The language to run as (default: from the file name). */
  @property({ reflect: true }) language?: string

  /** Id of a `<session-editor>` whose code to run instead of the room's file (for playgrounds). */
  @property({ reflect: true, attribute: 'for' }) for?: string

  /** Hard time limit in seconds (a runtime's download and start are not counted). */
  @property({ type: Number, reflect: true }) timeout = 5

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _running: 'program' | 'tests' | '' = ''
  @state() private _status = ''
  @state() private _statusKind: 'ok' | 'danger' | '' = ''
  @state() private _progress: RunProgress | null = null
  @state() private _activity: RunInfo[] = []
  @state() private _notice = ''

  @state() private _result: RunResult | null = null
  @state() private _resultFile = ''
  @state() private _tests: TestResult[] | null = null

  @query('.preview-host') private _previewHost!: HTMLElement

  #console = new ConsoleLines(() => this.requestUpdate())
  #input = new InputPrompt(this, (text) => this.#console.take({ level: 'log', text }))
  #verify = new VerifiedRunController(this, (s) => (this._notice = verifyText(s)))
  #abort: AbortController | null = null
  /** The document the room shows, followed so test files added or removed show at once. */
  #source: TextSource | null = null
  #room = new RoomController(this, {
    needsDocument: true,
    onChange: (state) => this.#follow(state),
    events: {
      run: (e) => {
        const run = e.run
        this.#verify.onRunEvent(run)
        if (run.verified && !ended(run.status)) return
        if (run.userId === this.#room.state?.participant?.userId) return
        // A run the server vouches for may be told twice (as it ends, and again): listed once.
        this._activity = [run, ...this._activity.filter((a) => !(run.runId && a.runId === run.runId))].slice(0, 5)
      },
      rate_limited: (e) => {
        if (e.what === 'run') this._notice = e.message
      },
    },
  })

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#follow(undefined)
  }

  #follow(room: RoomState | undefined) {
    const source = (this.isConnected && room?.source) || null
    if (source === this.#source) return
    this.#source?.removeEventListener('text', this.#filesChanged)
    this.#source?.removeEventListener('ready', this.#filesChanged)
    this.#source = source
    source?.addEventListener('text', this.#filesChanged)
    source?.addEventListener('ready', this.#filesChanged)
  }

  #filesChanged = () => this.requestUpdate()

  get #editor(): EditorLike | null {
    return this.for ? (this.ownerDocument.getElementById(this.for) as EditorLike | null) : null
  }

  get #target(): { file: string; language: string; code: string | undefined } {
    const editor = this.#editor
    const room = this.#room.state
    const fallback = (room?.session?.language as Language) ?? 'javascript'
    const files = room?.source?.files() ?? []
    const file = this.file ?? editor?.file ?? files.find((f) => !isTestFile(f)) ?? files[0] ?? DEFAULT_FILE[fallback]
    const language = this.language ?? editor?.language ?? languageForFile(file, fallback)
    const code = editor ? editor.value : room?.source?.synced ? room.source.text(file) : undefined
    return { file, language, code }
  }

  /** The room's test files that test `file` (by default the target; never the program itself). */
  #testFiles(file = this.#target.file): string[] {
    const source = this.#room.state?.source
    if (this.for || !source?.synced) return []
    const language = runLanguage(file)
    return source.files().filter((f) => f !== file && isTestFile(f) && runLanguage(f) === language)
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
    const start = this.#begin(request, 'program')
    if (!start) return null
    const { file, language, code, runner, ctx } = start
    const result = await runner.run(code, ctx)
    this.#end(file, result)
    this._status =
      result.notStarted || result.timedOut
        ? (result.output.at(-1)?.text ?? 'Stopped.')
        : `Ran ${file} in ${result.durationMs} ms — ${result.errors ? `${result.errors} error${result.errors === 1 ? '' : 's'}` : 'no errors'}`
    this._statusKind = result.ok ? 'ok' : 'danger'
    this._notice = this._status
    // A run that never started is not shared with the room or counted.
    if (!result.notStarted) this.#report(file, language, result)
    this.dispatchEvent(new SessionRunEvent(file, result))
    return result
  }

  /** Run the room's test files for the file (by default the room's file) and list each test. */
  async runTests(request: Omit<RunRequest, 'code'> = {}): Promise<TestRunResult | null> {
    if (this._running) return null
    const source = this.#room.state?.source
    const target = this.#target
    const file = request.file ?? target.file
    const language = (request.language ?? target.language).toLowerCase()
    const names = this.#testFiles(file)
    const runner = runnerFor(language)
    if (runner && (!runner.test || !names.length)) {
      this._status = runner.test ? `Add a test file, e.g. ${exampleTestFile(file, language)}, to run tests.` : `Tests cannot run for ${languageName(language, runner.label)} on this page.`
      this._statusKind = ''
      this._notice = this._status
      return null
    }
    const start = this.#begin(request, 'tests')
    if (!start?.runner.test) return null
    const { code, ctx } = start
    const tests = names.map((name) => ({ name, source: source?.text(name) ?? '' }))
    const result = await start.runner.test(code, { ...ctx, file, tests })
    this.#end(file, result)
    this._tests = result.tests
    const last = result.output.at(-1)?.text
    if (result.notStarted) this._status = last ?? 'The tests could not start.'
    else if (result.timedOut) this._status = last ?? 'Stopped.'
    else if (!result.tests.length) this._status = result.errors && last ? `No test ran: ${last}` : `No tests were found in ${names.join(', ')}.`
    else this._status = `${testSummary(result.tests)} in ${result.durationMs} ms`
    this._statusKind = result.tests.length && result.tests.every((t) => t.passed) && !result.timedOut ? 'ok' : 'danger'
    this._notice = this._status
    if (!result.notStarted) this.#report(file, language, result)
    this.dispatchEvent(new SessionRunEvent(file, result))
    return result
  }

  /**
   * Ask the server to run the tests on the file from the code as saved there (the room's test files
   * and any hidden ones; the program itself when there are none), and show what it vouches for.
   */
  async verify(kind?: VerifyKind): Promise<void> {
    const room = this.#room.state
    const blocked = this.#blocked
    if (this.for || !room) return
    if (blocked) {
      this._notice = blocked
      return
    }
    if (this.#verify.pending || this.#verify.waiting) return
    const { file } = this.#target
    // Hidden test files are only on the server: a room without test files may still have some.
    const testable = runLanguage(file) !== null && !isTestFile(file)
    await this.#verify.start(room.client, kind ?? (testable ? 'tests' : 'program'), file, kind === undefined && !this.#testFiles(file).length)
  }

  /** Stop the current run (or the wait for its input). */
  stop() {
    this.#abort?.abort()
    this.#input.answer(null)
  }

  clear() {
    this.#clearOutput()
    this._status = ''
    this._statusKind = ''
    this.#verify.clear()
    this.#clearPreview()
  }

  /** Everything a run needs, the console cleared and the status set; null (and said why) when it cannot run. */
  #begin(request: RunRequest, kind: 'program' | 'tests') {
    if (this._running) return null
    const blocked = this.#blocked
    if (blocked) {
      this._notice = blocked
      return null
    }
    const target = this.#target
    const file = request.file ?? target.file
    const language = (request.language ?? target.language).toLowerCase()
    const code = request.code ?? (request.file && !this.#editor ? this.#room.state?.source?.text(request.file) : target.code)
    if (code === undefined) {
      this._notice = 'The code has not loaded yet.'
      return null
    }
    const runner = runnerFor(language)
    if (!runner) {
      this._status = `There is no runner for ${language} on this page.`
      this._statusKind = 'danger'
      this._notice = this._status
      return null
    }
    this.#clearPreview()
    this.#clearOutput()
    this._running = kind
    this._resultFile = file
    const running = kind === 'tests' ? `Running the tests on ${file}…` : `Running ${file}…`
    this._status = running
    this._statusKind = ''
    const abort = (this.#abort = new AbortController())
    const name = languageName(language, runner.label)
    let announced = ''
    const started = () => {
      if (this._progress === null) return
      this._progress = null
      this._status = running
    }
    const ctx: RunContext = {
      file,
      timeoutMs: Math.max(0.1, this.timeout) * 1000,
      container: this._previewHost,
      signal: abort.signal,
      onOutput: (line) => {
        started()
        this.#console.take(line)
      },
      onOmitted: (n) => this.#console.omit(n),
      onProgress: (p) => {
        if (abort.signal.aborted) return
        // A runtime that has started runs the code next.
        if (p.phase === 'start' && p.total > 0 && p.loaded >= p.total) return started()
        this._progress = p
        this._status = progressText(name, p)
        // Said once per phase, not at every percent.
        if (announced !== p.phase) this._notice = p.phase === 'download' ? `Downloading ${name}…` : `Starting ${name}…`
        announced = p.phase
      },
      onInput: (prompt) => {
        started()
        if (abort.signal.aborted) return Promise.resolve(null)
        this.#console.draw()
        return this.#input.ask(prompt)
      },
    }
    return { file, language, code, runner, ctx }
  }

  #end(file: string, result: RunResult) {
    this.#input.answer(null)
    this.#console.draw()
    this._progress = null
    this._result = result
    this._resultFile = file
    this._running = ''
    this.#abort = null
  }

  #clearPreview() {
    this._previewHost?.replaceChildren()
  }

  #clearOutput() {
    this.#console.clear()
    this._result = null
    this._tests = null
  }

  #download() {
    if (!this._result) return
    downloadBlob(outputFile(this._result), `${this._resultFile}-output.txt`, this)
  }

  #report(file: string, language: string, result: RunResult | TestRunResult) {
    const room = this.#room.state
    if (!room || this.for) return
    // A failed test is one of the run's errors too, for readers that do not know `tests`.
    const failed = 'tests' in result ? result.tests.filter((t) => !t.passed).length : 0
    const tests = 'tests' in result ? { tests: { passed: result.tests.length - failed, failed } } : {}
    room.client.send({ type: 'run', run: { file, language, ok: result.ok, errors: result.errors + failed, durationMs: result.durationMs, timedOut: result.timedOut, output: reportOutput(result), ...tests } })
  }

  /** Moves the editor that shows `file` on this page to a line: null when none does. */
  #opener: LineOpener = (file, line) => {
    const fileOf = (e: EditorLike) => e.file ?? this.#room.state?.source?.files()[0]
    const editor = this.for
      ? this.#editor
      : ([...(this.closest('session-room')?.querySelectorAll<EditorLike>('session-editor') ?? [])].find((e) => fileOf(e) === file) ?? null)
    if (!editor?.goToLine || (!this.for && fileOf(editor) !== file)) return null
    return () => editor.goToLine!(line)
  }

  #renderConsole() {
    // Error lines point into the program (a test run's lines may point into a test file: its
    // tests say which).
    const file = this._running === 'tests' || this._tests !== null ? null : this._resultFile || this.#target.file
    const open = file && this.#opener(file, 1) ? (line: number) => this.#opener(file, line)?.() : null
    const download = this._result && !this._running ? { omitted: !!this._result.omitted, save: () => this.#download() } : null
    return consolePanel(this.#console, { open, download, running: this._running !== '', input: this.#input.render(this._resultFile || this.#target.file) })
  }

  protected override render() {
    const blocked = this.#blocked
    const target = this.#target
    const runner = runnerFor(target.language)
    const tests = runner?.test ? this.#testFiles(target.file) : []
    const inRoom = !this.for && this.#room.state !== undefined
    const verifying = this.#verify.pending
    const p = this._progress
    return html`
      <div part="toolbar" class="toolbar">
        <button part="run-button" class="primary" type="button" ?disabled=${this._running !== '' || blocked !== null} aria-describedby=${blocked ? 'why' : nothing} @click=${() => this.run()}>
          Run ${target.file}
        </button>
        ${tests.length
          ? html`<button part="tests-button" type="button" ?disabled=${this._running !== '' || blocked !== null} title=${`Runs ${tests.join(', ')} on ${target.file}`} @click=${() => this.runTests()}>
              Run tests
            </button>`
          : nothing}
        ${inRoom && blocked === null && runLanguage(target.file) !== null
          ? html`<button part="verify-button" type="button" ?disabled=${verifying || this.#verify.waiting} aria-describedby="verify-hint" @click=${() => this.verify()}>
                ${verifying ? 'Checking on the server…' : 'Check on the server'}
              </button>
              <span id="verify-hint" class="visually-hidden">
                Runs the tests on ${target.file} (or the program, when it has none) on the server, from the code as saved there: a result the room can trust.
              </span>`
          : nothing}
        ${this._running ? html`<button type="button" @click=${() => this.stop()}>Stop</button>` : nothing}
        <button type="button" ?disabled=${this._running !== '' || (this.#console.empty && !this._status && !this.#verify.state)} @click=${() => this.clear()}>Clear</button>
        ${blocked
          ? html`<span id="why" class="why tone warning">${blocked}</span>`
          : html`<span part="status" class="status tone ${this._statusKind}">${this._status}</span>
              ${p ? progressBar(p, languageName(target.language, runner?.label ?? target.language)) : nothing}`}
      </div>
      ${this.#renderConsole()}
      ${this._tests?.length ? testList(this._tests, 'Test results', this.#opener) : nothing}
      ${verifiedPanel(this.#verify.state, this.#verify.pending, this.#opener)}
      <div class="preview-host" part="preview"></div>
      ${activityList(this._activity)}
      <div class="visually-hidden" role="status" aria-live="polite">${this._notice}</div>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-runner': SessionRunner
  }
}
