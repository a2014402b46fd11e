import type { Language, SubmitPolicy, VerifiedRunStatus } from '@session-kit/core'
import type { Sql, Tx } from './db.js'
import { INSTANCE_TIMEOUT_S } from './presence.js'
import { deleteSessions, insertSession, type SessionRow } from './sessions.js'

/**
 * Assignments: a template and one room (a session) per learner. The template's hidden tests are
 * installed as each room's hidden files (beside its document, never in it); its visible tests
 * and starter files are the room's first document.
 */
export interface AssignmentRow {
  id: string
  title: string
  instructions: string
  language: Language
  files: Record<string, string>
  visibleTests: Record<string, string>
  hiddenTests: Record<string, string>
  dueAt: Date | null
  submitPolicy: SubmitPolicy
  ownerId: string
  closedAt: Date | null
  createdAt: Date
  updatedAt: Date
}

export type NewAssignment = Omit<AssignmentRow, 'closedAt' | 'createdAt' | 'updatedAt'>
export type AssignmentPatch = Partial<Pick<AssignmentRow, 'title' | 'instructions' | 'language' | 'files' | 'visibleTests' | 'hiddenTests' | 'dueAt' | 'submitPolicy'>> & { closed?: boolean }

const columns = (sql: Sql | Tx) => sql`
  id, title, instructions, language, files, visible_tests as "visibleTests", hidden_tests as "hiddenTests", due_at as "dueAt",
  submit_policy as "submitPolicy", owner_id as "ownerId", closed_at as "closedAt", created_at as "createdAt", updated_at as "updatedAt"`

/** What a learner's room starts from: the starter files and the visible tests. */
export const starterOf = (a: Pick<AssignmentRow, 'files' | 'visibleTests'>): Record<string, string> => ({ ...a.files, ...a.visibleTests })

export async function createAssignment(sql: Sql, a: NewAssignment): Promise<{ row: AssignmentRow; created: boolean }> {
  const [row] = await sql<AssignmentRow[]>`
    insert into assignments (id, title, instructions, language, files, visible_tests, hidden_tests, due_at, submit_policy, owner_id)
    values (${a.id}, ${a.title}, ${a.instructions}, ${a.language}, ${sql.json(a.files)}, ${sql.json(a.visibleTests)}, ${sql.json(a.hiddenTests)}, ${a.dueAt}, ${a.submitPolicy}, ${a.ownerId})
    on conflict (id) do nothing
    returning ${columns(sql)}`
  if (row) return { row, created: true }
  return { row: (await getAssignment(sql, a.id))!, created: false }
}

export async function getAssignment(sql: Sql | Tx, id: string): Promise<AssignmentRow | undefined> {
  const [row] = await sql<AssignmentRow[]>`select ${columns(sql)} from assignments where id = ${id}`
  return row
}

export async function listAssignments(sql: Sql, opts: { limit: number; after?: string }): Promise<AssignmentRow[]> {
  return sql<AssignmentRow[]>`
    select ${columns(sql)} from assignments
    where ${opts.after ? sql`id > ${opts.after}` : sql`true`}
    order by id limit ${opts.limit}`
}

/** Change the template; hidden tests are replaced in every room in the same transaction. */
export async function updateAssignment(sql: Sql, id: string, p: AssignmentPatch): Promise<AssignmentRow | undefined> {
  return sql.begin(async (tx) => {
    const [row] = await tx<AssignmentRow[]>`
      update assignments set
        title = coalesce(${p.title ?? null}, title),
        instructions = coalesce(${p.instructions ?? null}, instructions),
        language = coalesce(${p.language ?? null}, language),
        files = coalesce(${p.files ? tx.json(p.files) : null}::jsonb, files),
        visible_tests = coalesce(${p.visibleTests ? tx.json(p.visibleTests) : null}::jsonb, visible_tests),
        hidden_tests = coalesce(${p.hiddenTests ? tx.json(p.hiddenTests) : null}::jsonb, hidden_tests),
        due_at = ${p.dueAt === undefined ? sql`due_at` : sql`${p.dueAt}`},
        submit_policy = coalesce(${p.submitPolicy ?? null}, submit_policy),
        closed_at = ${p.closed === undefined ? sql`closed_at` : p.closed ? sql`coalesce(closed_at, now())` : sql`null`},
        updated_at = now()
      where id = ${id}
      returning ${columns(tx)}`
    if (row && p.hiddenTests) {
      const rooms = await tx<{ sessionId: string }[]>`select session_id as "sessionId" from assignment_rooms where assignment_id = ${id}`
      for (const r of rooms) await installHiddenTests(tx, r.sessionId, p.hiddenTests, row.ownerId)
    }
    return row
  }) as Promise<AssignmentRow | undefined>
}

/** A room's hidden files become exactly `tests`. */
async function installHiddenTests(tx: Tx, sessionId: string, tests: Record<string, string>, by: string) {
  await tx`delete from hidden_files where session_id = ${sessionId} and not (name = any(${Object.keys(tests)}))`
  for (const [name, text] of Object.entries(tests)) {
    await tx`
      insert into hidden_files (session_id, name, text, updated_by) values (${sessionId}, ${name}, ${text}, ${by})
      on conflict (session_id, name) do update set text = excluded.text, updated_by = excluded.updated_by, updated_at = now()`
  }
}

/** Delete an assignment and every learner's room (their sessions, and what goes with them). Returns the rooms' session ids, or undefined when there was no such assignment. */
export async function deleteAssignment(sql: Sql, id: string): Promise<string[] | undefined> {
  return sql.begin(async (tx) => {
    const rooms = await tx<{ sessionId: string }[]>`select session_id as "sessionId" from assignment_rooms where assignment_id = ${id}`
    const ids = rooms.map((r) => r.sessionId)
    const gone = await tx`delete from assignments where id = ${id} returning id`
    if (!gone.length) return undefined
    // Deleted as any session is (and remembered: old tokens cannot reopen them).
    await deleteSessions(tx, ids)
    return ids
  }) as Promise<string[] | undefined>
}

// ---- learners' rooms ------------------------------------------------------------------------

export interface AssignmentRoomRow {
  assignmentId: string
  userId: string
  sessionId: string
  name: string
  starter: Record<string, string>
  startedAt: Date
  submittedAt: Date | null
}

const roomColumns = (sql: Sql | Tx) => sql`
  assignment_id as "assignmentId", user_id as "userId", session_id as "sessionId", name, starter, started_at as "startedAt", submitted_at as "submittedAt"`

export async function getRoom(sql: Sql, assignmentId: string, userId: string): Promise<AssignmentRoomRow | undefined> {
  const [row] = await sql<AssignmentRoomRow[]>`select ${roomColumns(sql)} from assignment_rooms where assignment_id = ${assignmentId} and user_id = ${userId}`
  return row
}

/**
 * A learner's room, made on their first open: the room row first (its primary key is the one
 * place two opens at once meet: the second waits for the first and finds its row), then the
 * session from the starter files and the hidden tests, all in one transaction.
 */
export async function openRoom(
  sql: Sql,
  a: AssignmentRow,
  learner: { userId: string; name: string },
  sessionId: string,
): Promise<{ room: AssignmentRoomRow; session: SessionRow | undefined; created: boolean }> {
  const starter = starterOf(a)
  return sql.begin(async (tx) => {
    const [room] = await tx<AssignmentRoomRow[]>`
      insert into assignment_rooms (assignment_id, user_id, session_id, name, starter)
      values (${a.id}, ${learner.userId}, ${sessionId}, ${learner.name}, ${tx.json(starter)})
      on conflict (assignment_id, user_id) do nothing
      returning ${roomColumns(tx)}`
    if (!room) {
      const [existing] = await tx<AssignmentRoomRow[]>`select ${roomColumns(tx)} from assignment_rooms where assignment_id = ${a.id} and user_id = ${learner.userId}`
      return { room: existing!, session: undefined, created: false }
    }
    const session = await insertSession(tx, { id: sessionId, title: `${a.title} — ${learner.name}`.slice(0, 200), language: a.language, ownerId: a.ownerId, files: starter })
    if (!session) throw new Error(`session ${sessionId} exists already`)
    await installHiddenTests(tx, sessionId, a.hiddenTests, a.ownerId)
    return { room, session, created: true }
  }) as Promise<{ room: AssignmentRoomRow; session: SessionRow | undefined; created: boolean }>
}

export async function markSubmitted(sql: Sql, assignmentId: string, userId: string): Promise<AssignmentRoomRow | undefined> {
  const [row] = await sql<AssignmentRoomRow[]>`
    update assignment_rooms set submitted_at = now() where assignment_id = ${assignmentId} and user_id = ${userId} returning ${roomColumns(sql)}`
  return row
}

export async function listRooms(sql: Sql, assignmentId: string): Promise<AssignmentRoomRow[]> {
  return sql<AssignmentRoomRow[]>`select ${roomColumns(sql)} from assignment_rooms where assignment_id = ${assignmentId} order by started_at, user_id`
}

/** What an instructor's overview shows beside each room: activity, presence, the latest tests run, a raised hand, recent run results. */
export interface RoomStatus {
  sessionId: string
  userId: string
  lastActivityAt: Date | null
  online: boolean
  testsRunId: string | null
  testsStatus: VerifiedRunStatus | null
  testsPassed: number | null
  testsFailed: number | null
  testsAt: Date | null
  handRaisedAt: Date | null
  handQuestion: string | null
  /** The learner's last verified runs, newest first: whether each passed. */
  recentRuns: boolean[]
  pendingUpdates: number
}

export async function roomStatuses(sql: Sql, assignmentId: string): Promise<RoomStatus[]> {
  return sql<RoomStatus[]>`
    select r.session_id as "sessionId", r.user_id as "userId",
      greatest(
        (select max(m.last_activity_at) from activity_minutes m where m.session_id = r.session_id and m.user_id = r.user_id),
        (select max(v.created_at) from verified_runs v where v.session_id = r.session_id and v.user_id = r.user_id)
      ) as "lastActivityAt",
      exists (
        select 1 from connections c join instances i on i.id = c.instance_id
        where c.session_id = r.session_id and c.user_id = r.user_id and i.heartbeat_at > now() - make_interval(secs => ${INSTANCE_TIMEOUT_S})
      ) as online,
      t.id as "testsRunId", t.status as "testsStatus", t.tests_passed as "testsPassed", t.tests_failed as "testsFailed", t.finished_at as "testsAt",
      h.raised_at as "handRaisedAt", h.question as "handQuestion",
      coalesce((
        select array_agg(x.status in ('passed') order by x.created_at desc) from (
          select status, created_at from verified_runs v where v.session_id = r.session_id and v.user_id = r.user_id and v.finished_at is not null
          order by created_at desc limit 5
        ) x
      ), '{}') as "recentRuns",
      (select count(*)::int from assignment_updates u where u.assignment_id = r.assignment_id and u.user_id = r.user_id) as "pendingUpdates"
    from assignment_rooms r
    left join lateral (
      select id, status, tests_passed, tests_failed, finished_at from verified_runs v
      where v.session_id = r.session_id and v.kind = 'tests' and v.finished_at is not null
      order by v.created_at desc limit 1
    ) t on true
    left join raised_hands h on h.session_id = r.session_id and h.user_id = r.user_id
    where r.assignment_id = ${assignmentId}`
}

// ---- starter-file updates -------------------------------------------------------------------

export interface AssignmentUpdateRow {
  file: string
  text: string
  offeredAt: Date
}

export async function listUpdates(sql: Sql, assignmentId: string, userId: string): Promise<AssignmentUpdateRow[]> {
  return sql<AssignmentUpdateRow[]>`
    select file, text, offered_at as "offeredAt" from assignment_updates where assignment_id = ${assignmentId} and user_id = ${userId} order by file`
}

export async function pendingUpdateCount(sql: Sql, assignmentId: string, userId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from assignment_updates where assignment_id = ${assignmentId} and user_id = ${userId}`
  return row!.n
}

/**
 * A room took a starter update, or was offered one: the starter texts it now holds (what its
 * files are compared with next time), the offers made, and the offers that no longer apply.
 */
export async function recordStarterChange(
  sql: Sql,
  assignmentId: string,
  userId: string,
  change: { starter: Record<string, string>; offer: Record<string, string>; drop: string[] },
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`update assignment_rooms set starter = ${tx.json(change.starter)} where assignment_id = ${assignmentId} and user_id = ${userId}`
    if (change.drop.length) await tx`delete from assignment_updates where assignment_id = ${assignmentId} and user_id = ${userId} and file = any(${change.drop})`
    for (const [file, text] of Object.entries(change.offer)) {
      await tx`
        insert into assignment_updates (assignment_id, user_id, file, text) values (${assignmentId}, ${userId}, ${file}, ${text})
        on conflict (assignment_id, user_id, file) do update set text = excluded.text, offered_at = now()`
    }
  })
}

// ---- analytics ------------------------------------------------------------------------------

export interface AssignmentRunRow {
  sessionId: string
  userId: string
  kind: 'program' | 'tests'
  testsPassed: number
  testsFailed: number
  createdAt: Date
  finishedAt: Date | null
}

/** Every verified run in the assignment's rooms by their learners, oldest first. */
export async function assignmentRuns(sql: Sql, assignmentId: string): Promise<AssignmentRunRow[]> {
  return sql<AssignmentRunRow[]>`
    select v.session_id as "sessionId", v.user_id as "userId", v.kind, v.tests_passed as "testsPassed", v.tests_failed as "testsFailed",
      v.created_at as "createdAt", v.finished_at as "finishedAt"
    from assignment_rooms r join verified_runs v on v.session_id = r.session_id and v.user_id = r.user_id
    where r.assignment_id = ${assignmentId}
    order by v.created_at`
}

/** The learner's room a session is: its assignment, learner, the assignment's owner and first starter file; undefined for any other session. */
export async function roomOfSession(
  sql: Sql,
  sessionId: string,
): Promise<{ assignmentId: string; userId: string; name: string; ownerId: string; firstFile: string | null } | undefined> {
  const [row] = await sql<{ assignmentId: string; userId: string; name: string; ownerId: string; firstFile: string | null }[]>`
    select r.assignment_id as "assignmentId", r.user_id as "userId", r.name, a.owner_id as "ownerId",
      (select k from jsonb_object_keys(a.files) k limit 1) as "firstFile"
    from assignment_rooms r join assignments a on a.id = r.assignment_id
    where r.session_id = ${sessionId}`
  return row
}
