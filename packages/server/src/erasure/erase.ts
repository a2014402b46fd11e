import type { UserErased } from '@session-kit/core/api'
import { forgetInAudit, recordActions, type AuditActor, type AuditOrigin, type AuditRecord } from '../audit/record.js'
import type { Services } from '../http/context.js'
import type { Sql } from '../store/db.js'
import { anonymiseShared, deleteTheirs, rememberErased, rowsOfSessions, whoIs, type Counts } from '../store/erasure.js'
import { erasedUserKey } from '../store/participants.js'
import { deleteSessions } from '../store/sessions.js'
import type { Forgetting } from './former.js'
import { forgetInReplays } from './replays.js'

/** How long erasure waits for the person's open connections (on any instance) to close. */
const CLOSE_WAIT_MS = 5_000

/**
 * Erase one person everywhere (`DELETE /v1/users/:userId`):
 *
 * 1. Remember the erasure (a hash of the id), so a token issued before it cannot bring them back.
 * 2. Close their connections on every instance, and wait for them to close (what closing writes —
 *    a leave, a lowered hand — is then erased too).
 * 3. In one transaction: delete their assignment rooms (sessions that are theirs alone, with
 *    everything in them) and what is theirs in shared sessions; name a former participant instead
 *    of them wherever something of theirs stays (the code they typed and its history, snapshots and
 *    recordings they made, the replays they appear in, the audit log); append `user.erased`.
 *
 * Answers with the rows deleted and anonymised, per table. Running it again finds nothing more.
 */
export async function eraseUser(
  services: Pick<Services, 'db' | 'hub' | 'log'>,
  userId: string,
  opts: { emails?: string[]; actor: AuditActor; origin: AuditOrigin },
): Promise<UserErased> {
  const { sql } = services.db
  const erasedAt = await rememberErased(sql, erasedUserKey(userId))

  const live = await sql<{ sessionId: string }[]>`select distinct session_id as "sessionId" from connections where user_id = ${userId}`
  for (const { sessionId } of live) await services.hub.kick(sessionId, userId, 'Your data was erased from this server.')
  if (live.length) await closed(sql, userId)

  const deleted: Counts = {}
  const anonymised: Counts = {}
  let rooms: string[] = []
  await sql.begin(async (tx) => {
    const who = await whoIs(tx, userId, (opts.emails ?? []).map((e) => e.trim().toLowerCase()))
    const [{ n: auditEntries }] = await tx<{ n: number }[]>`select count(*)::int as n from audit_log where actor_id = ${userId} or target_id = ${userId}`
    const placeholder = await forgetInAudit(tx, userId)
    if (auditEntries) anonymised.audit_log = auditEntries
    const f: Forgetting = { userId, placeholder, names: new Set(who.names), emails: who.emails }

    // Their assignment rooms are theirs alone: deleted whole, as a session is.
    rooms = who.assignmentRooms
    for (const [table, n] of Object.entries(await rowsOfSessions(tx, rooms))) deleted[table] = (deleted[table] ?? 0) + n
    await deleteSessions(tx, rooms)

    const shared = who.sessionIds.filter((s) => !rooms.includes(s))
    await deleteTheirs(tx, f, deleted)
    // JSON naming them is looked for in their assignment rooms' rows too (a webhook payload outlives its session).
    await anonymiseShared(tx, f, who.sessionIds, anonymised)
    const replays = await forgetInReplays(tx, shared, f)
    if (replays) anonymised.recording_replays = replays

    const entries: AuditRecord[] = rooms.map((sessionId) => ({ action: 'session.deleted', actor: opts.actor, origin: opts.origin, sessionId, details: { erasure: true } }))
    entries.push({ action: 'user.erased', actor: opts.actor, origin: opts.origin, targetId: placeholder, details: { deleted, anonymised } })
    await recordActions(tx, entries)
  })
  for (const sid of rooms) services.hub.endSession(sid)
  services.log(`erased a person: ${sum(deleted)} rows deleted, ${sum(anonymised)} anonymised`)
  return { userId, erasedAt: erasedAt.toISOString(), deleted, anonymised }
}

const sum = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0)

/** Wait (a few seconds at most) until none of their connections is listed; a crashed instance's rows are deleted with the rest. */
async function closed(sql: Sql, userId: string): Promise<void> {
  const until = Date.now() + CLOSE_WAIT_MS
  while (Date.now() < until) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from connections where user_id = ${userId}`
    if (!row!.n) break
    await new Promise((r) => setTimeout(r, 50))
  }
  // What a closing connection writes (its leave) lands just after its row goes.
  await new Promise((r) => setTimeout(r, 100))
}
