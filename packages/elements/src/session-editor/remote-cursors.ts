import type { RoomClient } from '../internal/room-client.js'
import type { RoomState } from '../room-state.js'
import type { TextSource } from '../text-source.js'
import type { CodeEditor, RemoteCursor } from './editor-view.js'

/** Server events after which remote cursors are drawn again. */
const CURSOR_EVENTS = ['presence', 'presences', 'joined', 'left'] as const

/** What drawing the cursors needs of the editor, read when they are drawn. */
export interface CursorTarget {
  room: RoomState | undefined
  /** The text shown (its positions map the cursors), while live. */
  source: TextSource | null
  editor: CodeEditor | null
  file: string
}

/**
 * Everyone else's cursors in this file: redrawn once per task for every presence change, with
 * their positions mapped through the text shown, and never drawn from an older picture.
 */
export class RemoteCursors {
  #client: RoomClient | null = null
  #queued = false
  #round = 0

  constructor(private readonly target: () => CursorTarget) {}

  /** Follow this room connection's presence events (null: stop). */
  watch(client: RoomClient | null) {
    if (client === this.#client) return
    for (const type of CURSOR_EVENTS) this.#client?.events.removeEventListener(type, this.queue)
    this.#client = client
    for (const type of CURSOR_EVENTS) client?.events.addEventListener(type, this.queue)
  }

  /** Redraw once for everything that moved in this task. */
  queue = () => {
    if (this.#queued) return
    this.#queued = true
    queueMicrotask(() => {
      this.#queued = false
      void this.#draw()
    })
  }

  async #draw() {
    const { room, source, editor, file } = this.target()
    if (!editor || !room || !source) return
    const round = ++this.#round
    const me = room.participant?.userId
    const people = [...room.client.participants.values()].filter((p) => p.userId !== me && p.cursor?.file === file)
    const positions = await source.cursorPositions(file, people.flatMap((p) => [p.cursor!.anchor, p.cursor!.head]))
    // A later round, or another source, has the newer picture.
    const now = this.target()
    if (round !== this.#round || now.source !== source || !now.editor) return
    const cursors: RemoteCursor[] = []
    people.forEach((p, i) => {
      const anchor = positions[2 * i]
      const head = positions[2 * i + 1]
      if (anchor === null || anchor === undefined || head === null || head === undefined) return
      cursors.push({ userId: p.userId, name: p.name, color: p.color, anchor, head })
    })
    now.editor.setRemoteCursors(cursors)
  }
}
