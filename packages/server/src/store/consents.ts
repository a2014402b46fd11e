import type { Sql } from './db.js'

/** At most this many consent decisions per person and session a minute (the route answers 429 beyond). */
export const CONSENT_DECISIONS_PER_MINUTE = 10

export interface ConsentDecision {
  userId: string
  consent: boolean
  /** Epoch ms. */
  at: number
}

/**
 * Store someone's recording consent for a session, unless they already decided
 * `CONSENT_DECISIONS_PER_MINUTE` times in the last minute (counted here, in PostgreSQL, so every
 * instance holds the same limit). `at` null: now, on the database's clock — as events are stamped,
 * so a replay compares the two on one clock.
 */
export async function recordConsent(
  sql: Sql,
  d: { sessionId: string; userId: string; consent: boolean; at: Date | null },
): Promise<{ ok: true; decidedAt: Date } | { ok: false; retryAfterSeconds: number }> {
  return sql.begin(async (tx) => {
    // One decision at a time per person and session: two at once cannot both slip under the limit.
    await tx`select pg_advisory_xact_lock(hashtext(${'session-kit:consent:' + d.sessionId + ':' + d.userId}))`
    const [recent] = await tx<{ n: number; oldest: Date | null; now: Date }[]>`
      select count(*)::int as n, min(decided_at) as oldest, coalesce(${d.at}::timestamptz, now()) as now from recording_consents
      where session_id = ${d.sessionId} and user_id = ${d.userId} and decided_at > coalesce(${d.at}::timestamptz, now()) - interval '1 minute'`
    if (recent!.n >= CONSENT_DECISIONS_PER_MINUTE) {
      const wait = recent!.oldest!.getTime() + 60_000 - recent!.now.getTime()
      return { ok: false as const, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) }
    }
    const [row] = await tx<{ decidedAt: Date }[]>`
      insert into recording_consents (session_id, user_id, consent, decided_at)
      values (${d.sessionId}, ${d.userId}, ${d.consent}, coalesce(${d.at}::timestamptz, now()))
      returning decided_at as "decidedAt"`
    return { ok: true as const, decidedAt: row!.decidedAt }
  }) as Promise<{ ok: true; decidedAt: Date } | { ok: false; retryAfterSeconds: number }>
}

/** Each person's latest decision in a session (those who never decided are absent). */
export async function latestConsents(sql: Sql, sessionId: string, userIds: readonly string[]): Promise<Map<string, boolean>> {
  if (!userIds.length) return new Map()
  const rows = await sql<{ userId: string; consent: boolean }[]>`
    select distinct on (user_id) user_id as "userId", consent from recording_consents
    where session_id = ${sessionId} and user_id = any(${userIds as string[]})
    order by user_id, decided_at desc, id desc`
  return new Map(rows.map((r) => [r.userId, r.consent]))
}

/** Every decision made in a session up to `until`, oldest first. */
export async function consentHistory(sql: Sql, sessionId: string, until: Date): Promise<ConsentDecision[]> {
  const rows = await sql<{ userId: string; consent: boolean; at: Date }[]>`
    select user_id as "userId", consent, decided_at as at from recording_consents
    where session_id = ${sessionId} and decided_at <= ${until} order by decided_at, id`
  return rows.map((r) => ({ userId: r.userId, consent: r.consent, at: r.at.getTime() }))
}

/**
 * These people have been told of the recording (a welcome or a room event said so): their own
 * actions are attributed to them in its replay from now on. The first time is kept.
 */
export async function recordNotices(sql: Sql, recordingId: string, userIds: readonly string[], at: Date | null): Promise<void> {
  if (!userIds.length) return
  await sql`
    insert into recording_notices (recording_id, user_id, told_at)
    select ${recordingId}, u, coalesce(${at}::timestamptz, now()) from unnest(${userIds as string[]}::text[]) as u
    on conflict (recording_id, user_id) do nothing`
}

/** When each person was first told of a recording (epoch ms). */
export async function recordingNotices(sql: Sql, recordingId: string): Promise<Map<string, number>> {
  const rows = await sql<{ userId: string; toldAt: Date }[]>`select user_id as "userId", told_at as "toldAt" from recording_notices where recording_id = ${recordingId}`
  return new Map(rows.map((r) => [r.userId, r.toldAt.getTime()]))
}
