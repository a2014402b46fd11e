import { createHash } from 'node:crypto'
import type { Role, TokenClaims } from '@session-kit/core'
import type { Sql } from './db.js'

export interface ParticipantRow {
  sessionId: string
  userId: string
  name: string
  email: string | null
  avatar: string | null
  tokenRole: Role
  roleOverride: Role | null
  muted: boolean
  hidden: boolean
  joinSeq: number | null
  firstJoinedAt: Date | null
  lastSeenAt: Date | null
}

const columns = (sql: Sql) => sql`session_id as "sessionId", user_id as "userId", name, email, avatar, token_role as "tokenRole", role_override as "roleOverride", muted, hidden, join_seq as "joinSeq", first_joined_at as "firstJoinedAt", last_seen_at as "lastSeenAt"`

export async function getParticipant(sql: Sql, sessionId: string, userId: string): Promise<ParticipantRow | undefined> {
  const [row] = await sql<ParticipantRow[]>`select ${columns(sql)} from participants where session_id = ${sessionId} and user_id = ${userId}`
  return row
}

export async function listParticipants(sql: Sql, sessionId: string): Promise<ParticipantRow[]> {
  return sql<ParticipantRow[]>`select ${columns(sql)} from participants where session_id = ${sessionId} order by join_seq nulls last, user_id`
}

/** The names of these participants (those the session knows). */
export async function participantNames(sql: Sql, sessionId: string, userIds: string[]): Promise<{ userId: string; name: string }[]> {
  return sql<{ userId: string; name: string }[]>`select user_id as "userId", name from participants where session_id = ${sessionId} and user_id = any(${userIds})`
}

/**
 * Record someone joining: name, email and avatar come from the newest token; overrides, mute and
 * hidden stay as instructors set them. The first join numbers the participant (pseudonyms).
 */
export async function recordJoin(sql: Sql, sessionId: string, claims: TokenClaims): Promise<ParticipantRow> {
  return sql.begin(async (tx) => {
    const [existing] = await tx<{ joinSeq: number | null }[]>`select join_seq as "joinSeq" from participants where session_id = ${sessionId} and user_id = ${claims.sub} for update`
    let seq = existing?.joinSeq ?? null
    if (seq === null) {
      const [s] = await tx<{ seq: number }[]>`update sessions set participant_seq = participant_seq + 1 where id = ${sessionId} returning participant_seq as seq`
      seq = s!.seq
    }
    const [row] = await tx<ParticipantRow[]>`
      insert into participants (session_id, user_id, name, email, avatar, token_role, join_seq, first_joined_at, last_seen_at, test_user)
      values (${sessionId}, ${claims.sub}, ${claims.name}, ${claims.email ?? null}, ${claims.avatar ?? null}, ${claims.role}, ${seq}, now(), now(), ${claims.test === true})
      on conflict (session_id, user_id) do update set
        name = excluded.name,
        email = coalesce(excluded.email, participants.email),
        avatar = coalesce(excluded.avatar, participants.avatar),
        token_role = excluded.token_role,
        test_user = excluded.test_user,
        join_seq = coalesce(participants.join_seq, excluded.join_seq),
        first_joined_at = coalesce(participants.first_joined_at, excluded.first_joined_at),
        last_seen_at = now(),
        updated_at = now()
      returning ${columns(sql)}`
    return row!
  }) as Promise<ParticipantRow>
}

export async function touchParticipant(sql: Sql, sessionId: string, userId: string): Promise<void> {
  await sql`update participants set last_seen_at = now() where session_id = ${sessionId} and user_id = ${userId}`
}

/** Instructor-made changes to a participant. Only the given fields change. */
export async function updateParticipant(
  sql: Sql,
  sessionId: string,
  userId: string,
  patch: { muted?: boolean; hidden?: boolean; roleOverride?: Role | null },
): Promise<ParticipantRow | undefined> {
  const [row] = await sql<ParticipantRow[]>`
    update participants set
      muted = coalesce(${patch.muted ?? null}, muted),
      hidden = coalesce(${patch.hidden ?? null}, hidden),
      role_override = ${patch.roleOverride === undefined ? sql`role_override` : patch.roleOverride},
      updated_at = now()
    where session_id = ${sessionId} and user_id = ${userId}
    returning ${columns(sql)}`
  return row
}

/** Whether a user (by id, or by email where known) is banned from a session. */
export async function isBanned(sql: Sql, sessionId: string, userId: string, email?: string | null): Promise<boolean> {
  const rows = await sql`
    select 1 from bans where session_id = ${sessionId}
      and (user_id = ${userId} or (${email ?? null}::text is not null and lower(email) = lower(${email ?? null}::text)))
    limit 1`
  return rows.length > 0
}

/**
 * What a hello must know before it lets someone in: a ban (by user id, or by email where known),
 * a cool-down after repeated refused writes, and when they were erased (if they were, lately).
 */
export async function admission(sql: Sql, sessionId: string, userId: string, email?: string | null): Promise<{ banned: boolean; writesBlockedUntil: Date | null; erasedAt: Date | null }> {
  const [row] = await sql<{ banned: boolean; writesBlockedUntil: Date | null; erasedAt: Date | null }[]>`
    select
      exists(select 1 from bans where session_id = ${sessionId}
        and (user_id = ${userId} or (${email ?? null}::text is not null and lower(email) = lower(${email ?? null}::text)))) as banned,
      (select writes_blocked_until from participants where session_id = ${sessionId} and user_id = ${userId}) as "writesBlockedUntil",
      (select erased_at from erased_users where user_key = ${erasedUserKey(userId)}) as "erasedAt"`
  return row!
}

/** How `erased_users` names an erased person: a hash of their user id, never the id itself. */
export const erasedUserKey = (userId: string) => createHash('sha256').update(userId).digest('hex')

/** Keep someone out of a room until `until` (after repeated refused writes). */
export async function blockWrites(sql: Sql, sessionId: string, userId: string, until: Date): Promise<void> {
  await sql`update participants set writes_blocked_until = ${until} where session_id = ${sessionId} and user_id = ${userId}`
}

/**
 * Which of these addresses are banned from a session: by the address, or by the user id it maps
 * to (`userIdOf`, a guest's id). Lower-cased.
 */
export async function bannedAddresses(sql: Sql, sessionId: string, emails: string[], userIdOf: (email: string) => string): Promise<Set<string>> {
  if (!emails.length) return new Set()
  const lower = emails.map((e) => e.toLowerCase())
  const ids = lower.map(userIdOf)
  const rows = await sql<{ email: string | null; userId: string }[]>`
    select lower(email) as email, user_id as "userId" from bans
    where session_id = ${sessionId} and (lower(email) = any(${lower}) or user_id = any(${ids}))`
  const out = new Set<string>()
  for (const r of rows) {
    if (r.email && lower.includes(r.email)) out.add(r.email)
    const i = ids.indexOf(r.userId)
    if (i >= 0) out.add(lower[i]!)
  }
  return out
}

export async function ban(sql: Sql, sessionId: string, userId: string, email: string | null, bannedBy: string): Promise<void> {
  await sql`
    insert into bans (session_id, user_id, email, banned_by) values (${sessionId}, ${userId}, ${email}, ${bannedBy})
    on conflict (session_id, user_id) do update set email = coalesce(excluded.email, bans.email), banned_by = excluded.banned_by, created_at = now()`
}

/** The ids of everyone banned from a session. */
export async function bannedUserIds(sql: Sql, sessionId: string): Promise<{ userId: string }[]> {
  return sql<{ userId: string }[]>`select user_id as "userId" from bans where session_id = ${sessionId}`
}

/**
 * Mute or unmute everyone but instructors (by effective role) and the owner; the ids of those
 * whose state changed.
 */
export async function setMutedForAll(sql: Sql, sessionId: string, ownerId: string, muted: boolean): Promise<{ userId: string }[]> {
  return sql<{ userId: string }[]>`
        update participants set muted = ${muted}, updated_at = now()
        where session_id = ${sessionId} and muted <> ${muted} and user_id <> ${ownerId}
          and coalesce(role_override, token_role) <> 'instructor'
        returning user_id as "userId"`
}

export async function unban(sql: Sql, sessionId: string, userId: string): Promise<boolean> {
  const rows = await sql`delete from bans where session_id = ${sessionId} and user_id = ${userId} returning user_id`
  return rows.length > 0
}
