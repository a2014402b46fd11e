import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit'
import type { RoomClient } from '../internal/room-client.js'
import type { RoomController } from '../room-controller.js'
import type { TextSource } from '../text-source.js'
import type { CodeEditor } from './editor-view.js'

/** Keys that move through the code: pressed while following, the person takes over. */
const MOVES = /^(Arrow|Page)|^(Home|End)$/

export type FollowPhase = 'none' | 'leading' | 'following' | 'away'

/** What following needs of the editor, read when it acts. */
export interface FollowTarget {
  /** The text shown (live) and the file shown. */
  source: TextSource | null
  file: string
  editor: CodeEditor | null
  /** The leader went to another file (or following began or ended): show `file` now. */
  fileChanged(): void
  /** Say something politely (the editor's live region). */
  say(text: string): void
}

/**
 * "Follow me" in one editor. While an instructor leads, the editor shows the file they are in and
 * keeps their cursor in view; the person may break away (scrolling with the wheel, a touch or the
 * keys, switching file, "Stop following") and come back with one click. The leader's own editor
 * says everyone follows them. Breaking away holds for that lead only, across reconnects.
 */
export class FollowController implements ReactiveController {
  #client: RoomClient | null = null
  /** `since` of the lead this person broke away from. */
  #awayFrom: string | null = null
  #leaderFile: string | null = null
  /** The leader's file that was shown when the person broke away by scrolling: they read on there. */
  #heldFile: string | null = null
  #round = 0
  /** The file the editor was last told to show (null: its own). */
  #told: string | null = null
  #said = ''

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly room: RoomController,
    private readonly target: () => FollowTarget,
  ) {
    host.addController(this)
  }

  hostConnected() {}

  hostDisconnected() {
    this.watch(null)
  }

  get #lead() {
    return this.room.state?.lecture.follow ?? null
  }

  get phase(): FollowPhase {
    const lead = this.#lead
    if (!lead) return 'none'
    if (lead.userId === this.room.state?.participant?.userId) return 'leading'
    return this.#awayFrom === lead.since ? 'away' : 'following'
  }

  /** The file to show instead of one's own: where the leader is, while following them. */
  get file(): string | null {
    const phase = this.phase
    return phase === 'following' ? this.#leaderFile : phase === 'away' ? this.#heldFile : null
  }

  /** Follow this room connection's presence (null: stop). */
  watch(client: RoomClient | null) {
    if (client === this.#client) return
    for (const type of ['presence', 'presences', 'joined']) this.#client?.events.removeEventListener(type, this.update)
    this.#client = client
    for (const type of ['presence', 'presences', 'joined']) client?.events.addEventListener(type, this.update)
  }

  /** The room or the leader's cursor changed: switch file or bring their cursor into view. */
  update = () => {
    const phase = this.phase
    const lead = this.#lead
    const cursor = phase === 'following' ? this.#client?.participants.get(lead!.userId)?.cursor : null
    if (cursor) this.#leaderFile = cursor.file
    if (phase === 'none') this.#leaderFile = this.#heldFile = null
    const file = this.file
    if (file !== this.#told) {
      this.#told = file
      this.target().fileChanged()
    } else if (cursor) void this.reveal()
    // The banner says where the leader is: drawn again only when that changed, not per keystroke.
    const said = `${phase}|${this.#leaderFile}`
    if (said !== this.#said) {
      this.#said = said
      this.host.requestUpdate()
    }
  }

  /** Scroll the leader's cursor into view (centred after a jump), without moving this person's. */
  async reveal(jump = false) {
    const lead = this.#lead
    const { source, editor, file } = this.target()
    const cursor = lead && this.phase === 'following' ? this.#client?.participants.get(lead.userId)?.cursor : null
    if (!cursor || !source || !editor || cursor.file !== file) return
    const round = ++this.#round
    const [head] = await source.cursorPositions(file, [cursor.head])
    if (round === this.#round && head !== null && head !== undefined && this.phase === 'following') editor.reveal(head, jump)
  }

  /**
   * The person scrolled, switched file or chose to stop: they read on their own, in the file shown
   * (`keepFile`) or, having switched file, in theirs.
   */
  breakAway(why?: string, keepFile = true) {
    const lead = this.#lead
    if (this.phase !== 'following' || !lead) return
    this.#awayFrom = lead.since
    this.#heldFile = keepFile ? this.#leaderFile : null
    this.target().say(`${why ?? 'You stopped following'} ${lead.name}. “Follow ${lead.name} again” takes you back.`)
    this.update()
  }

  rejoin() {
    const lead = this.#lead
    this.#awayFrom = null
    this.#heldFile = null
    if (lead) this.target().say(`Following ${lead.name} again.`)
    this.update()
    void this.reveal(true)
  }

  /** In the code: the wheel, a touch or a key that moves means the person takes over. */
  readonly listeners = {
    wheel: () => this.breakAway('You scrolled away from'),
    touchmove: () => this.breakAway('You scrolled away from'),
    keydown: (e: KeyboardEvent) => MOVES.test(e.key) && this.breakAway('You moved away from'),
  }

  /** The banner above the code. */
  render() {
    const lead = this.#lead
    const phase = this.phase
    if (!lead || phase === 'none') return nothing
    const bar = (text: unknown, action: unknown) => html`<div part="follow" class="follow ${phase}" role="group" aria-label="Follow">
      <span class="follow-text">${text}</span>${action}
    </div>`
    if (phase === 'leading') {
      return bar('Everyone is following you: they see your file and your cursor.', html`<button type="button" part="follow-action" @click=${() => this.room.lead({ type: 'follow', on: false })}>Stop leading</button>`)
    }
    if (phase === 'away') {
      return bar(html`${lead.name} is leading.`, html`<button type="button" part="follow-action" class="primary" @click=${() => this.rejoin()}>Follow ${lead.name} again</button>`)
    }
    return bar(
      html`Following <strong>${lead.name}</strong>${this.#leaderFile ? html` in ${this.#leaderFile}` : ' (waiting for them to click in the code)'}`,
      html`<button type="button" part="follow-action" @click=${() => this.breakAway()}>Stop following</button>`,
    )
  }
}
