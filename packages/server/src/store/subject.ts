import type { Role } from '@session-kit/core'
import type { Sql } from './db.js'

/*
 * What the server holds about one person, table by table, for their export (a subject access
 * request; see erasure/export.ts). Read-only.
 */

export async function sessionsOf(sql: Sql, userId: string, sessionIds: string[]) {
  return sql<
    {
      id: string
      title: string
      ownedByYou: boolean
      banned: boolean
      name: string | null
      email: string | null
      avatar: string | null
      tokenRole: Role | null
      roleOverride: Role | null
      muted: boolean | null
      hidden: boolean | null
      testUser: boolean | null
      firstJoinedAt: Date | null
      lastSeenAt: Date | null
    }[]
  >`
    select s.id, s.title, s.owner_id = ${userId} as "ownedByYou",
      exists(select 1 from bans b where b.session_id = s.id and b.user_id = ${userId}) as banned,
      p.name, p.email, p.avatar, p.token_role as "tokenRole", p.role_override as "roleOverride", p.muted, p.hidden, p.test_user as "testUser",
      p.first_joined_at as "firstJoinedAt", p.last_seen_at as "lastSeenAt"
    from sessions s left join participants p on p.session_id = s.id and p.user_id = ${userId}
    where s.id = any(${sessionIds}) order by s.id`
}

export async function chatOf(sql: Sql, userId: string) {
  return sql<{ sessionId: string; id: number; body: string; createdAt: Date; deleted: boolean }[]>`
    select session_id as "sessionId", id, body, created_at as "createdAt", deleted_at is not null as deleted
    from chat_messages where user_id = ${userId} order by id`
}

export async function eventsOf(sql: Sql, userId: string) {
  return sql<{ sessionId: string; kind: string; at: Date; inserted: number; deleted: number; data: Record<string, unknown> | null }[]>`
    select session_id as "sessionId", kind, at, inserted, deleted, data from events where user_id = ${userId} order by id`
}

export async function invitationsOf(sql: Sql, userId: string, emails: string[]) {
  const [received, sent] = await Promise.all([
    sql<{ id: string; sessionId: string; email: string; name: string | null; role: Role; status: string; inviterName: string; createdAt: Date; expiresAt: Date; respondedAt: Date | null }[]>`
      select id, session_id as "sessionId", email, name, role, status, inviter_name as "inviterName", created_at as "createdAt", expires_at as "expiresAt", responded_at as "respondedAt"
      from invitations where lower(email) = any(${emails}) or accepted_user_id = ${userId} order by created_at, id`,
    sql<{ id: string; sessionId: string; role: Role; status: string; createdAt: Date }[]>`
      select id, session_id as "sessionId", role, status, created_at as "createdAt" from invitations where invited_by = ${userId} order by created_at, id`,
  ])
  return { received, sent }
}

export async function runsOf(sql: Sql, userId: string) {
  return sql<{ id: string; sessionId: string; kind: string; file: string; language: string; status: string; testsPassed: number; testsFailed: number; createdAt: Date; finishedAt: Date | null }[]>`
    select id, session_id as "sessionId", kind, file, language, status, tests_passed as "testsPassed", tests_failed as "testsFailed", created_at as "createdAt", finished_at as "finishedAt"
    from verified_runs where user_id = ${userId} order by created_at, id`
}

/** Recordings of these sessions, with their replay (to see whether the person appears in it). */
export async function recordingsIn(sql: Sql, sessionIds: string[]) {
  return sql<{ id: string; sessionId: string; title: string; status: string; startedAt: Date; stoppedAt: Date | null; createdBy: string; replay: Buffer | null }[]>`
    select r.id, r.session_id as "sessionId", r.title, r.status, r.started_at as "startedAt", r.stopped_at as "stoppedAt", r.created_by as "createdBy", p.data as replay
    from recordings r left join recording_replays p on p.recording_id = r.id
    where r.session_id = any(${sessionIds}) order by r.started_at, r.id`
}

export async function snapshotsBy(sql: Sql, userId: string) {
  return sql<{ id: string; sessionId: string; title: string; createdAt: Date }[]>`
    select id, session_id as "sessionId", title, created_at as "createdAt" from snapshots where created_by = ${userId} order by created_at, id`
}

export async function handsOf(sql: Sql, userId: string) {
  return sql<{ sessionId: string; question: string; raisedAt: Date }[]>`
    select session_id as "sessionId", question, raised_at as "raisedAt" from raised_hands where user_id = ${userId} order by raised_at`
}

export async function assignmentRoomsOf(sql: Sql, userId: string) {
  return sql<{ assignmentId: string; assignmentTitle: string; sessionId: string; startedAt: Date; submittedAt: Date | null }[]>`
    select r.assignment_id as "assignmentId", a.title as "assignmentTitle", r.session_id as "sessionId", r.started_at as "startedAt", r.submitted_at as "submittedAt"
    from assignment_rooms r join assignments a on a.id = r.assignment_id where r.user_id = ${userId} order by r.started_at`
}

export async function assignmentsOwnedBy(sql: Sql, userId: string) {
  return sql<{ id: string; title: string; createdAt: Date }[]>`select id, title, created_at as "createdAt" from assignments where owner_id = ${userId} order by created_at, id`
}

export async function ltiOf(sql: Sql, userId: string) {
  const [memberships, grades] = await Promise.all([
    sql<{ platformId: string; contextId: string; ltiSub: string; name: string; email: string | null; role: string; status: string; source: string; updatedAt: Date }[]>`
      select platform_id as "platformId", context_id as "contextId", lti_sub as "ltiSub", name, email, role, status, source, updated_at as "updatedAt"
      from lti_members where user_id = ${userId} order by platform_id, context_id`,
    sql<{ assignmentId: string; platformId: string; status: string; scoreGiven: number | null; scoreMaximum: number | null; submittedAt: Date; sentAt: Date | null }[]>`
      select assignment_id as "assignmentId", platform_id as "platformId", status, score_given as "scoreGiven", score_maximum as "scoreMaximum", submitted_at as "submittedAt", sent_at as "sentAt"
      from lti_grades where user_id = ${userId} order by submitted_at`,
  ])
  return { memberships, grades }
}
