import { inflateRawSync } from 'node:zlib'
import { ChangeFormatError } from './changes.js'

/**
 * What a sync message's changes would cost, read from their bytes before Automerge decodes them.
 *
 * Decoding and applying cost time per operation (≈ 5 µs and 2.5 µs on our reference machine), so a
 * frame just under the size limit holding a few changes of ~200,000 one-character inserts each
 * blocked the event loop for 10–20 s even when it was refused in the end. The chunk headers and
 * column metadata say how many operations a chunk holds without decoding any of them: the number
 * of rows of the action column (every operation has an action) and the `true`s of the insert
 * column. Reading them costs O(bytes of those two columns), a few milliseconds for a whole frame.
 *
 * Formats (Automerge's binary format, https://automerge.org/automerge-binary-format-spec/):
 * a chunk is magic (4 bytes), checksum (4), type (1), ULEB128 length, data. Type 1 is a change,
 * 2 a DEFLATE-compressed change, 0 a whole document, 3 a bundle of changes. Column metadata is a
 * count followed by (spec, length) pairs; a spec is `id << 4 | deflate << 3 | type`.
 */

export interface ChunkCost {
  /** Chunk type: 0 document, 1 change, 2 compressed change, 3 bundle. */
  type: number
  /** Operations the chunk holds (its action column's rows). */
  ops: number
  /** Of those, insertions (each a character of text, or an element of a list). */
  inserts: number
}

export interface MessageCost {
  chunks: ChunkCost[]
  ops: number
  inserts: number
  /**
   * Whether some chunk holds a whole document or a bundle. Those also carry changes the server
   * already has, so their counts are an upper bound of what is new; plain changes' counts are exact.
   */
  bulk: boolean
}

const MAGIC = [0x85, 0x6f, 0x4a, 0x83]
const ACTION_COLUMN = 4
const INSERT_COLUMN = 3
const TYPE_INTEGER = 2
const TYPE_BOOLEAN = 4
const DEFLATE = 8

/**
 * Read the cost of every chunk in a sync message's `changes` entries (an entry may hold several
 * chunks back to back). `maxInflatedBytes` bounds what compressed chunks and columns may expand to,
 * in total: DEFLATE expands up to ~1000×, and Automerge inflates without a bound.
 */
export function scanEntries(entries: readonly Uint8Array[], maxInflatedBytes: number): MessageCost {
  const budget = { left: maxInflatedBytes }
  const chunks: ChunkCost[] = []
  for (const entry of entries) {
    if (entry.length === 0) throw new ChangeFormatError('a change in the sync message is empty')
    let i = 0
    while (i < entry.length) {
      const { type, start, end } = header(entry, i)
      chunks.push(scanChunk(type, entry.subarray(start, end), budget))
      i = end
    }
  }
  let ops = 0
  let inserts = 0
  let bulk = false
  for (const c of chunks) {
    ops += c.ops
    inserts += c.inserts
    bulk ||= c.type === 0 || c.type === 3
  }
  return { chunks, ops, inserts, bulk }
}

function header(bytes: Uint8Array, at: number): { type: number; start: number; end: number } {
  if (bytes.length - at < 10) throw new ChangeFormatError('a change in the sync message is too short to be an Automerge chunk')
  for (let k = 0; k < 4; k++) if (bytes[at + k] !== MAGIC[k]) throw new ChangeFormatError(`not an Automerge chunk at byte ${at}`)
  const r = new Reader(bytes, at + 9, bytes.length)
  const len = r.uleb()
  const end = r.pos + len
  if (end > bytes.length) throw new ChangeFormatError('truncated chunk')
  return { type: bytes[at + 8]!, start: r.pos, end }
}

function scanChunk(type: number, data: Uint8Array, budget: { left: number }): ChunkCost {
  switch (type) {
    case 1:
      return { type, ...scanChange(data, budget) }
    case 2:
      return { type, ...scanChange(inflate(data, budget), budget) }
    case 0:
      return { type, ...scanDocument(data, budget) }
    case 3:
      return { type, ...scanBundle(data, budget) }
    default:
      throw new ChangeFormatError(`chunk type ${type} is not accepted`)
  }
}

/** deps, actor, seq, startOp, time, message, other actors, op columns. */
function scanChange(data: Uint8Array, budget: { left: number }) {
  const r = new Reader(data, 0, data.length)
  r.skip(32 * r.uleb())
  r.skip(r.uleb())
  r.uleb()
  r.uleb()
  r.sleb()
  r.skip(r.uleb())
  for (let n = r.uleb(); n > 0; n--) r.skip(r.uleb())
  const columns = r.columns()
  if (columns.some((c) => c.spec & DEFLATE)) throw new ChangeFormatError('a change may not hold compressed columns')
  return countOps(data, r.pos, columns, budget)
}

/** actors, heads, change columns' metadata, op columns' metadata, then their data. */
function scanDocument(data: Uint8Array, budget: { left: number }) {
  const r = new Reader(data, 0, data.length)
  for (let n = r.uleb(); n > 0; n--) r.skip(r.uleb())
  r.skip(32 * r.uleb())
  const changeColumns = r.columns()
  const opColumns = r.columns()
  const changeData = r.pos
  const opData = changeData + total(changeColumns)
  inflateAll(data, changeData, changeColumns, budget)
  return countOps(data, opData, opColumns, budget)
}

/** deps, actors, change columns (metadata then data), op columns (metadata then data). */
function scanBundle(data: Uint8Array, budget: { left: number }) {
  const r = new Reader(data, 0, data.length)
  r.skip(32 * r.uleb())
  for (let n = r.uleb(); n > 0; n--) r.skip(r.uleb())
  const changeColumns = r.columns()
  inflateAll(data, r.pos, changeColumns, budget)
  r.skip(total(changeColumns))
  const opColumns = r.columns()
  return countOps(data, r.pos, opColumns, budget)
}

interface Column {
  spec: number
  length: number
}

const total = (columns: readonly Column[]) => columns.reduce((n, c) => n + c.length, 0)

/** Each compressed column counts against the budget (Automerge will inflate them all). */
function inflateAll(data: Uint8Array, at: number, columns: readonly Column[], budget: { left: number }) {
  let offset = at
  for (const c of columns) {
    if (offset + c.length > data.length) throw new ChangeFormatError('truncated column data')
    if (c.spec & DEFLATE) inflate(data.subarray(offset, offset + c.length), budget)
    offset += c.length
  }
}

function countOps(data: Uint8Array, at: number, columns: readonly Column[], budget: { left: number }): { ops: number; inserts: number } {
  let ops = 0
  let inserts = 0
  let offset = at
  for (const c of columns) {
    if (offset + c.length > data.length) throw new ChangeFormatError('truncated column data')
    let bytes = data.subarray(offset, offset + c.length)
    offset += c.length
    if (c.spec & DEFLATE) bytes = inflate(bytes, budget)
    const id = c.spec >> 4
    const type = c.spec & 7
    if (id === ACTION_COLUMN && type === TYPE_INTEGER) ops = rleRows(bytes)
    else if (id === INSERT_COLUMN && type === TYPE_BOOLEAN) inserts = booleanTrues(bytes)
  }
  return { ops, inserts: Math.min(inserts, ops) }
}

function inflate(bytes: Uint8Array, budget: { left: number }): Uint8Array {
  let out: Buffer
  try {
    // maxOutputLength stops inflating as soon as the output would pass the budget.
    out = inflateRawSync(bytes, { maxOutputLength: Math.max(1, budget.left) })
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new ChangeFormatError('compressed changes expand to more than this server accepts in one message')
    throw new ChangeFormatError('a compressed change could not be inflated')
  }
  budget.left -= out.length
  if (budget.left < 0) throw new ChangeFormatError('compressed changes expand to more than this server accepts in one message')
  return out
}

/** Rows of a run-length encoded column of ULEB128 integers. */
function rleRows(bytes: Uint8Array): number {
  const r = new Reader(bytes, 0, bytes.length)
  let rows = 0
  while (r.pos < bytes.length) {
    const count = r.sleb()
    if (count > 0) {
      rows += count
      r.uleb()
    } else if (count < 0) {
      for (let k = -count; k > 0; k--) r.uleb()
      rows -= count
    } else {
      rows += r.uleb()
    }
  }
  return rows
}

/** `true`s of a boolean column: alternating run lengths, the first run of `false`. */
function booleanTrues(bytes: Uint8Array): number {
  const r = new Reader(bytes, 0, bytes.length)
  let trues = 0
  for (let value = false; r.pos < bytes.length; value = !value) {
    const run = r.uleb()
    if (value) trues += run
  }
  return trues
}

class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  uleb(): number {
    return this.#leb128(false)
  }

  sleb(): number {
    return this.#leb128(true)
  }

  /** A LEB128 number: 7 bits a byte, low first; a signed one's last byte carries the sign in bit 6. */
  #leb128(signed: boolean): number {
    let result = 0
    let scale = 1
    for (;;) {
      if (this.pos >= this.end) throw new ChangeFormatError('truncated number')
      const b = this.bytes[this.pos++]!
      result += (b & 0x7f) * scale
      scale *= 128
      if (!(b & 0x80)) return signed && b & 0x40 ? result - scale : result
      if (scale > 2 ** 56) throw new ChangeFormatError('a number in the change is too large')
    }
  }

  skip(n: number) {
    if (n > this.end - this.pos) throw new ChangeFormatError('truncated change')
    this.pos += n
  }

  columns(): Column[] {
    const out: Column[] = []
    for (let n = this.uleb(); n > 0; n--) {
      if (out.length > 256) throw new ChangeFormatError('too many columns')
      out.push({ spec: this.uleb(), length: this.uleb() })
    }
    return out
  }
}
