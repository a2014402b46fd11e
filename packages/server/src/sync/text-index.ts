import type * as A from '@automerge/automerge'
import type { Splice } from '@session-kit/core'
import type { RawOp } from './changes.js'

/** One text element (an Automerge character): its op id, value, and whether it was deleted. */
interface Elem {
  id: string
  counter: number
  actor: string
  value: string
  deleted: boolean
  block: Block
}

/** A run of neighbouring elements, with the UTF-16 length of the visible ones. */
interface Block {
  elems: Elem[]
  weight: number
}

const BLOCK = 256

/** Automerge orders concurrent insertions after the same element by op id, greatest first. */
function greater(a: Elem, counter: number, actor: string): boolean {
  return a.counter !== counter ? a.counter > counter : a.actor > actor
}

/** How a text's elements travel between threads: parallel arrays, cheap to copy. */
export interface SeqTransfer {
  actors: string[]
  counters: Float64Array
  actorIndex: Uint32Array
  /** Every element's value, concatenated; `lengths` splits it. */
  values: string
  lengths: Uint8Array
  deleted: Uint8Array
}

/**
 * One text object's element sequence — deleted elements included — in Automerge's RGA order, in
 * blocks so that finding, inserting and indexing stay cheap as the text grows. Positions are in
 * UTF-16 code units, as JavaScript strings and CodeMirror count them.
 */
export class TextSeq {
  #blocks: Block[] = [{ elems: [], weight: 0 }]
  #byId = new Map<string, Elem>()
  #cache: string | undefined = ''

  /** Elements ever inserted, deleted ones included. */
  get size(): number {
    return this.#byId.size
  }

  has(id: string): boolean {
    return this.#byId.has(id)
  }

  /** UTF-16 units of visible text before element e. */
  #offset(e: Elem): number {
    let n = 0
    for (const b of this.#blocks) {
      if (b === e.block) {
        for (const x of b.elems) {
          if (x === e) return n
          if (!x.deleted) n += x.value.length
        }
      }
      n += b.weight
    }
    return n
  }

  #place(block: Block, pos: number, e: Elem) {
    block.elems.splice(pos, 0, e)
    e.block = block
    if (!e.deleted) block.weight += e.value.length
    if (block.elems.length > BLOCK * 2) {
      const i = this.#blocks.indexOf(block)
      const tail = block.elems.splice(BLOCK)
      const next: Block = { elems: tail, weight: 0 }
      for (const x of tail) {
        x.block = next
        if (!x.deleted) next.weight += x.value.length
      }
      block.weight -= next.weight
      this.#blocks.splice(i + 1, 0, next)
    }
  }

  /** Insert a new element after `ref` ('_head' for the start); returns its offset, or null if `ref` is unknown. */
  insert(ref: string, id: string, counter: number, actor: string, value: string): number | null {
    if (this.#byId.has(id)) return null
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
    // Skip following elements with a greater id: later or concurrent insertions that win (their
    // own successors have greater ids still, so they are skipped with them).
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
    this.#place(block, pos, e)
    this.#byId.set(id, e)
    this.#cache = undefined
    return this.#offset(e)
  }

  /** Delete an element; returns its offset and UTF-16 length, or null if it was already deleted or unknown. */
  delete(id: string): { at: number; length: number } | null {
    const e = this.#byId.get(id)
    if (!e || e.deleted) return null
    const at = this.#offset(e)
    e.deleted = true
    e.block.weight -= e.value.length
    this.#cache = undefined
    return { at, length: e.value.length }
  }

  /** Where an element is now: its offset (for a deleted one, where it was). Null if unknown. */
  position(id: string): number | null {
    const e = this.#byId.get(id)
    return e ? this.#offset(e) : null
  }

  text(): string {
    if (this.#cache !== undefined) return this.#cache
    let s = ''
    for (const b of this.#blocks) for (const e of b.elems) if (!e.deleted) s += e.value
    this.#cache = s
    return s
  }

  export(): SeqTransfer {
    const actors: string[] = []
    const actorIds = new Map<string, number>()
    const n = this.#byId.size
    const counters = new Float64Array(n)
    const actorIndex = new Uint32Array(n)
    const lengths = new Uint8Array(n)
    const deleted = new Uint8Array(n)
    const values: string[] = []
    let i = 0
    for (const b of this.#blocks) {
      for (const e of b.elems) {
        let a = actorIds.get(e.actor)
        if (a === undefined) {
          a = actors.push(e.actor) - 1
          actorIds.set(e.actor, a)
        }
        counters[i] = e.counter
        actorIndex[i] = a
        lengths[i] = e.value.length
        deleted[i] = e.deleted ? 1 : 0
        values.push(e.value)
        i++
      }
    }
    return { actors, counters, actorIndex, values: values.join(''), lengths, deleted }
  }

  static import(t: SeqTransfer): TextSeq {
    const seq = new TextSeq()
    const fill = seq.#filler(t)
    for (let i = 0; i < t.counters.length; i++) fill(i)
    seq.#close()
    return seq
  }

  /** As `import`, handing the event loop back every so often (`pause` says when) for a long text. */
  static async importInTurns(t: SeqTransfer, pause: () => Promise<void> | undefined): Promise<TextSeq> {
    const seq = new TextSeq()
    const fill = seq.#filler(t)
    for (let i = 0; i < t.counters.length; i++) {
      fill(i)
      const wait = pause()
      if (wait) await wait
    }
    seq.#close()
    return seq
  }

  #building: Block = { elems: [], weight: 0 }

  #filler(t: SeqTransfer): (i: number) => void {
    this.#blocks = []
    this.#building = { elems: [], weight: 0 }
    const starts = new Uint32Array(t.lengths.length + 1)
    for (let i = 0; i < t.lengths.length; i++) starts[i + 1] = starts[i]! + t.lengths[i]!
    return (i) => {
      const block = this.#building
      const actor = t.actors[t.actorIndex[i]!]!
      const counter = t.counters[i]!
      const value = t.values.slice(starts[i]!, starts[i + 1]!)
      const e: Elem = { id: `${counter}@${actor}`, counter, actor, value, deleted: t.deleted[i] === 1, block }
      block.elems.push(e)
      if (!e.deleted) block.weight += value.length
      this.#byId.set(e.id, e)
      if (block.elems.length >= BLOCK) {
        this.#blocks.push(block)
        this.#building = { elems: [], weight: 0 }
      }
    }
  }

  #close() {
    if (this.#building.elems.length || !this.#blocks.length) this.#blocks.push(this.#building)
    this.#cache = undefined
  }
}

/** A document's texts as they travel between threads. */
export interface TextIndexTransfer {
  filesObj: string | undefined
  files: [name: string, obj: string][]
  texts: [obj: string, seq: SeqTransfer][]
}

/** What one change did to the files: its splices in order, and files it created or removed. */
export interface ChangeText {
  splices: Splice[]
  created: string[]
  removed: string[]
}

/**
 * The document as far as files go, in plain JavaScript: which text object each file name holds,
 * and each text's element sequence. It answers what the verifier asks (does this text, this
 * element exist?) and turns each decoded change into splices at plain offsets — for light viewers,
 * recordings and the document's text — in O(ops), without Automerge applying anything.
 */
export class TextIndex {
  #texts = new Map<string, TextSeq>()
  /** file name → text object id, and back. */
  #files = new Map<string, string>()
  #fileOf = new Map<string, string>()
  #filesObj: string | undefined

  constructor(filesObj?: string) {
    this.#filesObj = filesObj
  }

  get filesObj(): string | undefined {
    return this.#filesObj
  }

  /** Elements ever inserted into any text, deleted ones included: what the document limit counts. */
  get size(): number {
    let n = 0
    for (const t of this.#texts.values()) n += t.size
    return n
  }

  fileNames(): string[] {
    return [...this.#files.keys()]
  }

  fileCount(): number {
    return this.#files.size
  }

  text(file: string): string | undefined {
    const obj = this.#files.get(file)
    return obj === undefined ? undefined : (this.#texts.get(obj)?.text() ?? '')
  }

  files(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const name of this.#files.keys()) out[name] = this.text(name)!
    return out
  }

  /** For a text object: the file it holds, null if it no longer is a file, undefined if there is no such text. */
  textFile(obj: string): string | null | undefined {
    if (!this.#texts.has(obj)) return undefined
    return this.#fileOf.get(obj) ?? null
  }

  hasElement(obj: string, elemId: string): boolean {
    return this.#texts.get(obj)?.has(elemId) ?? false
  }

  /** Where an Automerge cursor (an element id) in a file is now, as an offset; null if it does not resolve. */
  cursorOffset(file: string, elemId: string): number | null {
    const obj = this.#files.get(file)
    if (obj === undefined) return null
    const seq = this.#texts.get(obj)
    if (!seq) return null
    // Automerge names the text's two ends "s" (start) and "e" (end) rather than an element.
    if (elemId === 's') return 0
    if (elemId === 'e') return seq.text().length
    return seq.position(elemId)
  }

  /** Apply one decoded change (changes come in causal order); returns its splices in order. */
  apply(change: A.DecodedChange): ChangeText {
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
      if (!seq) return
      const file = this.#fileOf.get(op.obj)
      if (op.action === 'set' && op.insert && typeof op.elemId === 'string') {
        const value = typeof op.value === 'string' ? op.value : ''
        const at = seq.insert(op.elemId, id, counter, change.actor, value)
        if (at !== null && file !== undefined) push(splices, { file, at, del: 0, ins: value })
      } else if (op.action === 'del' && typeof op.elemId === 'string') {
        const gone = seq.delete(op.elemId)
        if (gone && file !== undefined) push(splices, { file, at: gone.at, del: gone.length, ins: '' })
      }
    })
    return { splices, created, removed }
  }

  export(): TextIndexTransfer {
    return {
      filesObj: this.#filesObj,
      files: [...this.#files],
      texts: [...this.#texts].map(([obj, seq]) => [obj, seq.export()]),
    }
  }

  static import(t: TextIndexTransfer): TextIndex {
    const index = new TextIndex(t.filesObj)
    for (const [obj, seq] of t.texts) index.#texts.set(obj, TextSeq.import(seq))
    index.#name(t)
    return index
  }

  /**
   * As `import`, giving the event loop back every `slice` elements: a document of 50,000 changes
   * is as many objects to build, which at once would stall every other room for tens of ms.
   */
  static async importInTurns(t: TextIndexTransfer, slice = 4096): Promise<TextIndex> {
    const index = new TextIndex(t.filesObj)
    let left = slice
    const pause = () => {
      if (--left > 0) return undefined
      left = slice
      return new Promise<void>((r) => setImmediate(r))
    }
    for (const [obj, seq] of t.texts) index.#texts.set(obj, await TextSeq.importInTurns(seq, pause))
    index.#name(t)
    return index
  }

  #name(t: TextIndexTransfer) {
    for (const [name, obj] of t.files) {
      this.#files.set(name, obj)
      this.#fileOf.set(obj, name)
    }
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
