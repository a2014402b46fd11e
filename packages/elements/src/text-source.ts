import type { Cursor, TextSplice } from '@session-kit/core'

export type { TextSplice }

/** Text the server refused or never acknowledged, shown so the person can copy it. */
export interface UnsentEdit {
  file: string
  text: string
}

/**
 * What an editor shows of the room's document: every file's text, and the splices that change it.
 * Two kinds feed it: a full Automerge replica (`DocSync`, for those who may edit), and a light
 * view (`ViewSync`, protocol 2's text stream: no Automerge, each remote edit O(splice)).
 *
 * Events:
 * - `ready`: the text is complete (first sync, or after a `reset`);
 * - `reset`: the source is being rebuilt from the server (keep showing what is there, read-only);
 * - `splices` (CustomEvent<TextSplice[]>): remote edits, in order, each against the text as it
 *   stood after the one before — the editor applies them as they come, O(splice);
 * - `text`: the whole text changed in a way splices do not describe (files added, removed or
 *   renamed; a rebuilt replica): read `text(file)` again;
 * - `unsent` (CustomEvent<UnsentEdit[]>): edits that could not be saved;
 * - `saved`: `pending` changed.
 */
export interface TextSource extends EventTarget {
  readonly kind: 'full' | 'view'
  readonly synced: boolean
  /** Local edits not yet acknowledged by the server (always 0 for a view). */
  readonly pending: number
  text(file: string): string | undefined
  files(): string[]
  /** A stable cursor for a position in a file (Automerge cursor for a replica, the offset for a view). */
  cursor(file: string, pos: number): Promise<Cursor['anchor']>
  /** Where other people's cursors are now (null where a cursor no longer resolves). */
  cursorPositions(file: string, cursors: Cursor['anchor'][]): Promise<(number | null)[]>
}
