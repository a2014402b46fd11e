import { html, nothing, svg } from 'lit'
import { property, query, state } from 'lit/decorators.js'
import { applyReplayEvent, languageForFile, replayStateAt, type Replay, type ReplayEvent } from '@session-kit/core'
import { SessionSeekEvent } from '../events/events.js'
import { LoadController } from '../internal/load-controller.js'
import { RoomController } from '../room-controller.js'
import { boxStyles, SessionElement } from '../session-element.js'
import type { CodeEditor } from '../session-editor/editor-view.js'
import { styles } from './session-player.styles.js'

const SPEEDS = [1, 2, 4, 8]

/** Where a replay comes from: a file, a server's public recording or the room's; the number changes when the player is put back in the page. */
type Source = readonly ['src' | 'server' | 'room', string, string, number]

function clock(ms: number): string {
  const s = Math.floor(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/**
 * Replays a recording: the code as it was typed, in a read-only editor, with who typed each
 * change. Play and pause, 1×–8× speed, a scrubber that seeks to any moment at once (from the
 * replay's keyframes), and markers for runs, chat messages and lecture moments (hands raised,
 * follow, spotlight) on the timeline. Inside a
 * `<session-room>` it plays the room's recordings (VIEW_CODE); with `server` it plays public
 * recordings without a token; with `src` a downloaded replay file.
 *
 * @tag session-player
 * @summary Replay a recorded coding session.
 *
 * @csspart controls - Play, time, speed.
 * @csspart scrubber - The position slider.
 * @csspart timeline - The markers for runs, chat messages and lecture moments.
 * @csspart editor - The read-only code.
 * @csspart files - The file tabs.
 * @csspart author - Who typed the latest change.
 * @csspart moments - The list of runs, chat messages and lecture moments, to jump to.
 *
 * @cssprop --session-player-height - Height of the code (default 20rem).
 *
 * @event session-seek - The code shown now matches a new position (`t` in ms, `renderMs`: how long it took).
 */
export class SessionPlayer extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, boxStyles, styles]

  /** The recording id: played from the room, or (with `server`) from its public link. */
  @property({ reflect: true }) recording?: string

  /** Base URL of the server, to play a public recording outside any room. */
  @property({ reflect: true }) server?: string

  /** URL of a replay file (what Download saves), to play it without a server. */
  @property({ reflect: true }) src?: string

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _t = 0
  @state() private _playing = false
  @state() private _speed = 1
  @state() private _file = ''
  @state() private _author = ''

  @query('.editor') private _editorHost?: HTMLElement

  #room = new RoomController(this)
  /** The replay shown: another recording or file replaces it at once, and a late answer for the previous one is dropped. */
  #replay = new LoadController<Replay, Source>(this, {
    keep: false,
    args: () => this.#source(),
    request: ([kind, where, id], signal) =>
      kind === 'src' ? fetch(where, { signal }) : kind === 'server' ? fetch(`${where.replace(/\/+$/, '')}/v1/recordings/${encodeURIComponent(id)}/public`, { signal }) : this.#room.state!.client.api('GET', `/recordings/${encodeURIComponent(id)}/events`, undefined, signal),
    parse: (json) => {
      if ((json as Replay).version !== 1) throw new Error('this replay was made by a newer version')
      return json as Replay
    },
    failure: (e) => `The recording could not be loaded: ${e.message}.`,
    isEmpty: () => false,
    onLoad: (replay) => void this.#show(replay),
  })
  /** The last source that could be played: kept while the room reconnects. */
  #lastSource: Source | null = null
  /** Disconnections so far: back in the page, the player loads again (its editor went). */
  #connections = 0
  #editor: CodeEditor | null = null
  #editorHost: HTMLElement | null = null
  #files: Record<string, string> = {}
  #index = 0
  #frame = 0
  #last = 0
  /** How long the last seek took to bring the code up to date (ms). */
  lastSeekMs = 0

  /** Position in the recording (ms, paused spans left out). */
  get currentTime(): number {
    return this._t
  }

  get duration(): number {
    return this._replay?.recording.durationMs ?? 0
  }

  /** The code of every file at the current position. */
  get files(): Readonly<Record<string, string>> {
    return this.#files
  }

  private get _replay(): Replay | null {
    return this.#replay.value ?? null
  }

  /** What to play: a file, a public recording, or (once the room is live) one of the room's. */
  #source(): Source | null {
    const live = this.#room.state?.status === 'live'
    const source: Source | null = this.src ? ['src', this.src, '', this.#connections] : !this.recording ? null : this.server ? ['server', this.server, this.recording, this.#connections] : live ? ['room', '', this.recording, this.#connections] : null
    if (source) this.#lastSource = source
    return this.#lastSource
  }

  async #show(replay: Replay) {
    this.pause()
    this._file = Object.keys(replay.files)[0] ?? ''
    await this.updateComplete
    if (this._replay !== replay) return
    await this.#ensureEditor()
    if (this._replay === replay) this.seek(0)
  }

  async #ensureEditor() {
    const host = this._editorHost
    // The code's box is drawn anew for each replay: an editor left in the previous one goes.
    if ((this.#editor && this.#editorHost === host) || !host) return
    this.#editor?.destroy()
    this.#editor = null
    const { CodeEditor } = await import('../session-editor/editor-view.js')
    if (this.#editor || host !== this._editorHost) return
    this.#editorHost = host
    this.#editor = new CodeEditor({
      parent: this._editorHost,
      root: this.shadowRoot!,
      text: '',
      language: languageForFile(this._file),
      readOnly: true,
      label: 'Recorded code, read-only',
      onLocalChange: () => {},
      onSelection: () => {},
      onRun: () => this.toggle(),
    })
  }

  /** Jump to a position (ms); the code shown is rebuilt from the nearest keyframe. */
  seek(t: number) {
    const replay = this._replay
    if (!replay) return
    const started = performance.now()
    this._t = Math.max(0, Math.min(t, replay.recording.durationMs))
    const { files, index } = replayStateAt(replay, this._t)
    this.#files = files
    this.#index = index
    if (!(this._file in files)) this._file = Object.keys(files)[0] ?? ''
    this.#editor?.replaceText(files[this._file] ?? '')
    this._author = this.#authorBefore(index)
    this.lastSeekMs = performance.now() - started
    this.dispatchEvent(new SessionSeekEvent(this._t, this.lastSeekMs))
  }

  #authorBefore(index: number): string {
    for (let i = index - 1; i >= 0; i--) {
      const e = this._replay!.events[i]!
      if (e.type === 'edit') return this.#name(e.userId)
    }
    return ''
  }

  #name(userId: string) {
    return this._replay?.participants[userId]?.name ?? 'Someone'
  }

  play() {
    if (!this._replay || this._playing) return
    if (this._t >= this.duration) this.seek(0)
    this._playing = true
    this.#last = performance.now()
    const replay = this._replay
    const tick = (now: number) => {
      if (!this._playing || this._replay !== replay) return
      const t = Math.min(this.duration, this._t + (now - this.#last) * this._speed)
      this.#last = now
      this.#advance(t)
      if (t >= this.duration) this._playing = false
      else this.#frame = requestAnimationFrame(tick)
    }
    this.#frame = requestAnimationFrame(tick)
  }

  pause() {
    this._playing = false
    cancelAnimationFrame(this.#frame)
  }

  toggle() {
    if (this._playing) this.pause()
    else this.play()
  }

  /** Move forward by applying the events up to `t` to the visible editor as edits (no full redraw). */
  #advance(t: number) {
    const replay = this._replay!
    let switched = false
    while (this.#index < replay.events.length && replay.events[this.#index]!.t <= t) {
      const e: ReplayEvent = replay.events[this.#index++]!
      if (e.type !== 'edit') continue
      const visible = e.splices.filter((s) => s.file === this._file)
      applyReplayEvent(this.#files, e)
      this._author = `${this.#name(e.userId)} is typing${e.splices[0] ? ` in ${e.splices[0].file}` : ''}`
      if (!(this._file in this.#files)) {
        this._file = Object.keys(this.#files)[0] ?? ''
        switched = true
      } else if (!switched) this.#editor?.applyEdits(visible)
    }
    if (switched) this.#editor?.replaceText(this.#files[this._file] ?? '')
    this._t = t
  }

  #showFile(name: string) {
    this._file = name
    this.#editor?.replaceText(this.#files[name] ?? '')
    void this.#editor?.setLanguage(languageForFile(name))
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.pause()
    this.#editor?.destroy()
    this.#editor = null
    this.#connections++
  }

  override connectedCallback() {
    super.connectedCallback()
    if (this.#connections) this.requestUpdate()
  }

  /** One moment in words: a run, a chat message, or a lecture change (hands, follow, spotlight). */
  #moment(m: Moment): string {
    const who = this.#name(m.userId)
    if (m.type === 'run') return `${who} ran ${m.file}: ${m.timedOut ? 'stopped by the time limit' : m.errors ? `${m.errors} error${m.errors === 1 ? '' : 's'}` : 'no errors'}`
    if (m.type === 'chat') return `${who}: ${m.text}`
    switch (m.change.kind) {
      case 'hand-raised':
        return `${who} raised a hand`
      case 'hand-lowered':
        return m.change.by ? `${m.change.by} lowered ${who}'s hand` : `${who} lowered their hand`
      case 'hands-cleared':
        return `${m.change.by} lowered every hand`
      case 'follow-started':
        return `${who} asked everyone to follow`
      case 'follow-stopped':
        return `${who} stopped leading`
      case 'spotlight-started':
        return `Spotlight on ${who}'s code`
      case 'spotlight-stopped':
        return `Spotlight on ${who} ended`
    }
  }

  protected override render() {
    if (this.#replay.status === 'error') return html`<p class="status error" role="alert">${this.#replay.error}</p>`
    const replay = this._replay
    if (!replay) return html`<p class="status" role="status">${this.recording || this.src ? 'Loading the recording…' : 'No recording chosen.'}</p>`
    const duration = replay.recording.durationMs
    const moments = replay.events.filter((e): e is Moment => e.type === 'run' || e.type === 'chat' || e.type === 'lecture')
    const x = (t: number) => (duration ? (t / duration) * 1000 : 0)
    const listed = `${moments.some((m) => m.type === 'lecture') ? 'Runs, chat and lecture' : 'Runs and chat'} (${moments.length})`
    return html`
      <header>
        <h2>${replay.recording.title}</h2>
        <div class="sub">${replay.recording.sessionTitle} · ${clock(duration)}${replay.recording.description ? html` · ${replay.recording.description}` : nothing}</div>
      </header>
      ${Object.keys(this.#files).length > 1
        ? html`<div part="files" class="files" role="group" aria-label="Files">
            ${Object.keys(this.#files).map((f) => html`<button type="button" aria-pressed=${String(f === this._file)} @click=${() => this.#showFile(f)}>${f}</button>`)}
          </div>`
        : nothing}
      <div part="editor" class="editor"></div>
      <div part="controls" class="controls">
        <button type="button" class="primary" @click=${() => this.toggle()}>${this._playing ? 'Pause' : 'Play'}</button>
        <span class="time" aria-live="off">${clock(this._t)} / ${clock(duration)}</span>
        <div class="track">
          <input
            part="scrubber"
            type="range"
            min="0"
            max=${duration}
            step="100"
            .value=${String(Math.round(this._t))}
            aria-label="Position in the recording"
            aria-valuetext="${clock(this._t)} of ${clock(duration)}"
            @input=${(e: Event) => this.seek(Number((e.target as HTMLInputElement).value))}
          />
          <svg
            part="timeline"
            viewBox="0 0 1000 10"
            preserveAspectRatio="none"
            role=${moments.length ? 'img' : nothing}
            aria-label=${moments.length ? `Timeline marks: each is in the list “${listed}” below` : nothing}
            aria-hidden=${moments.length ? nothing : 'true'}
          >
            ${moments.map((m) =>
              m.type === 'run'
                ? svg`<rect class="mark-run ${m.ok ? '' : 'failed'}" x=${x(m.t) - 3} y="0" width="6" height="10"><title>${this.#name(m.userId)} ran ${m.file}</title></rect>`
                : m.type === 'chat'
                  ? svg`<circle class="mark-chat" cx=${x(m.t)} cy="5" r="4"><title>${this.#name(m.userId)}: ${m.text}</title></circle>`
                  : svg`<path class="mark-lecture" d="M${x(m.t)} 0 L${x(m.t) + 4} 5 L${x(m.t)} 10 L${x(m.t) - 4} 5 Z"><title>${this.#moment(m)}</title></path>`,
            )}
          </svg>
        </div>
        <label
          >Speed
          <select @change=${(e: Event) => (this._speed = Number((e.target as HTMLSelectElement).value))}>
            ${SPEEDS.map((s) => html`<option value=${s} ?selected=${s === this._speed}>${s}×</option>`)}
          </select>
        </label>
      </div>
      <div part="author" class="author" aria-live="off">${this._author}</div>
      ${moments.length
        ? html`<details>
            <summary>${listed}</summary>
            <ul part="moments" class="moments">
              ${moments.map(
                (m) => html`<li>
                  <button type="button" @click=${() => this.seek(m.t)}>
                    ${clock(m.t)} — ${this.#moment(m)}
                  </button>
                </li>`,
              )}
            </ul>
          </details>`
        : nothing}
    `
  }
}

/** What the timeline marks and the list of moments names. */
type Moment = Extract<ReplayEvent, { type: 'run' | 'chat' | 'lecture' }>

declare global {
  interface HTMLElementTagNameMap {
    'session-player': SessionPlayer
  }
}
