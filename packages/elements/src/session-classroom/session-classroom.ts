import { html, nothing, type PropertyValues } from 'lit'
import { property, query, state } from 'lit/decorators.js'
import { repeat } from 'lit/directives/repeat.js'
import type { Assignment, AssignmentOpened, AssignmentRoom, AssignmentRoomList, NotOpenedLearner, RosterPulled } from '@session-kit/core'
import { SessionOpenRoomEvent } from '../events/assignment-events.js'
import { okOrThrow } from '../internal/http.js'
import { count, relativeTime } from '../internal/format.js'
import { LoadController } from '../internal/load-controller.js'
import { tokenExpiry } from '../internal/token-claims.js'
import { formStyles } from '../shared-styles.js'
import { SessionElement, toneStyles } from '../session-element.js'
import { arrange, arrangeNotOpened, countsWithNotOpened, FILTERS, SORTS, type Filter, type Sort } from './classroom-view.js'
import { spotlightInLecture } from './lecture-spotlight.js'
import { sayInRooms } from './messages.js'
import { RoomPeek } from './room-peek.js'
import { notOpenedRow, tile } from './classroom-tile.js'
import { styles } from './session-classroom.styles.js'

/** How often the statuses are asked again while the overview is on screen. */
const POLL_MS = 10_000
/** A tile this close to the viewport streams already (scrolling shows it live). */
const NEAR = '200px'
/** A room token with less than this left is asked for again. */
const FRESH_S = 90

/**
 * The instructor's overview of an assignment: every learner's room as a tile with their name,
 * whether they are here, their last activity, a raised hand, the verified tests passed, whether
 * they submitted, their grade on its way to the LMS (for an assignment launched from one) and why
 * they may need help — and their code, live, as they type. Learners of the LMS course who have not
 * opened the assignment yet are listed under the tiles, with no room to open; for an assignment
 * launched from an LMS that offers its course roster, "Update roster from the LMS" pulls it (and
 * the line beside it says when it last was). Only tiles on
 * screen stream (a light viewer each, no Automerge), so a class of 200 stays smooth.
 *
 * Arrow keys move between tiles, Enter opens one; opening fires `session-open-room` (cancel it to
 * show the room your own way), else the room opens in a dialog with a full editor.
 *
 * @tag session-classroom
 * @summary An instructor's live grid of every learner's room in an assignment.
 *
 * @csspart toolbar - The filter, sort and search controls.
 * @csspart export - "Anonymize" and "Download analytics (CSV)": the assignment's analytics per learner.
 * @csspart roster - "Update roster from the LMS", how the last pull went and when the roster was last pulled (an assignment launched from an LMS).
 * @csspart message - The form that sends a message to everyone or one learner.
 * @csspart grid - The list of tiles.
 * @csspart tile - One learner's tile (also `tile-hand`, `tile-attention` when those apply).
 * @csspart code - The live code in a tile.
 * @csspart open-button - A tile's "Open" button.
 * @csspart grade - A tile's grade on its way to the LMS gradebook ("Grade sent 80/100", "Grade failed: … — retrying").
 * @csspart not-opened - The list of the course's learners (from the LMS roster) who have not opened the assignment.
 * @csspart not-opened-learner - One of them: name, "Not opened yet", their email when the LMS gave it.
 * @csspart dialog - The dialog holding an opened room.
 * @csspart error - Why the overview could not load.
 *
 * @cssprop --session-classroom-tile-width - Smallest width of a tile (default 17rem).
 * @cssprop --session-color-accent - Focus rings and the selected tile.
 * @cssprop --session-color-warning - Raised hands and needs-attention marks.
 *
 * @event session-open-room - The instructor opened a learner's room (`sessionId`, `token`, `learner`); cancelable.
 */
export class SessionClassroom extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, formStyles, toneStyles, styles]

  /** The assignment's id. */
  @property({ reflect: true }) assignment = ''

  /** Base URL of the Session Kit server. Defaults to the page's origin. */
  @property({ reflect: true }) server = ''

  /** An instructor's token for the assignment (a JWT with `assignment`, role instructor). Not reflected. */
  @property() token?: string

  /** A lecture room to spotlight learners' rooms in ("Spotlight in lecture" on each tile); none when absent. */
  @property({ attribute: 'lecture-session', reflect: true }) lectureSession = ''

  /**
   * An instructor's token for the lecture room that also names the assignment (`sid` and
   * `assignment`); `token` is used when it carries both. Not reflected.
   */
  @property({ attribute: 'lecture-token' }) lectureToken?: string

  /** Light or dark; as the page is (its `color-scheme`) when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _filter: Filter = 'all'
  @state() private _sort: Sort = 'hands'
  @state() private _search = ''
  /** The tile that holds the focus stop of the grid (roving tabindex). */
  @state() private _active = ''
  @state() private _to = ''
  @state() private _sending = false
  @state() private _sent = ''
  @state() private _opened: { learner: AssignmentRoom; room: AssignmentOpened } | null = null
  @state() private _announcement = ''
  /** The learner's room the lecture's spotlight shows (as last heard from the lecture room), and whether a change is under way. */
  @state() private _spotlit: string | null = null
  @state() private _spotlighting = false
  @state() private _anonymize = false
  @state() private _exporting = false
  @state() private _exportError = ''
  @state() private _pulling = false
  /** How the last roster pull went ("Roster updated: …"), or that one is under way. */
  @state() private _pulled = ''
  @state() private _pullError = ''

  @query('dialog') private _dialog?: HTMLDialogElement

  #peeks = new Map<string, RoomPeek>()
  #tokens = new Map<string, Promise<string>>()
  #observer: IntersectionObserver | null = null
  #poll?: ReturnType<typeof setInterval>
  #drawTimer?: ReturnType<typeof setTimeout>
  #newsTimer?: ReturnType<typeof setTimeout>

  #info = new LoadController<Assignment, [string, string, string]>(this, {
    args: () => this.#args(),
    request: ([server, aid, token], signal) => this.#fetch(server, aid, token, '', { signal }),
    failure: (e) => e.message,
    isEmpty: () => false,
  })

  #rooms = new LoadController<AssignmentRoomList, [string, string, string]>(this, {
    args: () => this.#args(),
    request: ([server, aid, token], signal) => this.#fetch(server, aid, token, '/rooms', { signal }),
    parse: (json) => json as AssignmentRoomList,
    // No room yet is "nobody opened it", even when the LMS roster lists learners who have not.
    isEmpty: (list) => list.rooms.length === 0,
    failure: (e) => (e.name === 'TypeError' ? 'The server could not be reached.' : e.message),
    onLoad: () => this.updateComplete.then(() => this.#observeTiles()),
  })

  /** An assignment route (`path` after `/v1/assignments/:aid`) with the overview's token. */
  #fetch(server: string, aid: string, token: string, path: string, init: RequestInit = {}): Promise<Response> {
    const base = (server || location.origin).replace(/\/+$/, '')
    return fetch(`${base}/v1/assignments/${encodeURIComponent(aid)}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
  }

  #args(): [string, string, string] | null {
    const token = this.token ?? this.getAttribute('token') ?? ''
    return this.assignment && token ? [this.server, this.assignment, token] : null
  }

  /** Every learner's room, as last loaded. */
  get rooms(): readonly AssignmentRoom[] {
    return this.#rooms.value?.rooms ?? []
  }

  /** The learners of the LMS course who have not opened the assignment yet (no room to open), as last loaded. */
  get notOpened(): readonly NotOpenedLearner[] {
    return this.#rooms.value?.notOpened ?? []
  }

  /** Ask for the statuses again now (the overview also does every 10 s while visible). */
  reload(): Promise<void> {
    return this.#rooms.reload()
  }

  override connectedCallback() {
    super.connectedCallback()
    this.#poll = setInterval(() => {
      if (document.visibilityState === 'visible') void this.#rooms.reload()
    }, POLL_MS)
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    clearInterval(this.#poll)
    clearTimeout(this.#drawTimer)
    clearTimeout(this.#newsTimer)
    this.#observer?.disconnect()
    this.#observer = null
    for (const peek of this.#peeks.values()) peek.stop()
    this.#peeks.clear()
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('assignment') || changed.has('server') || changed.has('token')) {
      for (const peek of this.#peeks.values()) peek.stop()
      this.#peeks.clear()
      this.#tokens.clear()
    }
  }

  protected override updated() {
    this.#observeTiles()
  }

  // ---- live tiles ----------------------------------------------------------------------------

  #observeTiles() {
    if (typeof IntersectionObserver === 'undefined') return
    this.#observer ??= new IntersectionObserver((entries) => this.#onIntersect(entries), { rootMargin: NEAR })
    for (const li of this.renderRoot.querySelectorAll<HTMLElement>('li[data-user]')) {
      if (li.dataset.observed) continue
      li.dataset.observed = '1'
      this.#observer.observe(li)
    }
  }

  #onIntersect(entries: IntersectionObserverEntry[]) {
    for (const entry of entries) {
      const userId = (entry.target as HTMLElement).dataset.user!
      const room = this.rooms.find((r) => r.userId === userId)
      if (!room) continue
      if (entry.isIntersecting) this.#peek(room).start()
      else this.#peeks.get(userId)?.pause()
    }
  }

  #peek(room: AssignmentRoom): RoomPeek {
    let peek = this.#peeks.get(room.userId)
    if (!peek || peek.sessionId !== room.sessionId) {
      peek?.stop()
      // The starter files (tests are apart from them): the first is where the work begins.
      const starter = Object.keys(this.#info.value?.files ?? {})[0] ?? ''
      peek = new RoomPeek(room.userId, room.sessionId, { server: this.server, token: () => this.#roomToken(room.userId), changed: () => this.#redraw(), news: () => this.#news() }, starter)
      this.#peeks.set(room.userId, peek)
    }
    return peek
  }

  /** An instructor's token for a learner's room, from the server; kept until it is nearly spent. */
  #roomToken(userId: string): Promise<string> {
    const kept = this.#tokens.get(userId)
    const fresh = kept?.then((t) => {
      const exp = tokenExpiry(t)
      return exp === null || exp - Date.now() / 1000 > FRESH_S ? t : null
    })
    return (fresh ?? Promise.resolve(null)).then((t) => {
      if (t) return t
      const args = this.#args()
      if (!args) throw new Error('The overview has no token.')
      const asked = this.#fetch(...args, `/rooms/${encodeURIComponent(userId)}/open`, { method: 'POST', body: '{}' })
        .then(okOrThrow)
        .then(async (res) => ((await res.json()) as AssignmentOpened).token)
      this.#tokens.set(userId, asked)
      asked.catch(() => this.#tokens.delete(userId))
      return asked
    })
  }

  /** Tiles redraw together, at most a few times a second, however many learners type. */
  #redraw() {
    this.#drawTimer ??= setTimeout(() => {
      this.#drawTimer = undefined
      this.requestUpdate()
    }, 100)
  }

  /** A room told of a verified run or a hand: ask for the statuses soon. */
  #news() {
    clearTimeout(this.#newsTimer)
    this.#newsTimer = setTimeout(() => void this.#rooms.reload(), 600)
  }

  // ---- actions ---------------------------------------------------------------------------------

  async #open(room: AssignmentRoom) {
    let token: string
    try {
      token = await this.#roomToken(room.userId)
    } catch (e) {
      this._announcement = `${room.name}'s room could not open: ${(e as Error).message}`
      return
    }
    const event = new SessionOpenRoomEvent(room.sessionId, token, { userId: room.userId, name: room.name })
    if (!this.dispatchEvent(event)) return
    await Promise.all([import('../define/session-room.js'), import('../define/session-editor.js'), import('../define/session-runner.js'), import('../define/session-chat.js')])
    this._opened = { learner: room, room: { sessionId: room.sessionId, token, role: 'instructor', userId: room.userId, created: false } }
    await this.updateComplete
    this._dialog?.showModal()
  }

  #closeDialog() {
    this._dialog?.close()
  }

  #dialogClosed = () => {
    const userId = this._opened?.learner.userId
    this._opened = null
    if (userId) void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`li[data-user="${CSS.escape(userId)}"]`)?.focus())
  }

  /** Show `room` in the lecture room, or end the spotlight when it is the one shown. */
  async #spotlight(room: AssignmentRoom) {
    const token = this.lectureToken ?? this.getAttribute('lecture-token') ?? this.token ?? this.getAttribute('token') ?? ''
    const ending = this._spotlit === room.sessionId
    this._spotlighting = true
    const outcome = await spotlightInLecture({ server: this.server, session: this.lectureSession, token }, ending ? null : room.sessionId).catch((e: Error) => ({ ok: false as const, message: e.message }))
    this._spotlighting = false
    if (outcome.ok) this._spotlit = outcome.spotlight?.sessionId ?? null
    this._announcement = outcome.ok ? (ending ? 'Spotlight ended in the lecture.' : `${room.name}'s room is in the lecture's spotlight.`) : `The spotlight could not change: ${outcome.message}`
  }

  #messageTo(room: AssignmentRoom) {
    this._to = room.userId
    this._sent = ''
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLTextAreaElement>('#message-text')?.focus())
  }

  async #send(e: SubmitEvent) {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const field = form.querySelector('textarea')!
    const text = field.value.trim()
    if (!text) return
    const targets = this.rooms.filter((r) => !this._to || r.userId === this._to).map((r) => ({ userId: r.userId, sessionId: r.sessionId, client: this.#peeks.get(r.userId)?.client ?? null }))
    this._sending = true
    this._sent = ''
    const sent = await sayInRooms(this.server, targets, (t) => this.#roomToken(t.userId), text)
    this._sending = false
    const who = this._to ? (this.rooms.find((r) => r.userId === this._to)?.name ?? 'the learner') : 'everyone'
    this._sent = sent === targets.length ? `Sent to ${who}${this._to ? '' : ` (${count(sent, 'room')})`}.` : `Sent to ${sent} of ${count(targets.length, 'room')}: the others could not be reached.`
    this._announcement = this._sent
    if (sent === targets.length) field.value = ''
  }

  // ---- keyboard --------------------------------------------------------------------------------

  #onGridKey(e: KeyboardEvent, shown: AssignmentRoom[]) {
    const li = (e.target as HTMLElement).closest<HTMLElement>('li[data-user]')
    if (!li || e.target !== li) return
    const at = shown.findIndex((r) => r.userId === li.dataset.user)
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault()
      void this.#open(shown[at]!)
      return
    }
    const columns = getComputedStyle(li.parentElement!).gridTemplateColumns.split(' ').filter(Boolean).length || 1
    const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns, Home: -at, End: shown.length - 1 - at }
    if (!(e.key in step)) return
    e.preventDefault()
    const next = shown[Math.max(0, Math.min(shown.length - 1, at + step[e.key]!))]
    if (!next) return
    this._active = next.userId
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`li[data-user="${CSS.escape(next.userId)}"]`)?.focus())
  }

  // ---- render ----------------------------------------------------------------------------------

  protected override render() {
    const rooms = this.rooms
    const status = this.#rooms.status
    const title = this.#info.value?.title
    const shown = arrange(rooms, { filter: this._filter, sort: this._sort, search: this._search })
    const active = shown.some((r) => r.userId === this._active) ? this._active : (shown[0]?.userId ?? '')
    const waiting = this.notOpened
    const waitingShown = arrangeNotOpened(waiting, { filter: this._filter, search: this._search })
    const n = countsWithNotOpened(rooms, waiting.length)
    const roster = this.#rooms.value?.roster
    return html`
      <div class="head">
        <h2>${title ? html`${title}: ` : nothing}${count(rooms.length + waiting.length, 'learner')}</h2>
        <p class="summary note">
          ${n.hands ? html`<span class="tone warning">${count(n.hands, 'hand')} raised</span> · ` : nothing}${n.submitted} submitted · ${n.failing} with failing tests · ${n['not-started'] - waiting.length} not started${waiting.length ? html` · ${waiting.length} not opened yet` : nothing}
        </p>
      </div>
      <div part="toolbar" class="toolbar" role="group" aria-label="Show">
        <label>Show <select @change=${(e: Event) => (this._filter = (e.target as HTMLSelectElement).value as Filter)}>
          ${(Object.keys(FILTERS) as Filter[]).map((f) => html`<option value=${f} ?selected=${f === this._filter}>${FILTERS[f]} (${n[f]})</option>`)}
        </select></label>
        <label>Sort by <select @change=${(e: Event) => (this._sort = (e.target as HTMLSelectElement).value as Sort)}>
          ${(Object.keys(SORTS) as Sort[]).map((s) => html`<option value=${s} ?selected=${s === this._sort}>${SORTS[s]}</option>`)}
        </select></label>
        <label>Find <input type="search" placeholder="Name" .value=${this._search} @input=${(e: Event) => (this._search = (e.target as HTMLInputElement).value)} /></label>
        ${rooms.length
          ? html`<span part="export" class="export">
              <label class="check"><input type="checkbox" .checked=${this._anonymize} @change=${(e: Event) => (this._anonymize = (e.target as HTMLInputElement).checked)} /> Anonymize</label>
              <button type="button" ?disabled=${this._exporting} @click=${() => void this.#export()}>${this._exporting ? 'Preparing…' : 'Download analytics (CSV)'}</button>
            </span>`
          : nothing}
        ${roster?.available
          ? html`<span part="roster" class="roster">
              <button type="button" ?disabled=${this._pulling} @click=${() => void this.#pullRoster()}>Update roster from the LMS</button>
              <span role="status">${this._pulled}</span>
              ${roster.pulledAt ? html`<small class="note">Roster from the LMS, updated ${relativeTime(roster.pulledAt)}</small>` : nothing}
            </span>`
          : nothing}
      </div>
      ${this._exportError ? html`<p part="error" class="error" role="alert">${this._exportError}</p>` : nothing}
      ${this._pullError ? html`<p part="error" class="error" role="alert">${this._pullError}</p>` : nothing}
      ${this.#messageForm(rooms)}
      ${this.lectureSession && this._announcement.startsWith('The spotlight could not') ? html`<p part="error" class="error" role="alert">${this._announcement}</p>` : nothing}
      ${status === 'loading' ? html`<p class="note" role="status">Loading the class…</p>` : nothing}
      ${status === 'error' ? html`<p part="error" class="error" role="alert">The class could not load: ${this.#rooms.error} <button type="button" @click=${() => void this.#rooms.reload()}>Try again</button></p>` : nothing}
      ${status === 'idle' && !this.#args() ? html`<p part="error" class="error" role="alert">This overview needs an assignment and an instructor's token.</p>` : nothing}
      ${status === 'empty' ? html`<p class="note">No learner has opened this assignment yet. Their rooms appear here as they do.</p>` : nothing}
      ${status === 'ready' && !shown.length && !waitingShown.length ? html`<p class="note">No learner matches. <button type="button" @click=${() => ((this._filter = 'all'), (this._search = ''))}>Show everyone</button></p>` : nothing}
      ${shown.length
        ? html`<ul part="grid" class="grid" aria-label="Learners' rooms (arrow keys move, Enter opens)" @keydown=${(e: KeyboardEvent) => this.#onGridKey(e, shown)}>
            ${repeat(
              shown,
              (r) => r.userId,
              (r) =>
                tile(r, this.#peeks.get(r.userId)?.view ?? null, {
                  active: r.userId === active,
                  focus: () => (this._active = r.userId),
                  open: () => void this.#open(r),
                  message: () => this.#messageTo(r),
                  ...(this.lectureSession ? { spotlight: { on: this._spotlit === r.sessionId, busy: this._spotlighting, toggle: () => void this.#spotlight(r) } } : {}),
                }),
            )}
          </ul>`
        : nothing}
      ${waitingShown.length
        ? html`<section part="not-opened" class="not-opened" aria-labelledby="not-opened-title">
            <h3 id="not-opened-title">Not opened yet (${waitingShown.length})</h3>
            <ul>${repeat(waitingShown, (m) => m.userId, notOpenedRow)}</ul>
          </section>`
        : nothing}
      ${this._opened
        ? html`<dialog part="dialog" aria-labelledby="dialog-title" @close=${this.#dialogClosed}>
            <div class="dialog-head">
              <h2 id="dialog-title">${this._opened.learner.name}'s room</h2>
              <button type="button" @click=${() => this.#closeDialog()}>Close</button>
            </div>
            <session-room server=${this.server} session=${this._opened.room.sessionId} .token=${this._opened.room.token} .tokenProvider=${() => this.#roomToken(this._opened!.learner.userId)} theme=${this.theme ?? nothing}>
              <session-editor theme=${this.theme ?? nothing}></session-editor>
              <session-runner theme=${this.theme ?? nothing}></session-runner>
              <session-chat theme=${this.theme ?? nothing}></session-chat>
            </session-room>
          </dialog>`
        : nothing}
      <div class="visually-hidden" role="status" aria-live="polite">${this._announcement}</div>
    `
  }

  /** Pull the LMS course roster, then list again: its learners who have not opened the assignment show. */
  async #pullRoster() {
    const args = this.#args()
    if (!args) return
    this._pulling = true
    this._pulled = 'Pulling the roster…'
    this._pullError = ''
    try {
      const got = (await (await okOrThrow(await this.#fetch(...args, '/roster', { method: 'POST', body: '{}' }))).json()) as RosterPulled
      this._pulled = `Roster updated: ${count(got.learners, 'learner')} (${count(got.members, 'person', 'people')}).`
      await this.#rooms.reload()
    } catch (e) {
      this._pulled = ''
      this._pullError = e instanceof TypeError ? 'The server could not be reached.' : (e as Error).message
    }
    this._pulling = false
  }

  /** The assignment's analytics as a spreadsheet: per learner, when they started, runs, their latest tests, when they submitted. */
  async #export() {
    const args = this.#args()
    if (!args) return
    this._exporting = true
    this._exportError = ''
    try {
      const res = await this.#fetch(...args, `/analytics?format=csv${this._anonymize ? '&anonymize=1' : ''}`)
      if (!res.ok) throw new Error(((await res.json().catch(() => null)) as { error?: { message?: string } } | null)?.error?.message ?? `the server answered ${res.status}`)
      // Saved through a link in the shadow root (as the other exports are), named as the server says.
      const url = URL.createObjectURL(await res.blob())
      const link = Object.assign(document.createElement('a'), { href: url, hidden: true, download: /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `assignment-${args[1]}.csv` })
      this.renderRoot.append(link)
      link.click()
      link.remove()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
      this._announcement = `The analytics were downloaded${this._anonymize ? ', anonymized' : ''}.`
    } catch (e) {
      this._exportError = `The analytics could not be downloaded: ${e instanceof TypeError ? 'the server could not be reached' : (e as Error).message}.`
    } finally {
      this._exporting = false
    }
  }

  #messageForm(rooms: readonly AssignmentRoom[]) {
    if (!rooms.length) return nothing
    return html`<form part="message" class="message" @submit=${(e: SubmitEvent) => void this.#send(e)}>
      <label>To <select @change=${(e: Event) => (this._to = (e.target as HTMLSelectElement).value)}>
        <option value="" ?selected=${!this._to}>Everyone (${rooms.length})</option>
        ${rooms.map((r) => html`<option value=${r.userId} ?selected=${r.userId === this._to}>${r.name}</option>`)}
      </select></label>
      <label class="grow">Message <textarea id="message-text" rows="1" maxlength="2000" placeholder="Said in the chat of each room"></textarea></label>
      <button type="submit" ?disabled=${this._sending}>${this._sending ? 'Sending…' : 'Send'}</button>
      ${this._sent ? html`<p class="sent note" role="status">${this._sent}</p>` : nothing}
    </form>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-classroom': SessionClassroom
  }
}
