import type { Patch } from '@automerge/automerge/slim'
import type { TextSplice } from '../text-source.js'

/** What a batch of Automerge patches did to the room's files. */
export interface FileChanges {
  /** Edits inside files that still hold the same text object, in order, each against the text after the one before. */
  splices: TextSplice[]
  /** Files added, removed or given a new text object (a rename is one removed and one added): splices cannot describe them. */
  reshaped: Set<string>
  /** The `files` map itself was replaced (the first sync): every file may have changed. */
  all: boolean
}

/**
 * Read a batch of Automerge patches as text splices of `files[name]` in UTF-16 code units (the
 * unit of Automerge's JavaScript text API). A file reshaped anywhere in the batch contributes no
 * splices: its new text is read whole.
 */
export function fileChanges(patches: readonly Patch[]): FileChanges {
  const splices: TextSplice[] = []
  const reshaped = new Set<string>()
  let all = false
  for (const p of patches) {
    if (p.path[0] !== 'files') continue
    if (p.path.length === 1) {
      all = true
      continue
    }
    const file = p.path[1]
    if (typeof file !== 'string') continue
    if (p.path.length === 2) {
      if (p.action === 'put' || p.action === 'del' || p.action === 'conflict') reshaped.add(file)
      continue
    }
    const index = p.path[2]
    if (p.path.length !== 3 || typeof index !== 'number') continue
    if (p.action === 'splice') splices.push({ file, index, delete: 0, insert: p.value })
    else if (p.action === 'del') splices.push({ file, index, delete: p.length ?? 1, insert: '' })
  }
  return { splices: all ? [] : splices.filter((s) => !reshaped.has(s.file)), reshaped, all }
}
