import {
  ACTIVE_WINDOW_MINUTES,
  activityCounts,
  connectionIntervals,
  floorMinute,
  MINUTE_MS,
  rangeBounds,
  type AnalyticsFacts,
  type AnalyticsRange,
  type ParticipantFacts,
  type Role,
} from '@session-kit/core'
import type { Sql } from './db.js'
import { liveConnections } from './presence.js'
import { handsRaisedCounts } from './lecture.js'
import { verifiedRunCounts } from './verified-runs.js'

export interface GatherOptions {
  /**
   * Count test users (an LMS's "student view", a token with `test: true`) like everyone else and
   * mark their rows. Left out by default: a teacher trying the course as a learner is not a learner,
   * and their edits and runs would skew the class's figures.
   */
  includeTestUsers?: boolean
}

/**
 * Gather what the analytics formulas need, aggregated in SQL: per-person totals and the per-minute
 * trend from the `activity_minutes` rollup (kept current by a trigger on `events`), connections from
 * join/leave events, verified runs from their table, raised hands from lecture events. Eight small indexed queries, whatever the number of events.
 *
 * Test users left out are left out of every per-person figure, total and minute of the trend; the
 * session's own span (its first event, and "now" while anyone is connected) stays the session's.
 * Pseudonyms are numbered over everyone, so they are the same whether test users are counted or not.
 */
export async function gatherAnalytics(
  sql: Sql,
  sessionId: string,
  range: AnalyticsRange,
  now: Date,
  opts: GatherOptions = {},
): Promise<{ facts: AnalyticsFacts; joinSeq: Map<string, number> }> {
  const [[bounds], live, people] = await Promise.all([
    sql<{ first: Date | null; last: Date | null }[]>`select min(at) as first, max(at) as last from events where session_id = ${sessionId}`,
    liveConnections(sql, sessionId),
    sql<{ userId: string; name: string; role: Role; joinSeq: number | null; recentRuns: boolean[]; testUser: boolean }[]>`
      select user_id as "userId", name, coalesce(role_override, token_role) as role, join_seq as "joinSeq", recent_runs as "recentRuns", test_user as "testUser"
      from participants where session_id = ${sessionId}`,
  ])
  const leftOut = opts.includeTestUsers ? [] : people.filter((p) => p.testUser).map((p) => p.userId)
  const nowMs = now.getTime()
  const first = bounds?.first ? bounds.first.getTime() : null
  // While anyone is connected the range ends now; afterwards, at the session's last event.
  const end = live.length || !bounds?.last ? nowMs : Math.min(nowMs, bounds.last.getTime())
  const { from, to } = rangeBounds(range, end, first)
  const recentFrom = floorMinute(to) - (ACTIVE_WINDOW_MINUTES - 1) * MINUTE_MS

  const [totals, minutes, presence, verified, hands] = await Promise.all([
    sql<{ userId: string; codeChanges: number; charsInserted: number; charsDeleted: number; serverChanges: number; executions: number; chatMessages: number; activeMinutes: number; recent: boolean; lastActivityAt: Date | null }[]>`
      select user_id as "userId",
        coalesce(sum(code_changes) filter (where in_range), 0)::int as "codeChanges",
        coalesce(sum(chars_inserted) filter (where in_range), 0)::int as "charsInserted",
        coalesce(sum(chars_deleted) filter (where in_range), 0)::int as "charsDeleted",
        coalesce(sum(server_changes) filter (where in_range), 0)::int as "serverChanges",
        coalesce(sum(executions) filter (where in_range), 0)::int as "executions",
        coalesce(sum(chat_messages) filter (where in_range), 0)::int as "chatMessages",
        (count(*) filter (where in_range and last_activity_at is not null))::int as "activeMinutes",
        coalesce(bool_or(minute >= ${new Date(recentFrom)} and last_activity_at is not null), false) as recent,
        max(last_activity_at) filter (where last_activity_at <= ${new Date(to)}) as "lastActivityAt"
      from (
        select *, minute >= ${new Date(from)} as in_range from activity_minutes
        where session_id = ${sessionId} and minute <= ${new Date(to)} and user_id <> all(${leftOut}::text[])
      ) m
      group by user_id`,
    sql<{ minute: Date; codeChanges: number; executions: number; activeParticipants: number }[]>`
      select minute, sum(code_changes)::int as "codeChanges", sum(executions)::int as executions,
        (count(*) filter (where last_activity_at is not null))::int as "activeParticipants"
      from activity_minutes where session_id = ${sessionId} and minute >= ${new Date(from)} and minute <= ${new Date(to)}
        and user_id <> all(${leftOut}::text[])
      group by minute`,
    sql<{ userId: string; kind: 'join' | 'leave'; at: Date; conn: string | null }[]>`
      select user_id as "userId", kind, at, data ->> 'conn' as conn from events
      where session_id = ${sessionId} and kind in ('join', 'leave') and at <= ${new Date(to)}
      order by id`,
    verifiedRunCounts(sql, sessionId, new Date(from), new Date(to)),
    handsRaisedCounts(sql, sessionId, new Date(from), new Date(to)),
  ])

  const lastActivity = new Map(totals.filter((t) => t.lastActivityAt).map((t) => [t.userId, t.lastActivityAt!.getTime()]))
  const connections = connectionIntervals(
    presence.filter((p) => p.conn).map((p) => ({ userId: p.userId, kind: p.kind, at: p.at.getTime(), conn: p.conn! })),
    new Set(live.map((l) => l.connId)),
    to,
    lastActivity,
  )

  // Pseudonyms follow the order of first joins; someone recorded without joining comes after.
  const joinSeq = new Map<string, number>()
  let next = Math.max(0, ...people.map((p) => p.joinSeq ?? 0))
  for (const p of [...people].sort((a, b) => (a.joinSeq ?? Infinity) - (b.joinSeq ?? Infinity) || a.userId.localeCompare(b.userId))) {
    joinSeq.set(p.userId, p.joinSeq ?? ++next)
  }

  const byUser = new Map(totals.map((t) => [t.userId, t]))
  const onlineUsers = new Set(live.map((l) => l.userId))
  const skipped = new Set(leftOut)
  const participants: ParticipantFacts[] = people.filter((p) => !skipped.has(p.userId)).map((p) => {
    const t = byUser.get(p.userId)
    const c = connections.get(p.userId)
    return {
      userId: p.userId,
      name: p.name,
      role: p.role,
      joinSeq: joinSeq.get(p.userId)!,
      ...activityCounts(t),
      activeMinutes: t?.activeMinutes ?? 0,
      connections: c?.intervals ?? [],
      online: onlineUsers.has(p.userId),
      lastActivityAt: lastActivity.get(p.userId) ?? null,
      connectedSince: onlineUsers.has(p.userId) ? (c?.liveSince ?? null) : null,
      recentRuns: p.recentRuns,
      ...verified.get(p.userId),
      handsRaised: hands.get(p.userId) ?? 0,
      ...(p.testUser ? { testUser: true } : {}),
    }
  })

  return {
    joinSeq,
    facts: {
      range,
      end,
      sessionStart: first,
      participants,
      minutes: minutes.map((m) => ({ minute: m.minute.getTime(), codeChanges: m.codeChanges, executions: m.executions, activeParticipants: m.activeParticipants })),
      activeParticipants: totals.filter((t) => t.recent && joinSeq.has(t.userId)).length,
      serverChanges: totals.reduce((s, t) => s + t.serverChanges, 0),
    },
  }
}

/**
 * The learners of an assignment who joined their room as a test user (an LMS's "student view"): the
 * `test_user` mark their room's participant row took from their token.
 */
export async function assignmentTestUsers(sql: Sql, assignmentId: string): Promise<Set<string>> {
  const rows = await sql<{ userId: string }[]>`
    select r.user_id as "userId" from assignment_rooms r
    join participants p on p.session_id = r.session_id and p.user_id = r.user_id
    where r.assignment_id = ${assignmentId} and p.test_user`
  return new Set(rows.map((r) => r.userId))
}

/** Someone's own activity minute by minute (`…/analytics/me?format=json`): the minutes they did something in. */
export async function ownMinutes(
  sql: Sql,
  sessionId: string,
  userId: string,
  from: Date,
  to: Date,
): Promise<{ minute: string; codeChanges: number; charsInserted: number; charsDeleted: number; executions: number; chatMessages: number }[]> {
  const rows = await sql<{ minute: Date; codeChanges: number; charsInserted: number; charsDeleted: number; executions: number; chatMessages: number }[]>`
    select minute, code_changes as "codeChanges", chars_inserted::int as "charsInserted", chars_deleted::int as "charsDeleted", executions, chat_messages as "chatMessages"
    from activity_minutes where session_id = ${sessionId} and user_id = ${userId} and minute >= date_trunc('minute', ${from}::timestamptz) and minute <= ${to}
    order by minute`
  return rows.map((r) => ({ ...r, minute: r.minute.toISOString() }))
}
