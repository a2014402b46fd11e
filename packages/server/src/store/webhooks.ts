import type { WebhookEventType, WebhookStatus } from '@session-kit/core'
import type { Sql, Tx } from './db.js'

/*
 * Webhooks: the endpoints hosts registered, and the outbox of deliveries to them (one row per
 * event and endpoint, written in the transaction that made the event).
 */

export interface WebhookEndpointRow {
  id: string
  url: string
  secret: string
  events: WebhookEventType[]
  sessionIds: string[]
  status: WebhookStatus
  failingSince: Date | null
  lastError: string | null
  createdAt: Date
  /** Deliveries not yet made or given up. */
  pending: number
}

const endpointColumns = (sql: Sql) => sql`
  e.id, e.url, e.secret, e.events, e.session_ids as "sessionIds", e.status, e.failing_since as "failingSince", e.last_error as "lastError", e.created_at as "createdAt",
  (select count(*)::int from webhook_deliveries d where d.endpoint_id = e.id and d.status = 'pending') as pending`

export async function insertEndpoint(sql: Sql, e: { id: string; url: string; secret: string; events: readonly WebhookEventType[]; sessionIds: readonly string[] }): Promise<WebhookEndpointRow> {
  await sql`insert into webhook_endpoints (id, url, secret, events, session_ids) values (${e.id}, ${e.url}, ${e.secret}, ${e.events as string[]}::text[], ${e.sessionIds as string[]}::text[])`
  return (await getEndpoint(sql, e.id))!
}

export async function getEndpoint(sql: Sql, id: string): Promise<WebhookEndpointRow | undefined> {
  const [row] = await sql<WebhookEndpointRow[]>`select ${endpointColumns(sql)} from webhook_endpoints e where e.id = ${id}`
  return row
}

export async function listEndpoints(sql: Sql): Promise<WebhookEndpointRow[]> {
  return sql<WebhookEndpointRow[]>`select ${endpointColumns(sql)} from webhook_endpoints e order by e.created_at, e.id`
}

export async function countEndpoints(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from webhook_endpoints`
  return row!.n
}

/** Remove an endpoint; its deliveries not yet made go with it. */
export async function deleteEndpoint(sql: Sql, id: string): Promise<boolean> {
  return (await sql`delete from webhook_endpoints where id = ${id} returning id`).length > 0
}

/**
 * One delivery for each endpoint that wants this event (by type and session; an empty list wants
 * all), in the caller's transaction. Each gets its own `msg_` id: the `webhook-id` its receiver
 * deduplicates by. Returns how many were written.
 */
export async function insertDeliveries(sql: Sql | Tx, type: WebhookEventType, sessionId: string | null, payload: object): Promise<number> {
  const q = sql as Sql
  const rows = await q`
    insert into webhook_deliveries (id, endpoint_id, event_type, payload)
    select 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, ${type}, ${q.json(payload as never)}
    from webhook_endpoints e
    where (cardinality(e.events) = 0 or ${type} = any(e.events))
      and (cardinality(e.session_ids) = 0 or ${sessionId}::text = any(e.session_ids))
    returning id`
  return rows.length
}

/** A delivery a worker took, with what it needs to make it. */
export interface ClaimedDelivery {
  id: string
  endpointId: string
  url: string
  secret: string
  payload: { type: WebhookEventType; timestamp: string; data: Record<string, unknown> }
  attempts: number
  /** The lease: the row is this worker's while `next_attempt_at` still says this. */
  leasedUntil: Date
}

/**
 * Take due deliveries for `leaseMs`, at most one per endpoint and none for the endpoints in
 * `busy` (this worker is already posting to them: a slow endpoint holds one slot, not all), the
 * longest waiting first. Another instance skips the rows taken (`skip locked`); should this one
 * die, the lease runs out and they are taken again.
 */
export async function claimDeliveries(sql: Sql, now: Date, leaseMs: number, limit: number, busy: string[]): Promise<ClaimedDelivery[]> {
  const until = new Date(now.getTime() + leaseMs)
  return sql<ClaimedDelivery[]>`
    with due as (
      select c.id from webhook_endpoints e
      cross join lateral (
        select d.id, d.next_attempt_at, d.created_at from webhook_deliveries d
        where d.endpoint_id = e.id and d.status = 'pending' and (d.next_attempt_at is null or d.next_attempt_at <= ${now})
        order by d.next_attempt_at nulls first, d.created_at
        limit 1
        for update of d skip locked
      ) c
      where e.id <> all(${busy}::text[])
      order by c.next_attempt_at nulls first, c.created_at
      limit ${limit}
    )
    update webhook_deliveries w set next_attempt_at = ${until}
    from due, webhook_endpoints e
    where w.id = due.id and e.id = w.endpoint_id
    returning w.id, w.endpoint_id as "endpointId", e.url, e.secret, w.payload, w.attempts, w.next_attempt_at as "leasedUntil"`
}

/** The delivery arrived: it is done, and its endpoint works (again). */
export async function markDelivered(sql: Sql, d: Pick<ClaimedDelivery, 'id' | 'endpointId' | 'attempts'>, status: number, at: Date): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`update webhook_deliveries set status = 'delivered', attempts = ${d.attempts + 1}, last_status = ${status}, last_error = null, delivered_at = ${at} where id = ${d.id} and status = 'pending'`
    await tx`update webhook_endpoints set status = 'active', failing_since = null, last_error = null where id = ${d.endpointId} and (status <> 'active' or last_error is not null)`
  })
}

/**
 * An attempt failed: try again at `retryAt`, or — with none — give the delivery up and mark its
 * endpoint failing (since the first such delivery). Only while the lease is still this worker's.
 */
export async function markAttemptFailed(sql: Sql, d: ClaimedDelivery, r: { status: number | null; error: string; retryAt: Date | null; at: Date }): Promise<void> {
  await sql.begin(async (tx) => {
    const updated = await tx`
      update webhook_deliveries set attempts = ${d.attempts + 1}, last_status = ${r.status}, last_error = ${r.error},
        status = ${r.retryAt ? 'pending' : 'failed'}, next_attempt_at = ${r.retryAt ?? d.leasedUntil}
      where id = ${d.id} and status = 'pending' and next_attempt_at = ${d.leasedUntil}
      returning id`
    if (!updated.length) return
    if (r.retryAt) await tx`update webhook_endpoints set last_error = ${r.error} where id = ${d.endpointId}`
    else await tx`update webhook_endpoints set status = 'failing', failing_since = coalesce(failing_since, ${r.at}), last_error = ${r.error} where id = ${d.endpointId}`
  })
}

/** Forget deliveries made (or given up) long ago, a batch at a time; returns how many went. */
export async function pruneDeliveries(sql: Sql, deliveredBefore: Date, failedBefore: Date, limit = 1000): Promise<number> {
  const rows = await sql`
    delete from webhook_deliveries where id in (
      select id from webhook_deliveries
      where (status = 'delivered' and created_at < ${deliveredBefore}) or (status = 'failed' and created_at < ${failedBefore})
      limit ${limit}
    ) returning id`
  return rows.length
}
