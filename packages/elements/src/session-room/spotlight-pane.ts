import { html, nothing, type ReactiveControllerHost } from 'lit'
import type { Spotlight, SpotlightText } from '@session-kit/core'
import type { RoomClient } from '../internal/room-client.js'
import type { TextSource } from '../text-source.js'

type View = Excerpt | 'no-cursor' | 'no-file' | null

/** Lines shown either side of the spotlighted cursor. */
const AROUND = 4
/** Presence and text changes are drawn at most this often (a person typing moves both). */
const DRAW_MS = 80

/** A few lines of one file around a position, with where the cursor is on its line. */
export interface Excerpt {
  file: string
  /** The cursor's line (1-based) and column. */
  line: number
  column: number
  /** The lines shown, the first being `first` (1-based). */
  first: number
  lines: string[]
}

/** The lines of `text` around offset `at` (clamped), `around` either side. */
export function excerpt(file: string, text: string, at: number, around = AROUND): Excerpt {
  const pos = Math.max(0, Math.min(at, text.length))
  const all = text.split('\n')
  const line = text.slice(0, pos).split('\n').length
  const column = pos - (text.lastIndexOf('\n', pos - 1) + 1)
  const first = Math.max(1, line - around)
  return { file, line, column, first, lines: all.slice(first - 1, line + around) }
}

/**
 * The lines of a spotlit assignment room's file around what changed last (the top of the file
 * before any change); the line where the change ends is `line`.
 */
export function roomExcerpt(frame: Pick<SpotlightText, 'file' | 'text' | 'changed'>, around = AROUND): Excerpt {
  return frame.changed ? excerpt(frame.file, frame.text, frame.changed.to, around) : excerpt(frame.file, frame.text, 0, around * 2)
}

/**
 * The spotlight everyone sees: one participant's file around their cursor, read-only, redrawn as
 * they type and move. It reads the room's document (asking for it on a page with no editor) and
 * their cursor from the room's presence; it never touches anyone's editor. A spotlit assignment
 * room (`sessionId`) is drawn from the server's `spotlight-text` frames instead.
 */
export class SpotlightPane {
  #userId: string | null = null
  /** The spotlit assignment room, while the spotlight shows one. */
  #room: string | null = null
  #source: TextSource | null = null
  #view: View = null
  #timer?: ReturnType<typeof setTimeout>
  #round = 0

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly client: RoomClient,
  ) {}

  /** Follow this spotlight in this source (null: nothing to follow). */
  sync(spot: Spotlight | null, source: TextSource | null) {
    const room = spot?.sessionId ?? null
    const userId = room ? null : (spot?.userId ?? null)
    if (room !== this.#room) {
      this.client.events[room ? 'addEventListener' : 'removeEventListener']('spotlight-text', this.#frame)
      this.#room = room
    }
    if (userId === this.#userId && source === this.#source) return
    this.stop(false)
    this.#userId = userId
    this.#source = source
    if (!userId) return
    if (!source) return this.client.needDocument()
    for (const type of ['presence', 'presences', 'left']) this.client.events.addEventListener(type, this.#queue)
    for (const type of ['ready', 'text', 'splices']) source.addEventListener(type, this.#queue)
    void this.#draw()
  }

  stop(all = true) {
    if (all && this.#room) {
      this.client.events.removeEventListener('spotlight-text', this.#frame)
      this.#room = null
    }
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (const type of ['presence', 'presences', 'left']) this.client.events.removeEventListener(type, this.#queue)
    for (const type of ['ready', 'text', 'splices']) this.#source?.removeEventListener(type, this.#queue)
    this.#userId = null
    this.#source = null
    this.#view = null
  }

  /** A new frame of the spotlit room: drawn on the host's next update. */
  #frame = () => this.host.requestUpdate()

  #queue = () => {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined
      void this.#draw()
    }, DRAW_MS)
  }

  async #draw() {
    const source = this.#source
    const userId = this.#userId
    if (!source?.synced || !userId) return
    const round = ++this.#round
    const cursor = this.client.participants.get(userId)?.cursor
    const text = cursor ? source.text(cursor.file) : undefined
    let view: View = !cursor ? 'no-cursor' : text === undefined ? 'no-file' : null
    if (cursor && text !== undefined) {
      const [head] = await source.cursorPositions(cursor.file, [cursor.head])
      // The text may have changed while the position was found: take it as it is now.
      view = excerpt(cursor.file, source.text(cursor.file) ?? text, head ?? 0)
    }
    if (round !== this.#round || source !== this.#source) return
    this.#view = view
    this.host.requestUpdate()
  }

  /** The pane, titled "Spotlight: Grace's code — main.py line 12"; `end` for those who may end it. */
  render(spot: Spotlight, end: (() => void) | null) {
    if (spot.sessionId) return this.#renderRoom(spot, end)
    const v = this.#view
    const at = typeof v === 'object' && v ? ` — ${v.file} line ${v.line}` : ''
    return html`<section part="spotlight" class="spotlight" aria-labelledby="spotlight-title">
      <header>
        <h2 id="spotlight-title">Spotlight: ${spot.name}'s code${at}</h2>
        ${end ? html`<button type="button" part="end-spotlight" @click=${end}>End spotlight</button>` : nothing}
      </header>
      ${typeof v === 'object' && v
        ? html`<pre tabindex="0" aria-label="${spot.name}'s code around their cursor, read-only">${v.lines.map((text, i) => {
            const n = v.first + i
            const here = n === v.line
            return html`<span class="line ${here ? 'here' : ''}"><span class="n" aria-hidden="true">${n}</span>${here
                ? html`${text.slice(0, v.column)}<span class="caret"><span class="visually-hidden">(${spot.name}'s cursor)</span></span>${text.slice(v.column)}`
                : text}</span>`
          })}</pre>`
        : html`<p class="note">${v === 'no-cursor' ? `${spot.name} has not placed their cursor in the code yet.` : v === 'no-file' ? `${spot.name} is in a file that is not shared.` : `Loading ${spot.name}'s code…`}</p>`}
    </section>`
  }

  /** A spotlit assignment room: "Spotlight: Grace's room — main.js", the lines around its last change, read-only. */
  #renderRoom(spot: Spotlight, end: (() => void) | null) {
    const frame = this.client.spotlightText?.sessionId === spot.sessionId ? this.client.spotlightText : null
    const v = frame && !frame.tooLong ? roomExcerpt(frame) : null
    const changed = frame?.changed
    return html`<section part="spotlight" class="spotlight" aria-labelledby="spotlight-title">
      <header>
        <h2 id="spotlight-title">Spotlight: ${spot.name}'s room${frame ? ` — ${frame.file}` : ''}</h2>
        ${end ? html`<button type="button" part="end-spotlight" @click=${end}>End spotlight</button>` : nothing}
      </header>
      ${v
        ? html`<pre tabindex="0" aria-label="${spot.name}'s room, ${v.file}, read-only">${v.lines.map((text, i) => {
            const n = v.first + i
            return html`<span class="line ${changed && n === v.line ? 'here' : ''}"><span class="n" aria-hidden="true">${n}</span>${text}</span>`
          })}</pre>`
        : html`<p class="note">${frame?.tooLong ? `${frame.file} is too long to show.` : `Loading ${spot.name}'s room…`}</p>`}
    </section>`
  }
}
