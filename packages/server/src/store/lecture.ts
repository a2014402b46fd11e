import type { LectureChange, LectureState, RaisedHand, Spotlight } from '@session-kit/core'
import type { Sql, Tx } from './db.js'
import { insertEvents } from './events.js'
import { emitEvent } from '../webhooks/events.js'

/** A room's lecture state as stored: every hand (the per-viewer view is made in sync/lecture.ts). */
export interface LectureRecord {
  follow: LectureState['follow']
  spotlight: Spotlight | null
  hands: RaisedHand[]
}

export const EMPTY_LECTURE: LectureRecord = { follow: null, spotlight: null, hands: [] }

interface LectureRow {
  followUserId: string | null
  followName: string | null
  followSince: Date | null
  spotlightUserId: string | null
  spotlightName: string | null
  spotlightBy: string | null
  spotlightAt: Date | null
  spotlightSessionId: string | null
}

const columns = (sql: Sql | Tx) =>
  (sql as Sql)`follow_user_id as "followUserId", follow_name as "followName", follow_since as "followSince",
    spotlight_user_id as "spotlightUserId", spotlight_name as "spotlightName", spotlight_by as "spotlightBy", spotlight_at as "spotlightAt",
    spotlight_session_id as "spotlightSessionId"`

const follow = (r: LectureRow | undefined): LectureRecord['follow'] =>
  r?.followUserId ? { userId: r.followUserId, name: r.followName ?? '', since: r.followSince!.toISOString() } : null
const spotlight = (r: LectureRow | undefined): Spotlight | null =>
  r?.spotlightUserId
    ? { userId: r.spotlightUserId, name: r.spotlightName ?? '', ...(r.spotlightSessionId ? { sessionId: r.spotlightSessionId } : {}), by: r.spotlightBy ?? '', at: r.spotlightAt!.toISOString() }
    : null

/** The session's lecture: who leads, the spotlight, and every raised hand, oldest first. */
export async function readLecture(sql: Sql, sessionId: string): Promise<LectureRecord> {
  const [[row], hands] = await Promise.all([
    sql<LectureRow[]>`select ${columns(sql)} from lectures where session_id = ${sessionId}`,
    sql<{ userId: string; name: string; question: string; raisedAt: Date }[]>`
      select user_id as "userId", name, question, raised_at as "raisedAt" from raised_hands
      where session_id = ${sessionId} order by raised_at, seq`,
  ])
  return { follow: follow(row), spotlight: spotlight(row), hands: hands.map((h) => ({ ...h, raisedAt: h.raisedAt.toISOString() })) }
}

/** The event analytics and recordings read: whose hand, who led, who was spotlit is its user. */
function lectureEvent(tx: Tx, sessionId: string, userId: string, change: LectureChange, at: Date | null, extra: Record<string, unknown> = {}) {
  return insertEvents(tx, [{ sessionId, kind: 'lecture', userId, at, data: { ...change, ...extra } }])
}

/**
 * Raise a hand, or change the question of one already up (it keeps its place in the queue).
 * Returns whether the hand went up now (only then is a `hand-raised` event recorded).
 */
export async function raiseHand(sql: Sql, h: { sessionId: string; userId: string; name: string; question: string; at: Date | null }): Promise<boolean> {
  return sql.begin(async (tx) => {
    const fresh = await tx`
      insert into raised_hands (session_id, user_id, name, question, raised_at)
      values (${h.sessionId}, ${h.userId}, ${h.name}, ${h.question}, coalesce(${h.at}::timestamptz, now()))
      on conflict (session_id, user_id) do nothing
      returning user_id`
    if (!fresh.length) {
      await tx`update raised_hands set question = ${h.question}, name = ${h.name} where session_id = ${h.sessionId} and user_id = ${h.userId}`
      return false
    }
    await lectureEvent(tx, h.sessionId, h.userId, { kind: 'hand-raised', userId: h.userId, name: h.name }, h.at)
    // The question stays in the room: the host hears who, not what.
    await emitEvent(tx, { type: 'hand.raised', data: { sessionId: h.sessionId, userId: h.userId, name: h.name }, at: h.at })
    return true
  }) as Promise<boolean>
}

/**
 * Lower one hand (`by`: the instructor who did, when it is not its owner). Returns what changed,
 * or null when that hand was not up.
 */
export async function lowerHand(sql: Sql, sessionId: string, userId: string, by: string | undefined, at: Date | null): Promise<LectureChange | null> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ name: string }[]>`delete from raised_hands where session_id = ${sessionId} and user_id = ${userId} returning name`
    if (!row) return null
    const change: LectureChange = { kind: 'hand-lowered', userId, name: row.name, ...(by ? { by } : {}) }
    await lectureEvent(tx, sessionId, userId, change, at)
    return change
  }) as Promise<LectureChange | null>
}

/** Lower every hand (an instructor, `by`); null when none was up. */
export async function lowerAllHands(sql: Sql, sessionId: string, by: { userId: string; name: string }, at: Date | null): Promise<LectureChange | null> {
  return sql.begin(async (tx) => {
    const rows = await tx`delete from raised_hands where session_id = ${sessionId} returning user_id`
    if (!rows.length) return null
    const change: LectureChange = { kind: 'hands-cleared', by: by.name }
    await lectureEvent(tx, sessionId, by.userId, change, at, { count: rows.length })
    return change
  }) as Promise<LectureChange | null>
}

/** The session's lecture row, locked until the transaction ends (made on first use). */
async function lockLecture(tx: Tx, sessionId: string): Promise<LectureRow> {
  await tx`insert into lectures (session_id) values (${sessionId}) on conflict (session_id) do nothing`
  const [row] = await tx<LectureRow[]>`select ${columns(tx)} from lectures where session_id = ${sessionId} for update`
  return row!
}

/**
 * Start following `leader` (replacing whoever led), or stop (`null`). With `onlyIf`, it stops only
 * while that person leads. Returns what changed, or null when nothing did.
 */
export async function setFollow(sql: Sql, sessionId: string, leader: { userId: string; name: string } | null, at: Date | null, onlyIf?: string): Promise<LectureChange | null> {
  return sql.begin(async (tx) => {
    const row = await lockLecture(tx, sessionId)
    const current = follow(row)
    if (onlyIf !== undefined && current?.userId !== onlyIf) return null
    if (leader ? current?.userId === leader.userId : !current) return null
    await tx`
      update lectures set follow_user_id = ${leader?.userId ?? null}, follow_name = ${leader?.name ?? null},
        follow_since = ${leader ? sql`coalesce(${at}::timestamptz, now())` : null}
      where session_id = ${sessionId}`
    const change: LectureChange = leader ? { kind: 'follow-started', ...leader } : { kind: 'follow-stopped', userId: current!.userId, name: current!.name }
    await lectureEvent(tx, sessionId, change.userId, change, at)
    return change
  }) as Promise<LectureChange | null>
}

/**
 * Spotlight `target` (started by the instructor named `by`; with `sessionId`, that learner's
 * assignment room), or end it (`null`). With `onlyIf`, it ends only while that person is spotlit.
 * Returns what changed, or null when nothing did (ending one spotlight to start another is one change).
 */
export async function setSpotlight(
  sql: Sql,
  sessionId: string,
  target: { userId: string; name: string; by: string; sessionId?: string } | null,
  at: Date | null,
  onlyIf?: string,
): Promise<LectureChange | null> {
  return sql.begin(async (tx) => {
    const row = await lockLecture(tx, sessionId)
    const current = spotlight(row)
    if (onlyIf !== undefined && current?.userId !== onlyIf) return null
    if (target ? current?.userId === target.userId && current.sessionId === target.sessionId : !current) return null
    await tx`
      update lectures set spotlight_user_id = ${target?.userId ?? null}, spotlight_name = ${target?.name ?? null}, spotlight_by = ${target?.by ?? null},
        spotlight_at = ${target ? sql`coalesce(${at}::timestamptz, now())` : null}, spotlight_session_id = ${target?.sessionId ?? null}
      where session_id = ${sessionId}`
    const room = (s: { sessionId?: string }) => (s.sessionId ? { sessionId: s.sessionId } : {})
    const change: LectureChange = target
      ? { kind: 'spotlight-started', userId: target.userId, name: target.name, ...room(target) }
      : { kind: 'spotlight-stopped', userId: current!.userId, name: current!.name, ...room(current!) }
    await lectureEvent(tx, sessionId, change.userId, change, at, target ? { by: target.by } : {})
    return change
  }) as Promise<LectureChange | null>
}

/** Hands raised per person between `from` and `to` (analytics). */
export async function handsRaisedCounts(sql: Sql, sessionId: string, from: Date, to: Date): Promise<Map<string, number>> {
  const rows = await sql<{ userId: string; n: number }[]>`
    select user_id as "userId", count(*)::int as n from events
    where session_id = ${sessionId} and kind = 'lecture' and data ->> 'kind' = 'hand-raised' and at >= ${from} and at <= ${to}
    group by user_id`
  return new Map(rows.map((r) => [r.userId, r.n]))
}
