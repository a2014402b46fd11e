import type { Cursor, TextSplice } from '@session-kit/core'
import type { TextSource } from '../text-source.js'

/**
 * A light viewer's copy of the room's text (protocol 2, `view` mode): the server's `text` frame,
 * then its `splices` frames applied in order to plain strings. No Automerge at all — a person who
 * cannot edit never downloads the wasm — and each remote edit costs O(splice) in the editor.
 *
 * The server orders every durable edit once for all viewers, so there is nothing to merge: a
 * splice's index is exact for the text as it stood after the splice before it.
 */
export class ViewSync extends EventTarget implements TextSource {
  readonly kind = 'view'
  /** A view has no local edits. */
  readonly pending = 0
  #files = new Map<string, string>()
  #heads: readonly string[] = []
  #synced = false

  get synced(): boolean {
    return this.#synced
  }

  /** The document version the text stands at (the last frame's heads). */
  get heads(): readonly string[] {
    return this.#heads
  }

  /**
   * Every file's whole text (on joining, and when files were added, renamed or removed). The first
   * one makes the view `ready`; later ones say `text`, and the editor reads the file again.
   */
  load(files: Record<string, string>, heads: readonly string[]) {
    const first = !this.#synced
    this.#files = new Map(Object.entries(files))
    this.#heads = heads
    this.#synced = true
    this.dispatchEvent(new Event(first ? 'ready' : 'text'))
  }

  /** One durable batch of edits, in order. Ignored until the text it applies to has arrived. */
  apply(splices: readonly TextSplice[], heads: readonly string[]) {
    if (!this.#synced) return
    const applied: TextSplice[] = []
    for (const s of splices) {
      const text = this.#files.get(s.file)
      // A file this view does not hold (hidden from it, or added before its `text` frame).
      if (text === undefined) continue
      this.#files.set(s.file, text.slice(0, s.index) + s.insert + text.slice(s.index + s.delete))
      applied.push(s)
    }
    this.#heads = heads
    if (applied.length) this.dispatchEvent(new CustomEvent<TextSplice[]>('splices', { detail: applied }))
  }

  /**
   * What is held is out of date (this view becomes the source again after a time as a full peer):
   * keep it for reading, but it is not `synced` until the next `load`.
   */
  reset() {
    if (!this.#synced) return
    this.#synced = false
    this.dispatchEvent(new Event('reset'))
  }

  text(file: string): string | undefined {
    return this.#files.get(file)
  }

  files(): string[] {
    return [...this.#files.keys()]
  }

  /** A viewer's cursor is its offset: the server maps it for everyone else. */
  cursor(_file: string, pos: number): Promise<Cursor['anchor']> {
    return Promise.resolve(pos)
  }

  /** The server sends a viewer others' cursors as offsets into this text; anything else does not resolve. */
  cursorPositions(_file: string, cursors: Cursor['anchor'][]): Promise<(number | null)[]> {
    return Promise.resolve(cursors.map((c) => (typeof c === 'number' ? c : null)))
  }
}
