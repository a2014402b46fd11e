import type { Role } from '@session-kit/core'
import type { Sql, Tx } from './db.js'

export type InvitationStatus = 'pending' | 'accepted' | 'declined' | 'expired' | 'revoked'

export interface InvitationRow {
  id: string
  sessionId: string
  email: string
  name: string | null
  role: Role
  /** As people see it: a pending invitation past its expiry reads as expired, no job needed. */
  status: InvitationStatus
  invitedBy: string
  inviterName: string
  expiresInHours: number
  createdAt: Date
  expiresAt: Date
  sentAt: Date
  respondedAt: Date | null
  acceptedUserId: string | null
}

const columns = (sql: Sql, now: Date) => sql`
  id, session_id as "sessionId", email, name, role,
  case when status = 'pending' and expires_at <= ${now} then 'expired' else status end as status,
  invited_by as "invitedBy", inviter_name as "inviterName", expires_in_hours as "expiresInHours",
  created_at as "createdAt", expires_at as "expiresAt", sent_at as "sentAt", responded_at as "respondedAt", accepted_user_id as "acceptedUserId"`

export async function listInvitations(sql: Sql, sessionId: string, now: Date): Promise<InvitationRow[]> {
  return sql<InvitationRow[]>`select ${columns(sql, now)} from invitations where session_id = ${sessionId} order by created_at desc, id`
}

export async function getInvitation(sql: Sql | Tx, sessionId: string, id: string, now: Date): Promise<InvitationRow | undefined> {
  const q = sql as Sql
  const [row] = await q<InvitationRow[]>`select ${columns(q, now)} from invitations where session_id = ${sessionId} and id = ${id}`
  return row
}

export async function findByTokenHash(sql: Sql | Tx, tokenHash: string, now: Date, lock = false): Promise<InvitationRow | undefined> {
  const q = sql as Sql
  const [row] = await q<InvitationRow[]>`select ${columns(q, now)} from invitations where token_hash = ${tokenHash} ${lock ? q`for update` : q``}`
  return row
}

/** Addresses (lower-cased) that already have a live pending invitation to the session. */
export async function pendingEmails(sql: Sql | Tx, sessionId: string, emails: string[], now: Date): Promise<Set<string>> {
  const q = sql as Sql
  const rows = await q<{ email: string }[]>`
    select lower(email) as email from invitations
    where session_id = ${sessionId} and status = 'pending' and expires_at > ${now} and lower(email) = any(${emails.map((e) => e.toLowerCase())})`
  return new Set(rows.map((r) => r.email))
}

export const INVITE_LIMITS = { perInviterPerHour: 20, perSessionPerDay: 200 }
const HOUR = 3_600_000
const DAY = 86_400_000

/**
 * How many of `wanted` sends the limits allow now, counted in PostgreSQL (so they hold across
 * instances) under a per-session advisory lock; and when the next one would be allowed.
 */
export async function allowance(tx: Tx, sessionId: string, inviter: string, wanted: number, now: Date): Promise<{ allowed: number; retryAfterSeconds: number }> {
  const q = tx as unknown as Sql
  await q`select pg_advisory_xact_lock(hashtext(${'session-kit:invite:' + sessionId}))`
  await q`select pg_advisory_xact_lock(hashtext(${'session-kit:inviter:' + inviter}))`
  const hourAgo = new Date(now.getTime() - HOUR)
  const dayAgo = new Date(now.getTime() - DAY)
  const [c] = await q<{ byInviter: number; bySession: number; inviterOldest: Date | null; sessionOldest: Date | null }[]>`
    select
      (select count(*)::int from invitation_sends where invited_by = ${inviter} and at > ${hourAgo}) as "byInviter",
      (select count(*)::int from invitation_sends where session_id = ${sessionId} and at > ${dayAgo}) as "bySession",
      (select min(at) from invitation_sends where invited_by = ${inviter} and at > ${hourAgo}) as "inviterOldest",
      (select min(at) from invitation_sends where session_id = ${sessionId} and at > ${dayAgo}) as "sessionOldest"`
  const byInviter = INVITE_LIMITS.perInviterPerHour - c!.byInviter
  const bySession = INVITE_LIMITS.perSessionPerDay - c!.bySession
  const allowed = Math.max(0, Math.min(wanted, byInviter, bySession))
  let retry = 0
  if (byInviter < wanted && c!.inviterOldest) retry = Math.max(retry, new Date(c!.inviterOldest).getTime() + HOUR - now.getTime())
  if (bySession < wanted && c!.sessionOldest) retry = Math.max(retry, new Date(c!.sessionOldest).getTime() + DAY - now.getTime())
  return { allowed, retryAfterSeconds: Math.max(1, Math.ceil(retry / 1000)) }
}

export async function recordSends(tx: Tx, sessionId: string, inviter: string, count: number, now: Date) {
  if (count <= 0) return
  const q = tx as unknown as Sql
  await q`insert into invitation_sends (session_id, invited_by, at) select ${sessionId}, ${inviter}, ${now} from generate_series(1, ${count})`
}

export interface NewInvitation {
  id: string
  sessionId: string
  email: string
  name: string | null
  role: Role
  tokenHash: string
  invitedBy: string
  inviterName: string
  expiresInHours: number
  now: Date
}

export async function insertInvitation(tx: Tx, i: NewInvitation): Promise<void> {
  const q = tx as unknown as Sql
  const expires = new Date(i.now.getTime() + i.expiresInHours * HOUR)
  await q`
    insert into invitations (id, session_id, email, name, role, token_hash, invited_by, inviter_name, expires_in_hours, created_at, expires_at, sent_at)
    values (${i.id}, ${i.sessionId}, ${i.email}, ${i.name}, ${i.role}, ${i.tokenHash}, ${i.invitedBy}, ${i.inviterName}, ${i.expiresInHours}, ${i.now}, ${expires}, ${i.now})`
}

/** A new link and expiry for an invitation; the old link stops working. */
export async function reissue(tx: Tx, id: string, tokenHash: string, expiresInHours: number, now: Date): Promise<void> {
  const q = tx as unknown as Sql
  await q`
    update invitations set token_hash = ${tokenHash}, status = 'pending', expires_in_hours = ${expiresInHours},
      expires_at = ${new Date(now.getTime() + expiresInHours * HOUR)}, sent_at = ${now}, responded_at = null
    where id = ${id}`
}

export async function setStatus(sql: Sql | Tx, id: string, status: 'accepted' | 'declined' | 'revoked', now: Date, acceptedUserId: string | null = null): Promise<void> {
  const q = sql as Sql
  await q`update invitations set status = ${status}, responded_at = ${now}, accepted_user_id = coalesce(${acceptedUserId}, accepted_user_id) where id = ${id}`
}
