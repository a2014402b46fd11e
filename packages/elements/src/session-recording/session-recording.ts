import { html, nothing } from 'lit'
import { property, state } from 'lit/decorators.js'
import { Permission, type RecordingEntry } from '@session-kit/core'
import { downloadResponse } from '../internal/download.js'
import { relativeTime } from '../internal/format.js'
import { BusyController } from '../internal/busy-controller.js'
import { errorMessage } from '../internal/http.js'
import { LoadController } from '../internal/load-controller.js'
import type { RoomClient } from '../internal/room-client.js'
import { RoomController } from '../room-controller.js'
import { SessionElement } from '../session-element.js'
import { formStyles, listStyles, statusStyles } from '../shared-styles.js'
import { SessionPlayer } from '../session-player/session-player.js'
import { styles } from './session-recording.styles.js'

/** A recording as `GET …/recordings` lists it: the contract lives in core. */
export type { RecordingEntry } from '@session-kit/core'

function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return `${h ? `${h}:` : ''}${h ? String(m).padStart(2, '0') : m}:${String(s % 60).padStart(2, '0')}`
}

/** Recorded time so far: the spans, paused gaps left out, the open one up to now. */
function recordedMs(r: RecordingEntry, now: number): number {
  return r.spans.reduce((n, sp) => n + ((sp.to ? Date.parse(sp.to) : now) - Date.parse(sp.from)), 0)
}

const STATUS_WORDS: Record<RecordingEntry['status'], string> = {
  recording: 'recording',
  paused: 'paused',
  processing: 'preparing the replay…',
  ready: 'ready',
  failed: 'failed',
}

/**
 * Record the session (no video: the code as typed, chat, runs, who came and went) and manage the
 * recordings. Start with a title, description and public/private; pause, resume and stop, with a
 * duration that leaves pauses out. Everyone in the room sees "This session is being recorded" in
 * the room's bar while it runs (and, under the session's `consent` policy, chooses whether they are
 * recorded by name). The list plays a recording inline, downloads it as JSON, copies the share link of public
 * ones, and (for those who manage recordings) switches public/private, edits and deletes.
 *
 * @tag session-recording
 * @summary Start, pause, stop and manage recordings of the session.
 *
 * @csspart controls - Start / pause / resume / stop and the live duration.
 * @csspart list - The recordings.
 * @csspart recording - One recording.
 * @csspart player - The inline player.
 *
 * @cssprop --session-color-danger - The recording dot and Stop.
 */
export class SessionRecording extends SessionElement {
  /** @internal The player of the inline replays. */
  static override dependencies = { 'session-player': SessionPlayer }

  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, formStyles, styles, statusStyles, listStyles]

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _error = ''
  @state() private _now = Date.now()
  @state() private _playing: string | null = null
  @state() private _editing: string | null = null
  @state() private _confirmDelete: string | null = null

  #tick?: ReturnType<typeof setInterval>
  #poll?: ReturnType<typeof setTimeout>
  #room = new RoomController(this, { events: { session: () => void this.#list.reload() } })
  #list = new LoadController<RecordingEntry[], [RoomClient]>(this, {
    args: () => (this.#room.state?.status === 'live' ? [this.#room.state.client] : null),
    request: ([client], signal) => client.api('GET', '/recordings', undefined, signal),
    parse: (json) => (json as { recordings: RecordingEntry[] }).recordings,
    failure: (e) => `The recordings could not be loaded: ${e.message}`,
    onLoad: (list) => {
      this._error = ''
      this._now = Date.now()
      clearTimeout(this.#poll)
      // Replays are prepared in the background: look again until they are ready.
      if (list.some((r) => r.status === 'processing')) this.#poll = setTimeout(() => void this.#list.reload(), 1500)
    },
  })
  #busy = new BusyController(this)

  override connectedCallback() {
    super.connectedCallback()
    this.#tick = setInterval(() => {
      if (this.#active) this._now = Date.now()
    }, 1000)
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    clearInterval(this.#tick)
    clearTimeout(this.#poll)
  }

  get #active(): RecordingEntry | undefined {
    return this.#list.value?.find((r) => r.status === 'recording' || r.status === 'paused')
  }

  async #call(key: string, method: string, path: string, body?: unknown, done?: string): Promise<Response | null> {
    this.#busy.busy = key
    try {
      const res = await this.#room.state!.client.api(method, path, body)
      if (!res.ok) {
        this._error = await errorMessage(res)
        return null
      }
      this._error = ''
      if (done) this.#busy.announce(done)
      await this.#list.reload()
      return res
    } catch {
      this._error = 'The server could not be reached.'
      return null
    } finally {
      this.#busy.busy = ''
    }
  }

  async #start(e: Event) {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const data = new FormData(form)
    const title = String(data.get('title') ?? '').trim()
    if (!title) {
      this._error = 'Give the recording a title.'
      return
    }
    const res = await this.#call('start', 'POST', '/recordings', { title, description: String(data.get('description') ?? '').trim() || undefined, isPublic: data.get('public') === 'on' }, `Recording “${title}” started.`)
    if (res) form.reset()
  }

  async #save(e: Event, r: RecordingEntry) {
    e.preventDefault()
    const data = new FormData(e.target as HTMLFormElement)
    const title = String(data.get('title') ?? '').trim()
    if (!title) {
      this._error = 'A recording needs a title.'
      return
    }
    const res = await this.#call(r.id, 'PATCH', `/recordings/${r.id}`, { title, description: String(data.get('description') ?? '').trim() || null }, 'Saved.')
    if (res) this._editing = null
  }

  async #download(r: RecordingEntry) {
    const res = await this.#room.state!.client.api('GET', `/recordings/${r.id}/download`)
    if (!res.ok) {
      this._error = `The recording could not be downloaded: ${await errorMessage(res)}`
      return
    }
    await downloadResponse(res, `${r.title}.json`, this)
  }

  /** The page that plays a public recording to anyone with the link. */
  shareLink(r: Pick<RecordingEntry, 'id'>): string {
    return `${this.#room.state!.client.baseUrl}/recordings/${encodeURIComponent(r.id)}`
  }

  async #copyShare(r: RecordingEntry) {
    const link = this.shareLink(r)
    try {
      await navigator.clipboard.writeText(link)
      this.#busy.announce(`Share link copied: ${link}`)
    } catch {
      this.#busy.announce(`Copying was blocked; the link is ${link}`)
    }
  }

  protected override render() {
    const state = this.#room.state
    if (!state) return html`<p class="empty">Recordings work inside a &lt;session-room&gt;.</p>`
    if (!state.participant) return html`<p class="empty" role="status">Connecting…</p>`
    const canCreate = state.can(Permission.CREATE_RECORDING)
    const canManage = state.can(Permission.MANAGE_RECORDINGS)
    const active = this.#active
    const list = this.#list
    const error = this._error || list.error
    return html`
      ${active ? this.#renderActive(active, canManage) : canCreate ? this.#renderStart() : nothing}
      ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}
      ${list.status === 'idle' || list.status === 'loading'
        ? html`<p class="empty" role="status">Loading recordings…</p>`
        : list.status === 'empty'
          ? html`<p class="empty">No recordings yet.</p>`
          : html`<ul part="list" class="list" aria-label="Recordings">
              ${(list.value ?? []).map((r) => this.#renderItem(r, canManage))}
            </ul>`}
      ${this._playing ? html`<session-player part="player" recording=${this._playing}></session-player>` : nothing}
      ${this.#busy.region()}
    `
  }

  #renderStart() {
    return html`<form part="controls" @submit=${this.#start}>
      <label>Title <input type="text" name="title" required maxlength="200" placeholder="Today’s lesson" /></label>
      <label>Description <input type="text" name="description" maxlength="2000" placeholder="Optional" /></label>
      <label class="inline"><input type="checkbox" name="public" /> Public (anyone with the link can watch)</label>
      <button class="primary" type="submit" ?disabled=${this.#busy.is('start')}>Start recording</button>
    </form>`
  }

  #renderActive(r: RecordingEntry, canManage: boolean) {
    const paused = r.status === 'paused'
    return html`<div part="controls" class="controls ${paused ? 'paused' : ''}" role="group" aria-label="Recording controls">
      <span class="live"
        ><span class="dot" aria-hidden="true"></span>${paused ? 'Paused' : 'Recording'} “${r.title}” ·
        <span class="counter" role="timer" aria-label="Recorded time">${clock(recordedMs(r, this._now))}</span></span
      >
      ${canManage
        ? html`<button type="button" ?disabled=${this.#busy.is(r.id)} @click=${() => this.#call(r.id, 'POST', `/recordings/${r.id}/${paused ? 'resume' : 'pause'}`, undefined, paused ? 'Recording resumed.' : 'Recording paused.')}>
              ${paused ? 'Resume' : 'Pause'}
            </button>
            <button type="button" class="danger" ?disabled=${this.#busy.is(r.id)} @click=${() => this.#call(r.id, 'POST', `/recordings/${r.id}/stop`, undefined, 'Recording stopped; the replay is being prepared.')}>Stop</button>`
        : nothing}
    </div>`
  }

  #renderItem(r: RecordingEntry, canManage: boolean) {
    const busy = this.#busy.is(r.id)
    const ready = r.status === 'ready'
    if (this._editing === r.id) {
      return html`<li part="recording" class="recording item">
        <form @submit=${(e: Event) => this.#save(e, r)}>
          <label>Title <input type="text" name="title" required maxlength="200" .value=${r.title} /></label>
          <label>Description <input type="text" name="description" maxlength="2000" .value=${r.description ?? ''} /></label>
          <button class="primary" type="submit" ?disabled=${busy}>Save</button>
          <button type="button" @click=${() => (this._editing = null)}>Cancel</button>
        </form>
      </li>`
    }
    return html`<li part="recording" class="recording item">
      <span class="what">
        <span class="title">${r.title}</span>
        <span class="meta"
          >${STATUS_WORDS[r.status]} · ${clock(r.status === 'recording' || r.status === 'paused' ? recordedMs(r, this._now) : r.durationMs)} · ${r.isPublic ? 'public' : 'private'} · by ${r.creatorName},
          ${relativeTime(r.startedAt)}${r.description ? html` · ${r.description}` : nothing}</span
        >
      </span>
      <span class="actions">
        ${ready ? html`<button type="button" aria-pressed=${String(this._playing === r.id)} @click=${() => (this._playing = this._playing === r.id ? null : r.id)}>${this._playing === r.id ? 'Close player' : 'Play'}<span class="visually-hidden"> ${r.title}</span></button>` : nothing}
        ${ready ? html`<button type="button" @click=${() => this.#download(r)}>Download<span class="visually-hidden"> ${r.title}</span></button>` : nothing}
        ${ready && r.isPublic ? html`<button type="button" @click=${() => this.#copyShare(r)}>Copy share link<span class="visually-hidden"> for ${r.title}</span></button>` : nothing}
        ${canManage
          ? html`<button type="button" ?disabled=${busy} @click=${() => this.#call(r.id, 'PATCH', `/recordings/${r.id}`, { isPublic: !r.isPublic }, r.isPublic ? `“${r.title}” is private.` : `“${r.title}” is public.`)}>
                ${r.isPublic ? 'Make private' : 'Make public'}<span class="visually-hidden"> ${r.title}</span>
              </button>
              <button type="button" @click=${() => (this._editing = r.id)}>Edit<span class="visually-hidden"> ${r.title}</span></button>
              ${this._confirmDelete === r.id
                ? html`<span role="group" aria-label="Confirm deleting ${r.title}"
                    >Delete for good?
                    <button type="button" class="danger" ?disabled=${busy} @click=${async () => {
                      this._confirmDelete = null
                      if (this._playing === r.id) this._playing = null
                      await this.#call(r.id, 'DELETE', `/recordings/${r.id}`, undefined, `“${r.title}” was deleted.`)
                    }}>Delete</button>
                    <button type="button" @click=${() => (this._confirmDelete = null)}>Cancel</button></span
                  >`
                : html`<button type="button" class="danger" @click=${() => (this._confirmDelete = r.id)}>Delete<span class="visually-hidden"> ${r.title}</span></button>`}`
          : nothing}
      </span>
    </li>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-recording': SessionRecording
  }
}
