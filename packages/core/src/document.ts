/**
 * The room's document and the edits made to it, as both sides speak of them. Types only: core
 * never loads Automerge, the server and the elements do.
 */

/**
 * The document's shape: `{ files: { [name]: text } }`, each text an Automerge text. A type, not an
 * interface, so it satisfies Automerge's `Record<string, unknown>` bound (`A.from<DocShape>`).
 */
export type DocShape = {
  files: Record<string, string>
}

/** An edit as an editor makes it, in positions of the text just before it: replace `from`…`to` with `insert`. */
export interface LocalEdit {
  from: number
  to: number
  insert: string
}

/** An edit at a plain index: delete `del` characters at `at`, then insert `ins`. */
export interface TextEdit {
  /** Visible character index in the text before this edit. */
  at: number
  /** Characters removed at `at`. */
  del: number
  /** Text inserted at `at`. */
  ins: string
}

/** A `TextEdit` of a named file: what the server's index works out and recordings replay. */
export interface Splice extends TextEdit {
  file: string
}

/**
 * One edit of a file's text, for light viewers (the wire's spelling): at `index` (UTF-16 code
 * units of the text as it stood after the previous splice), remove `delete` code units and put
 * `insert` there.
 */
export interface TextSplice {
  file: string
  index: number
  delete: number
  insert: string
}
