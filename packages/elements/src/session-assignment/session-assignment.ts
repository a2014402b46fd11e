import { html, nothing, type PropertyValues } from 'lit'
import { property, state } from 'lit/decorators.js'
import type { Assignment, AssignmentOpened, AssignmentSubmitted, AssignmentUpdate, AssignmentUpdateList, RunInfo, VerifiedRun, VerifiedRunList } from '@session-kit/core'
import { SessionSubmitEvent } from '../events/assignment-events.js'
import { AssignmentApi, AssignmentError, type AssignmentFailure } from '../internal/assignment-api.js'
import { clockTime } from '../internal/format.js'
import { markdown } from '../internal/markdown.js'
import type { ServerEventMessage } from '../internal/room-client.js'
import { tokenClaims } from '../internal/token-claims.js'
import type { SessionRoom } from '../session-room/session-room.js'
import { SessionElement, toneStyles } from '../session-element.js'
import { dueLine, updateCard, verifiedResult } from './assignment-parts.js'
import { styles } from './session-assignment.styles.js'

type Phase = 'idle' | 'opening' | 'ready' | 'error'

/** What a failure is called, above the server's sentence. */
const FAILURE_TITLE: Record<AssignmentFailure, string> = {
  network: 'The assignment could not be reached',
  token: 'Your sign-in for this assignment has expired',
  forbidden: 'This assignment is not open to you',
  closed: 'This assignment is closed',
  missing: 'There is no such assignment',
  other: 'The assignment could not open',
}

/** How soon after a verified run ends its result is asked for (runs end in bursts). */
const RESULT_DELAY_MS = 300

/**
 * What a learner embeds for an assignment: it opens their own room (made from the starter files
 * the first time), then shows the title, the instructions, the due time, their editor and runner,
 * a Submit button, the result that counts (the latest tests run the server verified, hidden tests
 * included) and any starter-code update the instructor offered since.
 *
 * The token is the host's, for this learner and this assignment (`assignment: "<id>"`); the room's
 * own token comes from the server.
 *
 * @tag session-assignment
 * @summary A learner's assignment: instructions, their own live room, tests that count, Submit.
 *
 * @csspart header - The title, the due time and the submission state.
 * @csspart title - The assignment's title.
 * @csspart due - "Due Fri 14 Mar, 17:00 (in 2 days)".
 * @csspart instructions - The instructions (Markdown, drawn without any HTML of the author's).
 * @csspart files - The file buttons, when the room has several files.
 * @csspart room - The `<session-room>` holding the editor and runner.
 * @csspart editor - The `<session-editor>`.
 * @csspart runner - The `<session-runner>`.
 * @csspart result - The result that counts.
 * @csspart submit - The Submit bar: the button and "Submitted at 14:02".
 * @csspart submit-button - The Submit button.
 * @csspart updates - Starter-code updates offered to the learner.
 * @csspart update - One of them, with its diff.
 * @csspart accept-update - The button that takes one.
 * @csspart error - What went wrong, and what to do.
 *
 * @cssprop --session-editor-height - Height of the editor (default 20rem).
 * @cssprop --session-color-accent - The Submit button and focus rings.
 * @cssprop --session-color-surface - Background of the header and panels.
 *
 * @event session-submit - The submission was recorded (`sessionId`, `submittedAt`, `locked`).
 */
export class SessionAssignment extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, toneStyles, styles]

  /** The assignment's id. Must match the token's `assignment` claim. */
  @property({ reflect: true }) assignment = ''

  /** Base URL of the Session Kit server. Defaults to the page's origin. */
  @property({ reflect: true }) server = ''

  /** The host's token for this learner and assignment (a JWT with `assignment`). Not reflected. */
  @property() token?: string

  /** Light or dark; as the page is (its `color-scheme`) when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _phase: Phase = 'idle'
  @state() private _error: AssignmentError | null = null
  @state() private _assignment: Assignment | null = null
  @state() private _room: AssignmentOpened | null = null
  @state() private _file = ''
  @state() private _submitted: { at: string; locked: boolean } | null = null
  @state() private _confirming = false
  @state() private _busy = ''
  @state() private _message = ''
  @state() private _result: VerifiedRun | null = null
  @state() private _updates: AssignmentUpdate[] = []
  @state() private _announcement = ''

  #api: AssignmentApi | null = null
  #abort: AbortController | null = null
  #resultTimer?: ReturnType<typeof setTimeout>
  #roomClient: SessionRoom['client'] = null
  #opened = ''

  /** The learner's room once open: `{sessionId, token}` (null before). */
  get room(): { sessionId: string; token: string } | null {
    return this._room ? { sessionId: this._room.sessionId, token: this._room.token } : null
  }

  override connectedCallback() {
    super.connectedCallback()
    if (this._phase === 'idle' || this._phase === 'error') void this.#open()
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#abort?.abort()
    clearTimeout(this.#resultTimer)
    this.#listen(null)
    this._phase = 'idle'
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (this.isConnected && this._phase !== 'idle' && (changed.has('assignment') || changed.has('server') || changed.has('token')) && this.#key() !== this.#opened) void this.#open()
  }

  /** What the open depends on. */
  #key(): string {
    return `${this.server}|${this.assignment}|${this.token ?? this.getAttribute('token') ?? ''}`
  }

  /** Open (or reopen) the learner's room: idempotent on the server. */
  async #open() {
    this.#abort?.abort()
    const abort = (this.#abort = new AbortController())
    const token = this.token ?? this.getAttribute('token') ?? ''
    this.#opened = this.#key()
    this._phase = 'opening'
    this._error = null
    const claims = tokenClaims(token) as { assignment?: string }
    if (!token) return this.#fail(new AssignmentError('token', 'This page gave no token for the assignment: the course site must sign one for you.'))
    if (!this.assignment) return this.#fail(new AssignmentError('missing', 'This page names no assignment (the assignment attribute).'))
    if (claims.assignment && claims.assignment !== this.assignment) {
      return this.#fail(new AssignmentError('forbidden', `The token is for assignment “${claims.assignment}”, but this page shows “${this.assignment}”.`))
    }
    const api = (this.#api = new AssignmentApi(this.server, this.assignment, token))
    try {
      const room = await api.call<AssignmentOpened>('POST', '/open', {}, abort.signal)
      const assignment = await api.call<Assignment>('GET', '', undefined, abort.signal)
      // The room's elements load with the room: nothing of the editor before the room is known.
      await Promise.all([import('../define/session-room.js'), import('../define/session-editor.js'), import('../define/session-runner.js')])
      if (abort.signal.aborted) return
      this._room = room
      this._assignment = assignment
      // The starter files (tests are apart from them): the first is where the work begins.
      this._file = Object.keys(assignment.files)[0] ?? ''
      const at = assignment.you?.submittedAt
      this._submitted = at ? { at, locked: assignment.submitPolicy === 'lock' } : null
      this._phase = 'ready'
      this._announcement = room.created ? `Your room for ${assignment.title} is ready: it starts from the starter code.` : `${assignment.title} is open.`
      void this.#loadResult(abort.signal)
      if (assignment.you?.pendingUpdates) void this.#loadUpdates(abort.signal)
    } catch (e) {
      if (!abort.signal.aborted) this.#fail(e instanceof AssignmentError ? e : new AssignmentError('other', (e as Error).message))
    }
  }

  #fail(error: AssignmentError) {
    this._error = error
    this._phase = 'error'
    this._announcement = `${FAILURE_TITLE[error.kind]}. ${error.message}`
  }

  /** The latest finished tests run the server verified in the learner's room. */
  async #loadResult(signal?: AbortSignal) {
    const room = this._room
    if (!room || !this.#api) return
    try {
      const { runs } = await this.#api.room<VerifiedRunList>(room.sessionId, this.#roomToken(), '/runs?limit=20', signal)
      this._result = runs.find((r) => r.kind === 'tests' && r.status !== 'queued' && r.status !== 'running') ?? null
    } catch {
      // The result stays as it was; the next verified run asks again.
    }
  }

  async #loadUpdates(signal?: AbortSignal) {
    try {
      const { updates } = (await this.#api?.call<AssignmentUpdateList>('GET', '/updates', undefined, signal)) ?? { updates: [] }
      this._updates = updates
    } catch (e) {
      // Before the server offers updates (or after the assignment closed) there is nothing to show.
      if (!(e instanceof AssignmentError) || e.kind === 'network') this._message = 'Starter-code updates could not be loaded.'
    }
  }

  async #accept(update: AssignmentUpdate) {
    if (!this.#api) return
    this._busy = update.file
    try {
      const { updates } = await this.#api.call<AssignmentUpdateList>('POST', '/updates/accept', { file: update.file })
      this._updates = updates
      this._announcement = `${update.file} now has the new starter code.`
    } catch (e) {
      this._message = (e as Error).message
    }
    this._busy = ''
  }

  async #submit() {
    if (!this.#api || !this._assignment) return
    if (this._assignment.submitPolicy === 'lock' && !this._confirming) {
      this._confirming = true
      return
    }
    this._confirming = false
    this._busy = 'submit'
    this._message = ''
    try {
      const done = await this.#api.call<AssignmentSubmitted>('POST', '/submit', {})
      this._submitted = { at: done.submittedAt, locked: done.locked }
      this._announcement = `Submitted at ${clockTime(done.submittedAt)}.${done.locked ? ' Editing is now locked.' : ''}`
      this.dispatchEvent(new SessionSubmitEvent(done.sessionId, done.submittedAt, done.locked))
    } catch (e) {
      this._message = e instanceof AssignmentError && e.kind === 'closed' ? `This assignment is closed: ${e.message}` : (e as Error).message
      this._announcement = this._message
    }
    this._busy = ''
  }

  /** The room's current token (renewed by the room), else the one the open gave. */
  #roomToken(): string {
    return this.#roomClient?.token ?? this._room?.token ?? ''
  }

  /** Renew the room's server-signed token before it expires. */
  #refreshRoomToken = async (): Promise<string | undefined> => {
    const current = this.#roomToken()
    const res = await fetch(`${this.#api?.base}/v1/tokens/refresh`, { method: 'POST', headers: { authorization: `Bearer ${current}` } }).catch(() => null)
    if (!res?.ok) return current
    return ((await res.json()) as { token: string }).token
  }

  /** The room went live (or away): follow its verified runs for the result that counts. */
  #onRoomStatus = (e: Event) => {
    const room = e.currentTarget as SessionRoom
    this.#listen(room.status === 'live' ? room.client : null)
  }

  #listen(client: SessionRoom['client']) {
    if (client === this.#roomClient) return
    this.#roomClient?.events.removeEventListener('run', this.#onRun)
    this.#roomClient = client
    client?.events.addEventListener('run', this.#onRun)
  }

  #onRun = (e: Event) => {
    const run = (e as ServerEventMessage<{ type: 'run'; run: RunInfo }>).detail.run
    if (!run.verified || run.kind !== 'tests' || run.status === 'queued' || run.status === 'running') return
    clearTimeout(this.#resultTimer)
    this.#resultTimer = setTimeout(() => void this.#loadResult(), RESULT_DELAY_MS)
  }

  protected override render() {
    return html`${this.#body()}<div class="visually-hidden" role="status" aria-live="polite">${this._announcement}</div>`
  }

  #body() {
    if (this._phase === 'error' && this._error) {
      const e = this._error
      return html`<section part="error" class="failure ${e.kind}" role="alert">
        <h2>${FAILURE_TITLE[e.kind]}</h2>
        <p>${e.message}</p>
        ${e.kind === 'network' || e.kind === 'other' ? html`<button type="button" @click=${() => void this.#open()}>Try again</button>` : nothing}
        ${e.kind === 'token' ? html`<p class="note">Reload the course page to sign in again.</p>` : nothing}
      </section>`
    }
    const a = this._assignment
    const room = this._room
    if (this._phase !== 'ready' || !a || !room) {
      return html`<section class="opening" aria-busy="true"><p role="status"><span class="spinner" aria-hidden="true"></span> Opening your assignment…</p></section>`
    }
    const files = Object.keys(a.files)
    const submitted = this._submitted
    return html`
      <div part="header" class="header">
        <h2 part="title">${a.title}</h2>
        ${dueLine(a.dueAt)}
        ${a.closed ? html`<p class="tone warning">This assignment is closed: you can read your work, but not submit.</p>` : nothing}
      </div>
      <details class="instructions-box" open>
        <summary>Instructions</summary>
        <div part="instructions" class="instructions">${markdown(a.instructions)}</div>
      </details>
      ${this._updates.length
        ? html`<section part="updates" class="updates" aria-labelledby="updates-title">
            <h3 id="updates-title">Updated starter code</h3>
            <ul>${this._updates.map((u) => updateCard(u, this._busy === u.file, () => void this.#accept(u)))}</ul>
          </section>`
        : nothing}
      ${files.length > 1
        ? html`<div part="files" class="files" role="group" aria-label="Files">
            ${files.map((f) => html`<button type="button" aria-pressed=${String(f === this._file)} @click=${() => (this._file = f)}>${f}</button>`)}
          </div>`
        : nothing}
      <session-room part="room" server=${this.server} session=${room.sessionId} .token=${room.token} .tokenProvider=${this.#refreshRoomToken} theme=${this.theme ?? nothing} @session-status=${this.#onRoomStatus}>
        <session-editor part="editor" file=${this._file || nothing} theme=${this.theme ?? nothing}></session-editor>
        <session-runner part="runner" file=${this._file || nothing} theme=${this.theme ?? nothing}></session-runner>
      </session-room>
      ${verifiedResult(this._result, a.hiddenTestCount)}
      <section part="submit" class="submit">
        ${submitted
          ? html`<p class="submitted"><strong class="tone ok"><span aria-hidden="true">✓</span> Submitted at <time datetime=${submitted.at}>${clockTime(submitted.at)}</time></strong>
              ${submitted.locked ? html`<span class="note">Editing is now locked.</span>` : html`<span class="note">You can keep working and submit again.</span>`}</p>`
          : html`<p class="note">${a.submitPolicy === 'lock' ? 'When you submit, your code is handed in and editing locks.' : 'Submit when you are done; you can keep working and submit again.'}</p>`}
        ${this._confirming
          ? html`<p class="confirm" role="group" aria-label="Confirm submission">
              <span>Submit now? You will not be able to edit afterwards.</span>
              <button type="button" class="primary" @click=${() => void this.#submit()}>Submit and lock</button>
              <button type="button" @click=${() => (this._confirming = false)}>Cancel</button>
            </p>`
          : submitted?.locked
            ? nothing
            : html`<button type="button" part="submit-button" class="primary" ?disabled=${this._busy === 'submit' || a.closed} @click=${() => void this.#submit()}>
                ${this._busy === 'submit' ? 'Submitting…' : submitted ? 'Submit again' : 'Submit'}
              </button>`}
        ${this._message ? html`<p class="error" role="alert">${this._message}</p>` : nothing}
      </section>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-assignment': SessionAssignment
  }
}
