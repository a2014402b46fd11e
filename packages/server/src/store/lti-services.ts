import type { Sql } from './db.js'
import type { LinkRow } from './lti.js'

/*
 * What the LTI Advantage services keep: the grades waiting to reach an LMS's gradebook (a durable
 * outbox, one row per learner and assignment) and the course members an instructor's overview
 * lists beside the rooms.
 */

export type GradeStatus = 'waiting' | 'sending' | 'sent' | 'failed'

export interface GradeRow {
  assignmentId: string
  userId: string
  platformId: string
  ltiSub: string
  /** The line item the score goes to; null until found or created in `lineitems`. */
  lineitem: string | null
  lineitems: string | null
  status: GradeStatus
  runId: string | null
  scoreGiven: number | null
  scoreMaximum: number | null
  /** When the learner submitted: the score's timestamp, and the version of the row (a new submission replaces it). */
  submittedAt: Date
  attempts: number
  nextAttemptAt: Date
  lastError: string | null
  sentAt: Date | null
  updatedAt: Date
}

const gradeColumns = (sql: Sql) =>
  sql`assignment_id as "assignmentId", user_id as "userId", platform_id as "platformId", lti_sub as "ltiSub", lineitem, lineitems, status, run_id as "runId",
    score_given as "scoreGiven", score_maximum as "scoreMaximum", submitted_at as "submittedAt", attempts, next_attempt_at as "nextAttemptAt",
    last_error as "lastError", sent_at as "sentAt", updated_at as "updatedAt"`

/**
 * Where a learner's score goes: a link of the assignment that grants the score scope and names a
 * line item (or a container to find or make one in, with the line item scope), in a course where
 * this user is a member (so their LMS id is known there). A link with its own line item first, then the newest.
 */
export async function gradeTarget(sql: Sql, assignmentId: string, userId: string, scopes: { score: string; lineItem: string }): Promise<{ link: LinkRow; ltiSub: string } | undefined> {
  const [row] = await sql<(LinkRow & { ltiSub: string })[]>`
    select l.platform_id as "platformId", l.deployment_id as "deploymentId", l.resource_link_id as "resourceLinkId", l.kind, l.session_id as "sessionId",
      l.assignment_id as "assignmentId", l.context_id as "contextId", l.context_title as "contextTitle", l.title, l.nrps_url as "nrpsUrl",
      l.ags_lineitems as "agsLineitems", l.ags_lineitem as "agsLineitem", l.ags_scopes as "agsScopes", m.lti_sub as "ltiSub"
    from lti_links l join lti_members m on m.platform_id = l.platform_id and m.context_id = l.context_id
    where l.assignment_id = ${assignmentId} and m.user_id = ${userId} and ${scopes.score} = any(l.ags_scopes)
      and (l.ags_lineitem is not null or (l.ags_lineitems is not null and ${scopes.lineItem} = any(l.ags_scopes)))
    order by (l.ags_lineitem is not null) desc, l.updated_at desc
    limit 1`
  if (!row) return undefined
  const { ltiSub, ...link } = row
  return { link, ltiSub }
}

/** A line item found or made before for this assignment in that container (learners after the first need not look again). */
export async function knownLineItem(sql: Sql, assignmentId: string, lineitems: string): Promise<string | undefined> {
  const [row] = await sql<{ lineitem: string }[]>`
    select lineitem from lti_grades where assignment_id = ${assignmentId} and lineitems = ${lineitems} and lineitem is not null order by updated_at desc limit 1`
  return row?.lineitem
}

/** A submission to grade: the row starts (again) waiting for its tests run; a new submission replaces what an older one left. */
export async function putGrade(
  sql: Sql,
  g: Pick<GradeRow, 'assignmentId' | 'userId' | 'platformId' | 'ltiSub' | 'lineitem' | 'lineitems' | 'runId' | 'submittedAt'> & { lastError: string | null; nextAttemptAt: Date },
): Promise<GradeRow> {
  const [row] = await sql<GradeRow[]>`
    insert into lti_grades (assignment_id, user_id, platform_id, lti_sub, lineitem, lineitems, status, run_id, submitted_at, attempts, next_attempt_at, last_error, updated_at)
    values (${g.assignmentId}, ${g.userId}, ${g.platformId}, ${g.ltiSub}, ${g.lineitem}, ${g.lineitems}, 'waiting', ${g.runId}, ${g.submittedAt}, 0, ${g.nextAttemptAt}, ${g.lastError}, ${g.submittedAt})
    on conflict (assignment_id, user_id) do update set
      platform_id = excluded.platform_id, lti_sub = excluded.lti_sub, lineitem = excluded.lineitem, lineitems = excluded.lineitems,
      status = 'waiting', run_id = excluded.run_id, score_given = null, score_maximum = null, submitted_at = excluded.submitted_at,
      attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, updated_at = excluded.updated_at
    returning ${gradeColumns(sql)}`
  return row!
}

/**
 * Take up to `limit` rows that are due, for `leaseMs`: their next attempt moves past the lease, so
 * another instance (or this one's next tick) leaves them alone while they are worked on, and takes
 * them up again if this instance dies on the way. Rows another transaction holds are skipped.
 */
export async function claimDueGrades(sql: Sql, now: Date, leaseMs: number, limit: number): Promise<GradeRow[]> {
  return sql<GradeRow[]>`
    update lti_grades set next_attempt_at = ${new Date(now.getTime() + leaseMs)}
    where (assignment_id, user_id) in (
      select assignment_id, user_id from lti_grades
      where status in ('waiting', 'sending') and next_attempt_at <= ${now}
      order by next_attempt_at
      limit ${limit}
      for update skip locked
    )
    returning ${gradeColumns(sql)}`
}

/**
 * Write what became of a claimed row, unless the learner submitted again meanwhile (the row then
 * belongs to that submission). Returns whether it was written.
 */
export async function updateGrade(
  sql: Sql,
  claimed: Pick<GradeRow, 'assignmentId' | 'userId' | 'submittedAt'>,
  change: Partial<Pick<GradeRow, 'status' | 'runId' | 'scoreGiven' | 'scoreMaximum' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'sentAt' | 'lineitem'>>,
  now: Date,
): Promise<boolean> {
  const set: Record<string, unknown> = { updated_at: now }
  const column: Record<string, string> = {
    status: 'status',
    runId: 'run_id',
    scoreGiven: 'score_given',
    scoreMaximum: 'score_maximum',
    attempts: 'attempts',
    nextAttemptAt: 'next_attempt_at',
    lastError: 'last_error',
    sentAt: 'sent_at',
    lineitem: 'lineitem',
  }
  for (const [k, v] of Object.entries(change)) if (v !== undefined) set[column[k]!] = v
  const rows = await sql`
    update lti_grades set ${sql(set)}
    where assignment_id = ${claimed.assignmentId} and user_id = ${claimed.userId} and submitted_at = ${claimed.submittedAt}
    returning user_id`
  return rows.length > 0
}

/** A line item found or made: every row of the assignment waiting for one in that container takes it. */
export async function setLineItem(sql: Sql, assignmentId: string, lineitems: string, lineitem: string): Promise<void> {
  await sql`update lti_grades set lineitem = ${lineitem} where assignment_id = ${assignmentId} and lineitems = ${lineitems} and lineitem is null`
}

export async function getGrade(sql: Sql, assignmentId: string, userId: string): Promise<GradeRow | undefined> {
  const [row] = await sql<GradeRow[]>`select ${gradeColumns(sql)} from lti_grades where assignment_id = ${assignmentId} and user_id = ${userId}`
  return row
}

export async function gradesOf(sql: Sql, assignmentId: string): Promise<GradeRow[]> {
  return sql<GradeRow[]>`select ${gradeColumns(sql)} from lti_grades where assignment_id = ${assignmentId}`
}

/** A learner of a course the assignment is linked from, with no room in it yet. */
export interface NotOpenedRow {
  userId: string
  name: string
  email: string | null
}

/**
 * The active learners of the courses this assignment is linked from (as their rosters and
 * launches made them known) who have not opened it: one entry per person, by name. An LMS's
 * "student view" (a test user) is a teacher looking, not someone to wait for.
 */
export async function learnersNotOpened(sql: Sql, assignmentId: string): Promise<NotOpenedRow[]> {
  return sql<NotOpenedRow[]>`
    select user_id as "userId", name, email from (
      select distinct on (m.user_id) m.user_id, m.name, m.email
      from lti_members m join lti_links l on l.platform_id = m.platform_id and l.context_id = m.context_id
      where l.assignment_id = ${assignmentId} and m.role = 'learner' and m.status = 'Active' and not m.test_user
        and not exists (select 1 from assignment_rooms r where r.assignment_id = ${assignmentId} and r.user_id = m.user_id)
      order by m.user_id, m.updated_at desc
    ) x
    order by lower(name), user_id`
}

/**
 * Whether the assignment's course roster can be pulled (a link of it named the LMS's roster
 * endpoint), and when it last was (through any of its links).
 */
export async function rosterState(sql: Sql, assignmentId: string): Promise<{ available: boolean; pulledAt: Date | null }> {
  const [row] = await sql<{ available: boolean; pulledAt: Date | null }[]>`
    select exists (select 1 from lti_links where assignment_id = ${assignmentId} and nrps_url is not null) as available,
      (select max(roster_pulled_at) from lti_links where assignment_id = ${assignmentId} and nrps_url is not null) as "pulledAt"`
  return row!
}
