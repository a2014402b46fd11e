import { WEBHOOK_EVENT_TYPES } from '@session-kit/core/api'
import type { WebhookEventData, WebhookEventType } from '@session-kit/core'
import type { Sql, Tx } from '../store/db.js'
import { insertDeliveries } from '../store/webhooks.js'

export { WEBHOOK_EVENT_TYPES }

/** An event as the code that made it states it: its type, its data and (by default now) when. */
export type NewWebhookEvent = { [K in WebhookEventType]: { type: K; data: WebhookEventData[K]; at?: Date | null } }[WebhookEventType]

/**
 * Hand an event to every endpoint that wants it: one delivery row each in the webhook outbox,
 * written with `sql` — pass the transaction that made the event, so the event exists exactly when
 * what it tells of does (a crash loses neither). The deliveries are made by the worker
 * (webhooks/worker.ts), at least once. Returns how many deliveries were written.
 */
export function emitEvent(sql: Sql | Tx, event: NewWebhookEvent): Promise<number> {
  const payload = { type: event.type, timestamp: (event.at ?? new Date()).toISOString(), data: event.data }
  const sessionId = 'sessionId' in event.data ? event.data.sessionId : null
  return insertDeliveries(sql, event.type, sessionId, payload)
}

/**
 * Run one write and emit its event in a single transaction: `event` is given the write's result
 * and may return nothing (no event: the write changed nothing worth telling).
 */
export async function writeWithEvent<T>(sql: Sql, write: (tx: Sql) => Promise<T>, event: (result: T) => NewWebhookEvent | null | undefined | false): Promise<T> {
  return sql.begin(async (tx) => {
    // A transaction runs the same tagged-template queries; the store's functions take it as their Sql.
    const result = await write(tx as unknown as Sql)
    const e = event(result)
    if (e) await emitEvent(tx, e)
    return result
  }) as Promise<T>
}
