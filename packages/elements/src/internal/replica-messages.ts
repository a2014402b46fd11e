import type { BatchJSON } from './rebase.js'

/**
 * Messages between `DocSync` on the page's main thread and the `Replica` that owns the Automerge
 * document (in the document worker, or in the page when no worker can start).
 *
 * Versions, in the style of @codemirror/collab: the page numbers its local edits (`seq`, from 1
 * after each `ready`), the replica numbers its remote batches (`version`, likewise). Each side
 * says how many of the other's it had applied when it spoke (`base` on an edit, `applied` on a
 * batch), and maps what it receives through what it has done since (see `rebase`). An `epoch`
 * counts discarded replicas, so nothing from a replica the page dropped is applied.
 */
export type ToReplica =
  /** Worker only: load Automerge with this compiled wasm (the page's), or from this URL. */
  | { type: 'init'; wasmUrl: string; module?: WebAssembly.Module }
  /** A new connection (number `conn`): a fresh sync state, sending on. */
  | { type: 'attach'; conn: number }
  | { type: 'detach' }
  /** Sync frames from the server, in order. */
  | { type: 'receive'; frames: Uint8Array[] }
  /** A local edit of one file (a ChangeSet's JSON) made after `base` remote batches. */
  | { type: 'edit'; seq: number; base: number; file: string; changes: unknown }
  /** The page has applied remote batches up to `version` of `epoch` (the replica may forget them). */
  | { type: 'seen'; epoch: number; version: number }
  /** Drop the document and start over from the server's; what follows belongs to `epoch`. */
  | { type: 'discard'; epoch: number }
  /** Which of these change hashes the document holds. */
  | { type: 'check'; id: number; hashes: string[] }
  /** Changes kept from an earlier visit: apply those the document lacks. */
  | { type: 'restore'; id: number; changes: { hash: string; bytes: Uint8Array }[] }
  /** Automerge cursors for positions in the page's text (after `base` remote batches). */
  | { type: 'cursor'; id: number; base: number; file: string; positions: number[] }
  /** Where Automerge cursors are now. */
  | { type: 'locate'; id: number; file: string; cursors: string[] }

export type FromReplica =
  /** Automerge is loaded: the replica works. */
  | { type: 'loaded' }
  /** Automerge could not load in the worker. */
  | { type: 'failed'; message: string }
  /** A sync message for connection `conn`. */
  | { type: 'send'; conn: number; bytes: Uint8Array }
  /** The first full sync of `epoch`: every file's text, in the document's order. */
  | { type: 'ready'; epoch: number; files: [string, string][] }
  /** Remote batch `version`, made after `applied` local edits; `order` when files were added or removed. */
  | { type: 'remote'; epoch: number; version: number; applied: number; edits: BatchJSON; order?: string[] }
  /** Local edit `seq` is in the document: as the change `hash` (its `bytes` to keep until acknowledged), or as nothing. */
  | { type: 'applied'; epoch: number; seq: number; file: string; change: { hash: string; bytes: Uint8Array } | null }
  | { type: 'checked'; id: number; present: string[] }
  | { type: 'restored'; id: number; stranded: string[] }
  | { type: 'cursor'; id: number; cursors: (string | number)[] }
  /** Positions as of `applied` local edits (null where a cursor no longer resolves). */
  | { type: 'located'; id: number; epoch: number; applied: number; positions: (number | null)[] }
