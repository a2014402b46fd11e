import type { Sql, Tx } from '../store/db.js'
import { appendChanges } from '../store/documents.js'
import { concatBytes, countEdits, type IncomingChange } from './changes.js'

export const BUS_CHANNEL = 'session_kit'

export interface CommitItem {
  sessionId: string
  changes: readonly IncomingChange[]
  /** Who made the changes ('' for the server itself). */
  userId: string
  /** Actors used for the first time, to bind to `userId` (or '' for the server's own). */
  newActors: { actor: string; userId: string }[]
  at: Date
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
 * Group commit: everything accepted while one transaction is in flight goes into the next one.
 * One transaction at a time keeps chunks in acceptance order (so relays stay causal) and costs one
 * fsync for many keystrokes; when idle, a change is committed at once with no added wait.
 */
export class Committer {
  #queue: Queued[] = []
  #running = false
  /** Transactions committed and changes they carried (for the benchmarks). */
  stats = { transactions: 0, changes: 0 }

  constructor(
    private readonly sql: Sql,
    private readonly opts: { instanceId: string; notify: boolean },
  ) {}

  #append(q: Sql | Tx, item: CommitItem) {
    const edits = item.changes.map((c) => countEdits(c.change))
    return appendChanges(q, {
      sessionId: item.sessionId,
      data: concatBytes(item.changes.map((c) => c.bytes)),
      hashes: item.changes.map((c) => c.change.hash),
      kind: item.kind,
      userId: item.userId,
      at: item.at,
      inserted: edits.map((e) => e.inserted),
      deleted: edits.map((e) => e.deleted),
      newActors: item.newActors,
      notify: this.opts.notify ? { channel: BUS_CHANNEL, instanceId: this.opts.instanceId } : undefined,
    })
  }

  commit(item: CommitItem): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject })
      if (!this.#running) void this.#run()
    })
  }

  async #run() {
    this.#running = true
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0)
        try {
          // One statement per item; a batch of several items shares one transaction, its statements
          // pipelined (sent together, answered in order) rather than one round trip after another.
          const run = (q: Sql | Tx) => Promise.all(batch.map(({ item }) => (item.isCancelled?.() ? -1 : this.#append(q, item))))
          const ids = batch.length === 1 ? await run(this.sql) : ((await this.sql.begin((tx) => run(tx))) as number[])
          this.stats.transactions++
          batch.forEach((q, i) => {
            if (ids[i] === -1) return q.reject(new Error('cancelled: an earlier save for this room failed'))
            this.stats.changes += q.item.changes.length
            q.resolve(ids[i]!)
          })
        } catch (err) {
          for (const q of batch) q.reject(err)
        }
      }
    } finally {
      this.#running = false
    }
  }
}
