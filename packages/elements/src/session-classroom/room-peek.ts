import type { LectureState, TextSplice } from '@session-kit/core'
import type { RoomClient } from '../internal/room-client.js'
import type { RoomStatus } from '../room-state.js'
import type { TextSource } from '../text-source.js'

/** Lines of code a tile shows. */
export const PEEK_LINES = 9
/** Redraws of one tile at most this often while its learner types. */
const DRAW_MS = 120

/** What a tile shows of a learner's room while it is on screen. */
export interface PeekView {
  status: RoomStatus | 'idle'
  file: string
  /** The lines shown, the first being line `first` (1-based); the last edited line is `edited` (0 when none yet). */
  first: number
  lines: string[]
  edited: number
  /** Whether the learner has a connection open in their room now. */
  online: boolean | null
  /** Their raised hand, as the room's lecture state tells an instructor. */
  hand: { question?: string } | null
}

export interface PeekHost {
  server: string
  /** A token for that room as an instructor (asked of the server; cached by the caller). */
  token(): Promise<string>
  /** Something the tile shows changed. */
  changed(): void
  /** The room told of a verified run or a hand: the overview's statuses are worth asking again. */
  news(): void
}

/**
 * One learner's room, followed as a light viewer (protocol 2, `mode: "view"`: plain text and
 * splices, no Automerge, never a write) while its tile is on screen, and not at all otherwise.
 */
export class RoomPeek {
  #client: RoomClient | null = null
  #starting: Promise<void> | null = null
  /** Whether the tile is still on screen once the connection's code has loaded. */
  #wanted = false
  #source: TextSource | null = null
  #file = ''
  #edited = 0
  #timer?: ReturnType<typeof setTimeout>
  #stopTimer?: ReturnType<typeof setTimeout>
  #settleTimer?: ReturnType<typeof setTimeout>
  view: PeekView

  constructor(
    readonly userId: string,
    readonly sessionId: string,
    private readonly host: PeekHost,
    preferredFile: string,
  ) {
    this.#file = preferredFile
    this.view = { status: 'idle', file: preferredFile, first: 1, lines: [], edited: 0, online: null, hand: null }
  }

  /** The room's connection, while the tile streams. */
  get client(): RoomClient | null {
    return this.#client
  }

  get streaming(): boolean {
    return this.#client !== null
  }

  /**
   * The tile came on screen: stream (again) once it has stayed there for `settle` ms, so a quick
   * scroll through 200 tiles opens no connection for the tiles it only passed.
   */
  start(settle = 250) {
    clearTimeout(this.#stopTimer)
    this.#stopTimer = undefined
    if (this.#client || this.#starting || this.#settleTimer) return
    if (settle > 0) {
      this.#settleTimer = setTimeout(() => {
        this.#settleTimer = undefined
        this.start(0)
      }, settle)
      return
    }
    // The connection's code is the room's: it loads with the first tile on screen.
    this.#starting = import('../define/session-room.js').then(({ SessionRoom }) => {
      this.#starting = null
      if (!this.#wanted) return
      const client: RoomClient = SessionRoom.connect({
        server: this.host.server,
        session: this.sessionId,
        view: true,
        token: () => undefined,
        tokenProvider: () => () => this.host.token(),
        onChange: () => this.#changed(client),
      })
      this.#connect(client)
    })
    this.#wanted = true
  }

  #connect(client: RoomClient) {
    this.#client = client
    client.needDocument()
    client.events.addEventListener('run', this.#onNews)
    client.events.addEventListener('lecture', this.#onNews)
    client.start()
    this.#changed(client)
  }

  /** The tile left the screen: stop streaming after a moment (a quick scroll past costs nothing). */
  pause(delay = 1500) {
    clearTimeout(this.#settleTimer)
    this.#settleTimer = undefined
    if (!this.#client || this.#stopTimer) return
    this.#stopTimer = setTimeout(() => this.stop(), delay)
  }

  /** Close the connection; what was shown stays, marked as not live. */
  stop() {
    this.#wanted = false
    clearTimeout(this.#stopTimer)
    clearTimeout(this.#settleTimer)
    this.#settleTimer = undefined
    clearTimeout(this.#timer)
    this.#stopTimer = this.#timer = undefined
    this.#watch(null)
    const client = this.#client
    this.#client = null
    if (client) {
      client.events.removeEventListener('run', this.#onNews)
      client.events.removeEventListener('lecture', this.#onNews)
      client.stop()
    }
    this.view = { ...this.view, status: 'idle', online: null }
    this.host.changed()
  }

  #onNews = () => this.host.news()

  #changed(client: RoomClient) {
    if (client !== this.#client) return
    this.#watch(client.source)
    this.#queue()
  }

  #watch(source: TextSource | null) {
    if (source === this.#source) return
    for (const type of ['ready', 'text', 'reset']) this.#source?.removeEventListener(type, this.#queue)
    this.#source?.removeEventListener('splices', this.#onSplices)
    this.#source = source
    for (const type of ['ready', 'text', 'reset']) source?.addEventListener(type, this.#queue)
    source?.addEventListener('splices', this.#onSplices)
  }

  /** Follow the learner's typing: the tile shows the lines around their latest edit. */
  #onSplices = (e: Event) => {
    const splices = (e as CustomEvent<TextSplice[]>).detail
    const last = splices[splices.length - 1]
    if (last) {
      this.#file = last.file
      const text = this.#source?.text(last.file) ?? ''
      this.#edited = text.slice(0, last.index + last.insert.length).split('\n').length
    }
    this.#queue()
  }

  #queue = () => {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined
      this.#draw()
    }, DRAW_MS)
  }

  #draw() {
    const client = this.#client
    if (!client) return
    const source = this.#source
    const files = source?.synced ? source.files() : []
    if (files.length && !files.includes(this.#file)) this.#file = files[0]!
    const text = source?.synced ? (source.text(this.#file) ?? '') : null
    const lecture: LectureState = client.lecture
    const hand = lecture.hands.find((h) => h.userId === this.userId)
    let { first, lines } = this.view
    if (text !== null) {
      const all = text.split('\n')
      const around = this.#edited || 1
      first = Math.max(1, Math.min(around - Math.floor(PEEK_LINES / 2), all.length - PEEK_LINES + 1))
      lines = all.slice(first - 1, first - 1 + PEEK_LINES)
    }
    this.view = {
      status: client.status,
      file: this.#file,
      first,
      lines,
      edited: this.#edited,
      online: client.status === 'live' ? client.participants.has(this.userId) : null,
      hand: hand ? { ...(hand.question ? { question: hand.question } : {}) } : null,
    }
    this.host.changed()
  }
}
