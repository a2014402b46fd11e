import type { Peer } from './peer.js'
import type { Committed } from './relay.js'

/** Accepted changes in the order the index took them; published once they and all before them are durable. */
export interface Batch {
  changes: Committed[]
  origin: Peer | null
  chunkId?: number
  durable: boolean
  /** When the writer's frame arrived (for the trace). */
  receivedAt?: number
}

/**
 * A room's changes between acceptance and publication: batches in the order the index took them,
 * each published only once it and every batch before it is durable — so acknowledgements, the
 * relay and the document thread see the changes in the order they were verified in.
 */
export class CommitQueue {
  #batches: Batch[] = []

  push(batch: Batch) {
    this.#batches.push(batch)
  }

  /** The leading batches that are durable, each removed as it is taken, until `stop` says so. */
  *durable(stop: () => boolean): Generator<Batch> {
    while (this.#batches[0]?.durable && !stop()) yield this.#batches.shift()!
  }

  /** Accepted changes not yet published (being committed). */
  get pending(): number {
    return this.#batches.reduce((n, b) => n + b.changes.length, 0)
  }
}

/** Durable changes into the room's text (files removed, created, spliced); returns the heads after them. */
export function advance(text: Map<string, string>, heads: string[], changes: readonly Committed[]): string[] {
  for (const c of changes) {
    for (const name of c.text.removed) text.delete(name)
    for (const name of c.text.created) text.set(name, '')
    for (const s of c.text.splices) {
      const t = text.get(s.file)
      if (t !== undefined) text.set(s.file, t.slice(0, s.at) + s.ins + t.slice(s.at + s.del))
    }
    heads = heads.filter((h) => !c.deps.includes(h))
    heads.push(c.hash)
  }
  return heads
}
