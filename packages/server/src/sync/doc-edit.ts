import * as A from '@automerge/automerge'
import type { DocShape } from '@session-kit/core'

/**
 * Make a document's files equal `files`: files not named are deleted, new ones added, and changed
 * ones edited by their differing middle (so concurrent edits elsewhere in the text survive). How
 * every change the server makes itself is expressed: adding, renaming and deleting files, restores.
 */
export function restoreInto(d: DocShape, files: Record<string, string>) {
  for (const name of Object.keys(d.files)) if (!(name in files)) delete d.files[name]
  for (const [name, target] of Object.entries(files)) {
    if (!(name in d.files)) {
      d.files[name] = target
      continue
    }
    const current = String(d.files[name])
    if (current === target) continue
    let start = 0
    while (start < current.length && start < target.length && current[start] === target[start]) start++
    let endC = current.length
    let endT = target.length
    while (endC > start && endT > start && current[endC - 1] === target[endT - 1]) {
      endC--
      endT--
    }
    A.splice(d, ['files', name], start, endC - start, target.slice(start, endT))
  }
}
