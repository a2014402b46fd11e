import * as A from '@automerge/automerge'

const MAGIC = [0x85, 0x6f, 0x4a, 0x83]
const CHUNK_DOCUMENT = 0
const CHUNK_BUNDLE = 3

/** A decoded op as Automerge's decoder really returns it (more than the published `Op` type names). */
export interface RawOp {
  action: string
  obj: string
  key?: string
  elemId?: string
  insert?: boolean
  value?: unknown
  datatype?: string
  pred: string[]
  multiOp?: number
}

/** A change as the hub handles it: the raw chunk (relayed and stored as is) and its decoding. */
export interface IncomingChange {
  bytes: Uint8Array
  change: A.DecodedChange
}

export class ChangeFormatError extends Error {}

/**
 * Split a concatenation of Automerge chunks (what a stored `doc_chunks.data` holds) into the
 * chunks. Each chunk is: 4 magic bytes, 4 checksum bytes, 1 type byte, a ULEB128 length, data.
 */
export function splitChunks(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let i = 0
  while (i < data.length) {
    for (let k = 0; k < 4; k++) if (data[i + k] !== MAGIC[k]) throw new ChangeFormatError(`not an Automerge chunk at byte ${i}`)
    let p = i + 9
    let len = 0
    let shift = 0
    for (;;) {
      if (p >= data.length) throw new ChangeFormatError('truncated chunk header')
      const b = data[p++]!
      len += (b & 0x7f) * 2 ** shift
      if (!(b & 0x80)) break
      shift += 7
      if (shift > 35) throw new ChangeFormatError('chunk length is too large')
    }
    const end = p + len
    if (end > data.length) throw new ChangeFormatError('truncated chunk')
    out.push(data.subarray(i, end))
    i = end
  }
  return out
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/**
 * Turn the `changes` entries of a sync message into individual changes. An entry is usually one
 * change, but Automerge packs several into one bundle or concatenates them when a peer has many to
 * send (e.g. after working offline), or sends a whole document: all are unpacked into changes (re-encoded to the
 * same bytes and hash), so every change is verified, stored and attributed on its own.
 */
export function readEntries(entries: readonly Uint8Array[], held?: { heads: readonly string[]; has(hash: string): boolean }): IncomingChange[] {
  const out: IncomingChange[] = []
  // An entry may also hold several chunks back to back (Automerge 3 concatenates the changes it
  // sends a peer that has not answered yet): split them first.
  const chunks: Uint8Array[] = []
  for (const entry of entries) {
    if (entry.length < 10 || MAGIC.some((m, k) => entry[k] !== m)) throw new ChangeFormatError('a change in the sync message is not an Automerge chunk')
    try {
      chunks.push(...splitChunks(entry))
    } catch (e) {
      throw new ChangeFormatError(`a change in the sync message could not be decoded (${(e as Error).message})`)
    }
  }
  // (splitChunks has checked each chunk's magic bytes and length.)
  for (const entry of chunks) {
    const type = entry[8]
    try {
      if (type === CHUNK_DOCUMENT) {
        // Automerge sends its whole document when it believes the other side has nothing. Rare
        // (our pushes keep peers informed); decode only the changes beyond what we hold.
        const backend = A.getBackend(A.load(entry))
        const base = (held?.heads ?? []).filter((h) => backend.getChangeMetaByHash(h) !== null)
        for (const bytes of backend.getChanges(base)) {
          const change = A.decodeChange(bytes)
          if (!held?.has(change.hash)) out.push({ bytes, change })
        }
      } else if (type === CHUNK_BUNDLE) {
        for (const change of A.readBundle(entry).changes) out.push({ bytes: A.encodeChange(change), change })
      } else {
        out.push({ bytes: entry, change: A.decodeChange(entry) })
      }
    } catch (e) {
      throw new ChangeFormatError(`a change in the sync message could not be decoded (${(e as Error).message})`)
    }
  }
  return out
}

/** Dependencies of `changes` that are neither held nor among them: what to ask the peer for. */
export function missingDeps(changes: readonly IncomingChange[], has: (hash: string) => boolean): string[] {
  const here = new Set(changes.map((c) => c.change.hash))
  const missing = new Set<string>()
  for (const { change } of changes) {
    if (has(change.hash)) continue
    for (const dep of change.deps) if (!has(dep) && !here.has(dep)) missing.add(dep)
  }
  return [...missing]
}

/**
 * Whether the changes skip some of an actor's own: its earliest one here is not the next after
 * `seqOf(actor)`. A peer that skips its own changes evidently holds them, so asking is worthwhile.
 */
export function skipsOwnChanges(changes: readonly IncomingChange[], seqOf: (actor: string) => number): boolean {
  const first = new Map<string, number>()
  for (const { change } of changes) first.set(change.actor, Math.min(first.get(change.actor) ?? Infinity, change.seq))
  for (const [actor, seq] of first) if (seq > seqOf(actor) + 1) return true
  return false
}

/** The changes once each, every one after those of them it depends on. */
export function causalOrder(changes: readonly IncomingChange[]): IncomingChange[] {
  const byHash = new Map(changes.map((c) => [c.change.hash, c]))
  const out: IncomingChange[] = []
  const placed = new Set<string>()
  const visiting = new Set<string>()
  for (const start of byHash.values()) {
    if (placed.has(start.change.hash)) continue
    // Depth-first without recursion: an offline stretch can be thousands of changes long.
    const stack: { c: IncomingChange; next: number }[] = [{ c: start, next: 0 }]
    visiting.add(start.change.hash)
    while (stack.length) {
      const top = stack[stack.length - 1]!
      const dep = top.c.change.deps[top.next++]
      if (dep === undefined) {
        visiting.delete(top.c.change.hash)
        placed.add(top.c.change.hash)
        out.push(top.c)
        stack.pop()
      } else if (!placed.has(dep) && !visiting.has(dep) && byHash.has(dep)) {
        visiting.add(dep)
        stack.push({ c: byHash.get(dep)!, next: 0 })
      }
    }
  }
  return out
}

/** Characters a verified text change inserts and deletes (each text op is one character). */
export function countEdits(change: A.DecodedChange): { inserted: number; deleted: number } {
  let inserted = 0
  let deleted = 0
  for (const raw of change.ops) {
    const op = raw as unknown as RawOp
    if (op.action === 'set' && op.insert) inserted += 1
    else if (op.action === 'del' && op.elemId !== undefined) deleted += op.multiOp ?? 1
  }
  return { inserted, deleted }
}
