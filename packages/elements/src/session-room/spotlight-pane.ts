import { html, nothing, type ReactiveControllerHost } from 'lit'
import type { Spotlight } from '@session-kit/core'
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
 * The spotlight everyone sees: one participant's file around their cursor, read-only, redrawn as
 * they type and move. It reads the room's document (asking for it on a page with no editor) and
 * their cursor from the room's presence; it never touches anyone's editor.
 */
export class SpotlightPane {
  #userId: string | null = null
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
    const userId = spot?.userId ?? null
    if (userId === this.#userId && source === this.#source) return
    this.stop()
    this.#userId = userId
    this.#source = source
    if (!userId) return
    if (!source) return this.client.needDocument()
    for (const type of ['presence', 'presences', 'left']) this.client.events.addEventListener(type, this.#queue)
    for (const type of ['ready', 'text', 'splices']) source.addEventListener(type, this.#queue)
    void this.#draw()
  }

  stop() {
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (const type of ['presence', 'presences', 'left']) this.client.events.removeEventListener(type, this.#queue)
    for (const type of ['ready', 'text', 'splices']) this.#source?.removeEventListener(type, this.#queue)
    this.#userId = null
    this.#source = null
    this.#view = null
  }

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
}
