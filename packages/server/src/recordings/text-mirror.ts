import type * as A from '@automerge/automerge'

import type { Splice } from '@session-kit/core'

interface Elem {
  id: string
  counter: number
  actor: string
  value: string
  deleted: boolean
  block: Block
}

interface Block {
  elems: Elem[]
  visible: number
}

const BLOCK = 256

/** Automerge orders concurrent insertions after the same element by op id, greatest first. */
function greater(a: Elem, counter: number, actor: string): boolean {
  return a.counter !== counter ? a.counter > counter : a.actor > actor
}

/**
 * One text object's element sequence — tombstones included — mirroring Automerge's RGA order, in
 * blocks so that finding, inserting and indexing stay cheap as the text grows. It turns decoded
 * insert/delete ops (which name elements) into splices at plain indexes.
 */
class TextSeq {
  #blocks: Block[] = [{ elems: [], visible: 0 }]
  #byId = new Map<string, Elem>()

  #indexOf(e: Elem): number {
    // Visible characters before e.
    let n = 0
    for (const b of this.#blocks) {
      if (b === e.block) {
        for (const x of b.elems) {
          if (x === e) return n
          if (!x.deleted) n++
        }
      }
      n += b.visible
    }
    return n
  }

  #insertAt(block: Block, pos: number, e: Elem) {
    block.elems.splice(pos, 0, e)
    e.block = block
    if (!e.deleted) block.visible++
    if (block.elems.length > BLOCK * 2) {
      const i = this.#blocks.indexOf(block)
      const tail = block.elems.splice(BLOCK)
      const next: Block = { elems: tail, visible: 0 }
      for (const x of tail) {
        x.block = next
        if (!x.deleted) next.visible++
      }
      block.visible -= next.visible
      this.#blocks.splice(i + 1, 0, next)
    }
  }

  /** Insert a new element after `ref` ('_head' for the start); returns its visible index. */
  insert(ref: string, id: string, counter: number, actor: string, value: string): number | null {
    let block: Block
    let pos: number
    if (ref === '_head') {
      block = this.#blocks[0]!
      pos = 0
    } else {
      const r = this.#byId.get(ref)
      if (!r) return null
      block = r.block
      pos = block.elems.indexOf(r) + 1
    }
    // Skip following elements with a greater id: later or concurrent insertions that win.
    let bi = this.#blocks.indexOf(block)
    for (;;) {
      if (pos >= block.elems.length) {
        if (bi + 1 >= this.#blocks.length) break
        block = this.#blocks[++bi]!
        pos = 0
        continue
      }
      if (!greater(block.elems[pos]!, counter, actor)) break
      pos++
    }
    const e: Elem = { id, counter, actor, value, deleted: false, block }
    this.#insertAt(block, pos, e)
    this.#byId.set(id, e)
    return this.#indexOf(e)
  }

  /** Delete an element; returns its visible index, or null if it was already deleted or unknown. */
  delete(id: string): number | null {
    const e = this.#byId.get(id)
    if (!e || e.deleted) return null
    const at = this.#indexOf(e)
    e.deleted = true
    e.block.visible--
    return at
  }

  text(): string {
    let s = ''
    for (const b of this.#blocks) for (const e of b.elems) if (!e.deleted) s += e.value
    return s
  }
}

interface RawOp {
  action: string
  obj: string
  key?: string
  elemId?: string
  insert?: boolean
  value?: unknown
}

/**
 * The whole document as far as files go: which text object each file name holds, and each text's
 * sequence. `apply` takes decoded changes in the order the server accepted them and returns the
 * splices each produced (file creations and deletions included), so a replay can rebuild every
 * moment with plain string operations.
 */
export class DocMirror {
  #texts = new Map<string, TextSeq>()
  /** file name → text object id, and back. */
  #files = new Map<string, string>()
  #fileOf = new Map<string, string>()
  #filesObj: string | undefined

  constructor(filesObj?: string) {
    this.#filesObj = filesObj
  }

  files(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [name, obj] of this.#files) out[name] = this.#texts.get(obj)?.text() ?? ''
    return out
  }

  /** Apply one decoded change; returns its splices in order (empty for changes that touch no text). */
  apply(change: A.DecodedChange): { splices: Splice[]; created: string[]; removed: string[] } {
    const splices: Splice[] = []
    const created: string[] = []
    const removed: string[] = []
    change.ops.forEach((raw, i) => {
      const op = raw as unknown as RawOp
      const counter = change.startOp + i
      const id = `${counter}@${change.actor}`
      if (op.obj === '_root' && op.key === 'files' && op.action === 'makeMap') {
        this.#filesObj = id
        return
      }
      if (op.obj === this.#filesObj && typeof op.key === 'string') {
        const old = this.#files.get(op.key)
        if (old !== undefined) {
          this.#files.delete(op.key)
          this.#fileOf.delete(old)
          removed.push(op.key)
        }
        if (op.action === 'makeText') {
          this.#texts.set(id, new TextSeq())
          this.#files.set(op.key, id)
          this.#fileOf.set(id, op.key)
          created.push(op.key)
        }
        return
      }
      const seq = this.#texts.get(op.obj)
      const file = this.#fileOf.get(op.obj)
      if (!seq) return
      if (op.action === 'set' && op.insert && typeof op.elemId === 'string') {
        const at = seq.insert(op.elemId, id, counter, change.actor, typeof op.value === 'string' ? op.value : '')
        if (at !== null && file !== undefined) push(splices, { file, at, del: 0, ins: typeof op.value === 'string' ? op.value : '' })
      } else if (op.action === 'del' && typeof op.elemId === 'string') {
        const at = seq.delete(op.elemId)
        if (at !== null && file !== undefined) push(splices, { file, at, del: 1, ins: '' })
      }
    })
    return { splices, created, removed }
  }
}

/** Merge a splice into the previous one when it continues it (typing a word is one splice). */
function push(list: Splice[], s: Splice) {
  const last = list[list.length - 1]
  if (last && last.file === s.file) {
    if (s.del === 0 && last.del === 0 && s.at === last.at + last.ins.length) {
      last.ins += s.ins
      return
    }
    if (s.ins === '' && last.ins === '' && s.at === last.at) {
      last.del += s.del
      return
    }
    if (s.ins === '' && last.ins === '' && s.at + s.del === last.at) {
      last.at = s.at
      last.del += s.del
      return
    }
  }
  list.push(s)
}
