import type { Sql } from '../store/db.js'
import { appendBatch, type AppendedChanges } from '../store/documents.js'
import { concatBytes, countEdits, type IncomingChange } from './changes.js'

export const BUS_CHANNEL = 'session_kit'

export interface CommitItem {
  sessionId: string
  changes: readonly IncomingChange[]
  /** Who made the changes ('' for the server itself). */
  userId: string
  /** Actors used for the first time, to bind to `userId` (or '' for the server's own). */
  newActors: { actor: string; userId: string }[]
  /** Null: stamped by the database. */
  at: Date | null
  kind: 'code_change' | 'server_change'
  /** Checked inside the transaction: a room that failed an earlier commit stores nothing more. */
  isCancelled?: () => boolean
}

interface Queued {
  item: CommitItem
  resolve(chunkId: number): void
  reject(err: unknown): void
}

/**
 * Group commit: everything accepted while a transaction is in flight goes into the next one, one
 * fsync for many keystrokes; when idle, a change is committed at once with no added wait. A room's
 * changes are committed one transaction after another, in acceptance order (so its chunks, and the
 * relays that follow them, stay causal), but rooms do not wait for each other: up to `parallel`
 * transactions are in flight at once, each taking every waiting room that has none in flight.
 */
export class Committer {
  #queue: Queued[] = []
  #inFlight = new Set<string>()
  #running = 0
  /** Transactions committed, changes they carried, and the time they took (for the benchmarks). */
  stats = { transactions: 0, changes: 0, ms: 0 }

  constructor(
    private readonly sql: Sql,
    private readonly opts: { instanceId: string; notify: boolean; parallel?: number },
  ) {}

  #row(item: CommitItem): AppendedChanges {
    const edits = item.changes.map((c) => countEdits(c.change))
    return {
      sessionId: item.sessionId,
      data: concatBytes(item.changes.map((c) => c.bytes)),
      hashes: item.changes.map((c) => c.change.hash),
      kind: item.kind,
      userId: item.userId,
      at: item.at,
      inserted: edits.map((e) => e.inserted),
      deleted: edits.map((e) => e.deleted),
      newActors: item.newActors,
    }
  }

  commit(item: CommitItem): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject })
      this.#next()
    })
  }

  /** Start a transaction with every waiting item whose room has none in flight, if one may start. */
  #next() {
    if (this.#running >= (this.opts.parallel ?? 1) || !this.#queue.length) return
    const batch: Queued[] = []
    const rooms = new Set<string>()
    const rest: Queued[] = []
    for (const q of this.#queue) {
      const sid = q.item.sessionId
      // A room's items go in order: none may overtake one still waiting or in flight.
      if (this.#inFlight.has(sid) && !rooms.has(sid)) rest.push(q)
      else {
        batch.push(q)
        rooms.add(sid)
      }
    }
    if (!batch.length) return
    this.#queue = rest
    for (const sid of rooms) this.#inFlight.add(sid)
    this.#running++
    void this.#run(batch).finally(() => {
      this.#running--
      for (const sid of rooms) this.#inFlight.delete(sid)
      this.#next()
    })
    this.#next()
  }

  async #run(batch: Queued[]) {
    const t0 = performance.now()
    try {
      // Every item of the batch in one statement (so one transaction, one fsync).
      const live = batch.filter(({ item }) => !item.isCancelled?.())
      const ids = await appendBatch(this.sql, live.map(({ item }) => this.#row(item)), this.opts.notify ? { channel: BUS_CHANNEL, instanceId: this.opts.instanceId } : undefined)
      this.stats.transactions++
      this.stats.ms += performance.now() - t0
      const idOf = new Map(live.map((q, i) => [q, ids[i]!]))
      for (const q of batch) {
        const id = idOf.get(q)
        if (id === undefined) q.reject(new Error('cancelled: an earlier save for this room failed'))
        // The room took these changes as its own: it resets and reloads the binding that won.
        else if (id === null) q.reject(new Error('an actor of these changes was bound to another participant meanwhile (on another instance); nothing was stored'))
        else {
          this.stats.changes += q.item.changes.length
          q.resolve(id)
        }
      }
    } catch (err) {
      for (const q of batch) q.reject(err)
    }
  }
}
