import type { Sql, Tx } from './db.js'
import { FORMER_PARTICIPANT_NAME, type Forgetting } from '../erasure/former.js'

/*
 * Erasure of one person, table by table, in the caller's transaction (see erasure/erase.ts).
 * What is theirs alone goes; what others share stays with the person replaced by a former
 * participant: the code they typed (the document's actors, the edit events that carry its
 * history), snapshots and recordings they made, invitations they sent, their part in others'
 * records (who deleted a message, who banned whom). Sessions and assignments they own stay,
 * unowned.
 *
 * A full scan of a few tables (events, chat) per erasure is accepted: erasure is rare, and an index
 * on a user id of the busiest table would cost every keystroke.
 */

export type Counts = Record<string, number>

const add = (counts: Counts, table: string, n: number) => {
  if (n) counts[table] = (counts[table] ?? 0) + n
}

/** What the server knows of them before anything goes: their sessions, names and addresses. */
export async function whoIs(sql: Sql | Tx, userId: string, givenEmails: string[]): Promise<{ sessionIds: string[]; names: string[]; emails: string[]; assignmentRooms: string[] }> {
  const q = sql as Sql
  const [row] = await q<{ sessionIds: string[] | null; names: string[] | null; emails: string[] | null; rooms: string[] | null }[]>`
    select
      (select array_agg(distinct s) from (
        select session_id as s from participants where user_id = ${userId}
        union select session_id from chat_messages where user_id = ${userId}
        union select session_id from connections where user_id = ${userId}
        union select session_id from raised_hands where user_id = ${userId}
        union select session_id from bans where user_id = ${userId}
        union select session_id from verified_runs where user_id = ${userId}
        union select session_id from snapshots where created_by = ${userId}
        union select session_id from recordings where created_by = ${userId}
        union select session_id from invitations where invited_by = ${userId} or accepted_user_id = ${userId}
        union select session_id from recording_consents where user_id = ${userId}
        union select id from sessions where owner_id = ${userId}
      ) x) as "sessionIds",
      (select array_agg(distinct n) from (
        select name as n from participants where user_id = ${userId}
        union select name from chat_messages where user_id = ${userId}
        union select name from raised_hands where user_id = ${userId}
        union select name from verified_runs where user_id = ${userId}
        union select name from assignment_rooms where user_id = ${userId}
        union select name from lti_members where user_id = ${userId}
        union select creator_name from snapshots where created_by = ${userId}
        union select creator_name from recordings where created_by = ${userId}
        union select inviter_name from invitations where invited_by = ${userId}
      ) x where n <> '') as names,
      (select array_agg(distinct lower(e)) from (
        select email as e from participants where user_id = ${userId}
        union select email from lti_members where user_id = ${userId}
        union select email from bans where user_id = ${userId}
        union select email from invitations where accepted_user_id = ${userId}
        union select unnest(${givenEmails}::text[])
      ) x where e is not null and e <> '') as emails,
      (select array_agg(session_id) from assignment_rooms where user_id = ${userId}) as rooms`
  return { sessionIds: row!.sessionIds ?? [], names: row!.names ?? [], emails: row!.emails ?? [], assignmentRooms: row!.rooms ?? [] }
}

/** Delete what is theirs alone. */
export async function deleteTheirs(tx: Tx, f: Forgetting, deleted: Counts): Promise<void> {
  const { userId, emails } = f
  add(deleted, 'participants', (await tx`delete from participants where user_id = ${userId}`).count)
  add(deleted, 'chat_messages', (await tx`delete from chat_messages where user_id = ${userId}`).count)
  // Their edits stay as the document's history (anonymised below); everything else they did goes.
  add(deleted, 'events', (await tx`delete from events where user_id = ${userId} and kind not in ('code_change', 'server_change')`).count)
  add(deleted, 'activity_minutes', (await tx`delete from activity_minutes where user_id = ${userId}`).count)
  add(deleted, 'connections', (await tx`delete from connections where user_id = ${userId}`).count)
  add(deleted, 'raised_hands', (await tx`delete from raised_hands where user_id = ${userId}`).count)
  add(deleted, 'bans', (await tx`delete from bans where user_id = ${userId} or lower(email) = any(${emails})`).count)
  add(deleted, 'recording_consents', (await tx`delete from recording_consents where user_id = ${userId}`).count)
  add(deleted, 'recording_notices', (await tx`delete from recording_notices where user_id = ${userId}`).count)
  // Invitations to them (by address, or the one they accepted) and the mail that carried them.
  add(deleted, 'invitations', (await tx`delete from invitations where lower(email) = any(${emails}) or accepted_user_id = ${userId}`).count)
  add(deleted, 'outbox', (await tx`delete from outbox where lower(to_address) = any(${emails})`).count)
  add(deleted, 'lti_members', (await tx`delete from lti_members where user_id = ${userId}`).count)
  add(deleted, 'lti_grades', (await tx`delete from lti_grades where user_id = ${userId}`).count)
  add(deleted, 'lti_logins', (await tx`delete from lti_logins where launch ->> 'userId' = ${userId}`).count)
}

/** Keep what others share, naming the former participant instead. */
export async function anonymiseShared(tx: Tx, f: Forgetting, sessionIds: string[], anonymised: Counts): Promise<void> {
  const { userId, placeholder: p } = f
  const names = [...f.names]
  const former = FORMER_PARTICIPANT_NAME
  // The code they typed: the document's actors, and the edit events a replay is built from.
  add(anonymised, 'actors', (await tx`update actors set user_id = ${p} where user_id = ${userId}`).count)
  add(anonymised, 'events', (await tx`update events set user_id = ${p} where user_id = ${userId}`).count)
  // What they owned becomes unowned (''), as a session an assistant opened from an LMS is: the next
  // instructor who may own it takes it over, where a placeholder would leave it nobody's for good.
  add(anonymised, 'sessions', (await tx`update sessions set owner_id = '' where owner_id = ${userId}`).count)
  add(anonymised, 'assignments', (await tx`update assignments set owner_id = '' where owner_id = ${userId}`).count)
  add(anonymised, 'snapshots', (await tx`update snapshots set created_by = ${p}, creator_name = ${former} where created_by = ${userId}`).count)
  add(anonymised, 'recordings', (await tx`update recordings set created_by = ${p}, creator_name = ${former} where created_by = ${userId}`).count)
  add(anonymised, 'hidden_files', (await tx`update hidden_files set updated_by = ${p} where updated_by = ${userId}`).count)
  add(anonymised, 'verified_runs', (await tx`update verified_runs set user_id = ${p}, name = ${former} where user_id = ${userId}`).count)
  add(anonymised, 'chat_messages', (await tx`update chat_messages set deleted_by = ${p} where deleted_by = ${userId}`).count)
  add(anonymised, 'bans', (await tx`update bans set banned_by = ${p} where banned_by = ${userId}`).count)
  add(anonymised, 'invitation_sends', (await tx`update invitation_sends set invited_by = ${p} where invited_by = ${userId}`).count)

  // Invitations they sent stay (the invitee's), and so does the mail: their name in it goes.
  const sent = await tx<{ sessionId: string; email: string; inviterName: string }[]>`
    update invitations i set invited_by = ${p}, inviter_name = ${former}
    from (select id, inviter_name from invitations where invited_by = ${userId} for update) old
    where i.id = old.id
    returning i.session_id as "sessionId", i.email, old.inviter_name as "inviterName"`
  add(anonymised, 'invitations', sent.length)
  const mails = new Set<number>()
  for (const s of sent) {
    const rows = await tx<{ id: number }[]>`
      update outbox set
        subject = replace(subject, ${s.inviterName}, ${former}),
        text_body = replace(text_body, ${s.inviterName}, ${former}),
        html_body = replace(html_body, ${escapeHtml(s.inviterName)}, ${former})
      where session_id = ${s.sessionId} and lower(to_address) = lower(${s.email}) and strpos(subject || text_body, ${s.inviterName}) > 0
      returning id`
    for (const r of rows) mails.add(r.id)
  }
  add(anonymised, 'outbox', mails.size)

  // Lecture mode: whom the room follows or spotlights, and who started a spotlight.
  add(anonymised, 'lectures', (await tx`
    update lectures set
      follow_user_id = case when follow_user_id = ${userId} then null else follow_user_id end,
      follow_name = case when follow_user_id = ${userId} then null else follow_name end,
      follow_since = case when follow_user_id = ${userId} then null else follow_since end,
      spotlight_user_id = case when spotlight_user_id = ${userId} then null else spotlight_user_id end,
      spotlight_name = case when spotlight_user_id = ${userId} then null else spotlight_name end,
      spotlight_session_id = case when spotlight_user_id = ${userId} then null else spotlight_session_id end,
      spotlight_at = case when spotlight_user_id = ${userId} then null else spotlight_at end,
      spotlight_by = case when spotlight_user_id = ${userId} then null when spotlight_by = any(${names}) then ${former} else spotlight_by end
    where follow_user_id = ${userId} or spotlight_user_id = ${userId} or (session_id = any(${sessionIds}) and spotlight_by = any(${names}))`).count)

  // JSON that names them (a lecture event's `{userId, name, by}`, who consented to a recording, a
  // webhook's payload): their id and their names, as whole JSON strings, become the placeholder's.
  add(anonymised, 'events', await replaceInJson(tx, 'events', f, sessionIds))
  add(anonymised, 'recordings', await replaceInJson(tx, 'recordings', f, sessionIds))
  const titled = await forgetInTitles(tx, f, sessionIds)
  add(anonymised, 'webhook_deliveries', await replaceInJson(tx, 'webhook_deliveries', f, sessionIds, titled))
}

/**
 * Replace the person's id and names where a JSON column holds them as whole strings: the text of
 * the JSON, with `"<id>"` and `"<name>"` replaced, parsed again. Names only in rows of their
 * sessions (or rows that also hold their id): a name is not unique across a whole server. The
 * number of rows changed.
 */
async function replaceInJson(tx: Tx, table: 'events' | 'recordings' | 'webhook_deliveries', f: Forgetting, sessionIds: string[], alsoChanged: string[] = []): Promise<number> {
  const id = JSON.stringify(f.userId)
  const needles = [id, ...[...f.names].map((n) => JSON.stringify(n))]
  const hit = (column: ReturnType<Tx>) => tx`exists (select 1 from unnest(${needles}::text[]) x where strpos(${column}::text, x) > 0)`
  const rows =
    table === 'events'
      ? await tx<{ id: string }[]>`select id::text from events where session_id = any(${sessionIds}) and data is not null and ${hit(tx`data`)}`
      : table === 'recordings'
        ? await tx<{ id: string }[]>`select id from recordings where session_id = any(${sessionIds}) and consented is not null and ${hit(tx`consented`)}`
        : await tx<{ id: string }[]>`
            select id from webhook_deliveries
            where (payload -> 'data' ->> 'sessionId' = any(${sessionIds}) or strpos(payload::text, ${id}) > 0) and ${hit(tx`payload`)}`
  const ids = rows.map((r) => r.id)
  if (!ids.length) return new Set(alsoChanged).size
  const swaps: [string, string][] = [[f.userId, f.placeholder], ...[...f.names].map((n): [string, string] => [n, FORMER_PARTICIPANT_NAME])]
  for (const [from, to] of swaps) {
    const [a, b] = [JSON.stringify(from), JSON.stringify(to)]
    if (table === 'events') await tx`update events set data = replace(data::text, ${a}, ${b})::jsonb where id = any(${ids}::bigint[])`
    else if (table === 'recordings') await tx`update recordings set consented = replace(consented::text, ${a}, ${b})::jsonb where id = any(${ids})`
    else await tx`update webhook_deliveries set payload = replace(payload::text, ${a}, ${b})::jsonb where id = any(${ids})`
  }
  return new Set([...ids, ...alsoChanged]).size
}

/**
 * A webhook payload's `title` names its session, and an assignment room's title names its learner
 * ("Sums — Grace"): in their sessions' payloads, their name inside a title goes too.
 */
async function forgetInTitles(tx: Tx, f: Forgetting, sessionIds: string[]): Promise<string[]> {
  const changed: string[] = []
  for (const name of f.names) {
    const rows = await tx<{ id: string }[]>`
      update webhook_deliveries set payload = jsonb_set(payload, '{data,title}', to_jsonb(replace(payload #>> '{data,title}', ${name}, ${FORMER_PARTICIPANT_NAME})))
      where payload -> 'data' ->> 'sessionId' = any(${sessionIds}) and strpos(payload #>> '{data,title}', ${name}) > 0
      returning id`
    changed.push(...rows.map((r) => r.id))
  }
  return changed
}

/** The name as the invitation mail's HTML carries it (see mail/invitation.ts). */
function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** Remember the erasure (a hash of the id; see `erased_users`), at the database's time, which tokens' `iat` is held to. */
export async function rememberErased(sql: Sql, userKey: string): Promise<Date> {
  const [row] = await sql<{ at: Date }[]>`
    insert into erased_users (user_key, erased_at) values (${userKey}, now())
    on conflict (user_key) do update set erased_at = excluded.erased_at
    returning erased_at as at`
  return row!.at
}

/** The tables of this schema holding a column of this name (a table added later is included by itself). */
export async function tablesWith(sql: Sql | Tx, column: string): Promise<string[]> {
  const rows = await (sql as Sql)<{ table: string }[]>`
    select c.table_name as table from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema = current_schema() and c.column_name = ${column}
    order by 1`
  return rows.map((r) => r.table)
}

/**
 * Rows per table belonging to these sessions, counted before they are deleted to say what went:
 * every table with a session_id (the audit log aside: its entries outlive what they are about),
 * and the rows that go with those rows (replays with their recordings, offered updates with an
 * assignment room).
 */
export async function rowsOfSessions(tx: Tx, sessionIds: string[]): Promise<Counts> {
  const counts: Counts = {}
  if (!sessionIds.length) return counts
  for (const table of await tablesWith(tx, 'session_id')) {
    if (table === 'audit_log') continue
    const [row] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx(table)} where session_id = any(${sessionIds})`
    add(counts, table, row!.n)
  }
  add(counts, 'sessions', (await tx`select 1 from sessions where id = any(${sessionIds})`).length)
  add(counts, 'recording_replays', (await tx`select 1 from recording_replays p join recordings r on r.id = p.recording_id where r.session_id = any(${sessionIds})`).length)
  add(counts, 'assignment_updates', (await tx`select 1 from assignment_updates u join assignment_rooms r using (assignment_id, user_id) where r.session_id = any(${sessionIds})`).length)
  return counts
}
