import type { AuditEntry, UserExport } from '@session-kit/core/api'
import { listAudit } from '../audit/entries.js'
import type { Services } from '../http/context.js'
import { whoIs } from '../store/erasure.js'
import { assignmentRoomsOf, assignmentsOwnedBy, chatOf, eventsOf, handsOf, invitationsOf, ltiOf, recordingsIn, runsOf, sessionsOf, snapshotsBy } from '../store/subject.js'
import { appearsInReplay } from './replays.js'

const iso = (d: Date) => d.toISOString()
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null)

/** Audit entries read per person and side (actor, target): far more than one person's share. */
const AUDIT_LIMIT = 100_000

/**
 * Everything the server holds about one person (`GET /v1/users/:userId/export`): the sessions they
 * were in, own or were banned from, with their participant row; their chat, events, invitations,
 * verified runs, the recordings they appear in or made, snapshots, raised hands, assignment rooms
 * (with the code in them: their own work), LMS memberships and grades, and the audit entries that
 * name them. Other people's personal data stays out.
 */
export async function exportUser(services: Pick<Services, 'db' | 'hub' | 'clock'>, userId: string, givenEmails: string[] = []): Promise<UserExport> {
  const { sql } = services.db
  const who = await whoIs(sql, userId, givenEmails.map((e) => e.trim().toLowerCase()))
  const rooms = await assignmentRoomsOf(sql, userId)
  const sessionIds = [...new Set([...who.sessionIds, ...rooms.map((r) => r.sessionId)])]
  const [sessions, chat, events, invitations, runs, recordings, snapshots, hands, owned, lti, asActor, asTarget] = await Promise.all([
    sessionsOf(sql, userId, sessionIds),
    chatOf(sql, userId),
    eventsOf(sql, userId),
    invitationsOf(sql, userId, who.emails),
    runsOf(sql, userId),
    recordingsIn(sql, sessionIds),
    snapshotsBy(sql, userId),
    handsOf(sql, userId),
    assignmentsOwnedBy(sql, userId),
    ltiOf(sql, userId),
    listAudit(sql, { actorId: userId, limit: AUDIT_LIMIT }),
    listAudit(sql, { targetId: userId, limit: AUDIT_LIMIT }),
  ])
  const audit = new Map<number, AuditEntry>()
  for (const e of [...asActor.entries, ...asTarget.entries]) audit.set(e.id, e)

  const roomFiles = new Map<string, Record<string, string>>()
  for (const r of rooms) roomFiles.set(r.sessionId, (await services.hub.documentText(r.sessionId))?.files ?? {})

  return {
    userId,
    exportedAt: iso(services.clock()),
    emails: who.emails,
    sessions: sessions.map((s) => ({
      id: s.id,
      title: s.title,
      ownedByYou: s.ownedByYou,
      banned: s.banned,
      participant:
        s.name === null
          ? null
          : {
              name: s.name,
              email: s.email,
              avatar: s.avatar,
              role: s.tokenRole!,
              roleOverride: s.roleOverride,
              muted: Boolean(s.muted),
              hidden: Boolean(s.hidden),
              testUser: Boolean(s.testUser),
              firstJoinedAt: isoOrNull(s.firstJoinedAt),
              lastSeenAt: isoOrNull(s.lastSeenAt),
            },
    })),
    chat: chat.map((m) => ({ sessionId: m.sessionId, id: m.id, body: m.body, createdAt: iso(m.createdAt), deleted: m.deleted })),
    events: events.map((e) => ({ sessionId: e.sessionId, kind: e.kind, at: iso(e.at), inserted: e.inserted, deleted: e.deleted, data: e.data })),
    invitations: {
      received: invitations.received.map((i) => ({ ...i, createdAt: iso(i.createdAt), expiresAt: iso(i.expiresAt), respondedAt: isoOrNull(i.respondedAt) })),
      sent: invitations.sent.map((i) => ({ ...i, createdAt: iso(i.createdAt) })),
    },
    runs: runs.map((r) => ({ ...r, createdAt: iso(r.createdAt), finishedAt: isoOrNull(r.finishedAt) })),
    recordings: recordings
      .map((r) => ({ r, appear: Boolean(r.replay && appearsInReplay(r.replay, userId)) }))
      .filter(({ r, appear }) => appear || r.createdBy === userId)
      .map(({ r, appear }) => ({ id: r.id, sessionId: r.sessionId, title: r.title, status: r.status, startedAt: iso(r.startedAt), stoppedAt: isoOrNull(r.stoppedAt), createdByYou: r.createdBy === userId, youAppear: appear })),
    snapshots: snapshots.map((s) => ({ ...s, createdAt: iso(s.createdAt) })),
    raisedHands: hands.map((h) => ({ ...h, raisedAt: iso(h.raisedAt) })),
    assignmentRooms: rooms.map((r) => ({ ...r, startedAt: iso(r.startedAt), submittedAt: isoOrNull(r.submittedAt), files: roomFiles.get(r.sessionId) ?? {} })),
    assignmentsOwned: owned.map((a) => ({ ...a, createdAt: iso(a.createdAt) })),
    lti: {
      memberships: lti.memberships.map((m) => ({ ...m, updatedAt: iso(m.updatedAt) })),
      grades: lti.grades.map((g) => ({ ...g, submittedAt: iso(g.submittedAt), sentAt: isoOrNull(g.sentAt) })),
    },
    audit: [...audit.values()].sort((a, b) => a.id - b.id),
  }
}
