import { ChangeSet, Text, type ChangeSpec } from '@codemirror/state'
import type { LocalEdit } from '@session-kit/core'
import type { TextSplice } from '../text-source.js'

/**
 * What one batch did to one file: edits of its text, or a whole new text (the file was added or
 * given a new text object), or its removal.
 */
export type FileEdit = { changes: ChangeSet } | { text: string } | { deleted: true }

/** A batch of remote edits, file by file. */
export type Batch = Map<string, FileEdit>

/** A batch as it crosses between threads (ChangeSets as their JSON). */
export type BatchJSON = [file: string, edit: { changes: unknown } | { text: string } | { deleted: true }][]

export function batchToJSON(batch: Batch): BatchJSON {
  return [...batch].map(([file, e]) => [file, 'changes' in e ? { changes: e.changes.toJSON() } : e])
}

export function batchFromJSON(json: BatchJSON): Batch {
  return new Map(json.map(([file, e]) => [file, 'changes' in e ? { changes: ChangeSet.fromJSON(e.changes) } : e]))
}

/**
 * The one rule both threads use to reconcile a local edit of `file` with a remote batch that was
 * made without seeing it (in the style of @codemirror/collab): returns the local edit as it
 * applies after the batch, and the batch as it applies after the local edit. Both orders give
 * the same text; where both insert at one position, the local insert comes first. A local edit of
 * a file the batch replaced or removed is dropped (it edited a text object that is gone — what
 * Automerge does with it too); null stands for a dropped edit.
 */
export function rebase(local: ChangeSet | null, file: string, remote: Batch): [ChangeSet | null, Batch] {
  const edit = remote.get(file)
  if (!local || !edit) return [local, remote]
  if (!('changes' in edit)) return [null, remote]
  const mapped = new Map(remote)
  mapped.set(file, { changes: edit.changes.map(local) })
  return [local.map(edit.changes, true), mapped]
}

/** Splices that make these changes one after another, in UTF-16 code units. */
export function splicesOf(file: string, changes: ChangeSet): TextSplice[] {
  const out: TextSplice[] = []
  // In ascending order, a change's position in the text edited so far is its position in the result.
  changes.iterChanges((fromA, toA, fromB, _toB, inserted) => out.push({ file, index: fromB, delete: toA - fromA, insert: inserted.toString() }))
  return out
}

/**
 * A ChangeSet for edits of a text of `length` code units, all against that text. Inserted text is
 * split at `\n` only, so a `\r` stays a character of its line and lengths stay exact (CodeMirror
 * would otherwise read `\r\n` as one line break, one code unit shorter than in the document).
 */
export function changeSet(edits: readonly LocalEdit[], length: number): ChangeSet {
  const specs: ChangeSpec[] = edits.map((e) => ({ from: e.from, to: e.to, insert: Text.of(e.insert.split('\n')) }))
  return ChangeSet.of(specs, length)
}

/** One ChangeSet for splices of one file, each against the text after the one before. */
export function changesOf(splices: readonly TextSplice[], length: number): ChangeSet {
  let changes = ChangeSet.empty(length)
  for (const s of splices) changes = changes.compose(changeSet([{ from: s.index, to: s.index + s.delete, insert: s.insert }], changes.newLength))
  return changes
}

/** A string with splices applied, in order. */
export function applySplices(text: string, splices: readonly TextSplice[]): string {
  for (const s of splices) text = text.slice(0, s.index) + s.insert + text.slice(s.index + s.delete)
  return text
}
