import type { LectureChange, RecordingPolicy, Role } from '@session-kit/core'
import type { Sql } from '../store/db.js'
import { BUS_CHANNEL } from './committer.js'
import type { RemotePresence } from './presence.js'

/** What instances tell each other. Notifications carry ids; bulky data is read from tables. */
export type BusMessage =
  | { t: 'chunk'; sid: string; id: number; o: string; a?: Record<string, string> }
  /** Joins, and cursor moves of one room coalesced per tick (one notification, not one per move). */
  | { t: 'presence'; sid: string; o: string; ps: RemotePresence[] }
  | { t: 'left'; sid: string; o: string; userId: string; conn: string }
  | { t: 'participant'; sid: string; o: string; userId: string; reason?: string }
  | { t: 'session'; sid: string; o: string; reason?: string }
  | { t: 'kick'; sid: string; o: string; userId: string; by?: string }
  | { t: 'chat'; sid: string; o: string; id: number }
  | { t: 'chat-deleted'; sid: string; o: string; id: number }
  | { t: 'run'; sid: string; o: string; id: number }
  | { t: 'invitation'; sid: string; o: string; id: string; status: string }
  /** `id` and `policy`: the recording now going (absent with `off`). */
  | { t: 'recording'; sid: string; o: string; state: 'off' | 'recording' | 'paused'; reason: string; id?: string; policy?: RecordingPolicy | null }
  /** Someone's recording consent changed: their own connections are told. */
  | { t: 'consent'; sid: string; o: string; userId: string; consent: boolean }
  /** Lecture mode changed (follow, hands, spotlight): each instance reads the small state again. */
  | { t: 'lecture'; sid: string; o: string; change?: LectureChange }
  /** Who may see the snapshot travels with it: a deleted one cannot be read back. */
  | { t: 'snapshot'; sid: string; o: string; change: 'created' | 'deleted' | 'restored'; id: string; title: string; createdBy: string; creatorRole: Role; by: { userId: string; name: string } }

/**
 * Fan-out between server instances over PostgreSQL LISTEN/NOTIFY. With PGlite (one instance,
 * one connection) there is nobody to tell: publishing does nothing and nothing arrives.
 */
export interface Bus {
  readonly instanceId: string
  publish(msg: BusMessage): void
  /**
   * Deliver other instances' messages to `onMessage`. After the bus lost its connection and got
   * it back, `onResume` is called: notifications sent in between are gone for good, so the
   * receiver must catch up from the tables.
   */
  start(onMessage: (msg: BusMessage) => void, onResume?: () => void): Promise<void>
  stop(): Promise<void>
}

export class LocalBus implements Bus {
  constructor(readonly instanceId: string) {}
  publish() {}
  async start() {}
  async stop() {}
}

export class PgBus implements Bus {
  #unlisten?: () => Promise<void>
  constructor(
    private readonly sql: Sql,
    readonly instanceId: string,
    private readonly log: (msg: string) => void,
  ) {}

  publish(msg: BusMessage) {
    const payload = JSON.stringify(msg)
    if (payload.length > 7900) return this.log(`bus: dropped an oversized ${msg.t} notification`)
    this.sql.notify(BUS_CHANNEL, payload).catch((e: Error) => this.log(`bus: notify failed: ${e.message}`))
  }

  async start(onMessage: (msg: BusMessage) => void, onResume?: () => void) {
    let listening = false
    // postgres.js listens again by itself whenever its connection comes back; each time, onlisten runs.
    const onListen = () => {
      if (listening) {
        this.log('bus: listening again after losing the database connection; catching up on missed changes')
        onResume?.()
      }
      listening = true
    }
    const sub = await this.sql.listen(
      BUS_CHANNEL,
      (payload) => {
        let msg: BusMessage
        try {
          msg = JSON.parse(payload) as BusMessage
        } catch {
          return
        }
        if (msg.o !== this.instanceId) onMessage(msg)
      },
      onListen,
    )
    this.#unlisten = () => sub.unlisten()
  }

  async stop() {
    await this.#unlisten?.().catch(() => {})
  }
}
