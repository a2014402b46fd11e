import type { Sql } from '../store/db.js'
import { insertChunk } from '../store/documents.js'
import { insertEvents, upsertActors, type ActorState, type EventRow } from '../store/events.js'
import { concatBytes, countEdits, type IncomingChange } from './changes.js'

export const BUS_CHANNEL = 'session_kit'

export interface CommitItem {
  sessionId: string
  changes: readonly IncomingChange[]
  /** Who made the changes ('' for the server itself). */
  userId: string
  actors: Map<string, ActorState>
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
          const ids = (await this.sql.begin(async (tx) => {
            const ids: number[] = []
            for (const { item } of batch) {
              if (item.isCancelled?.()) {
                ids.push(-1)
                continue
              }
              const id = await insertChunk(tx, item.sessionId, concatBytes(item.changes.map((c) => c.bytes)), item.changes.map((c) => c.change.hash))
              const rows: EventRow[] = item.changes.map((c) => ({ sessionId: item.sessionId, kind: item.kind, userId: item.userId, at: item.at, ref: c.change.hash, ...countEdits(c.change) }))
              await insertEvents(tx, rows)
              await upsertActors(tx, item.sessionId, item.actors)
              if (this.opts.notify) {
                const actors: Record<string, string> = {}
                for (const [actor, a] of item.actors) actors[actor] = a.userId
                const payload = JSON.stringify({ t: 'chunk', sid: item.sessionId, id, o: this.opts.instanceId, a: actors })
                await tx`select pg_notify(${BUS_CHANNEL}, ${payload.length < 7900 ? payload : JSON.stringify({ t: 'chunk', sid: item.sessionId, id, o: this.opts.instanceId })})`
              }
              ids.push(id)
            }
            return ids
          })) as number[]
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
