import * as A from '@automerge/automerge'
import { DEFAULT_FILE, type DocShape, type Language, type RecordingPolicy, type SessionRetention } from '@session-kit/core'
import type { Sql, Tx } from './db.js'
import { emitEvent } from '../webhooks/events.js'

export interface SessionRow {
  id: string
  title: string
  language: Language
  ownerId: string
  editingLocked: boolean
  /** How its recordings treat the people in it (migration 015). */
  recordingPolicy: RecordingPolicy
  /** Instructors see pseudonyms instead of names in its analytics. */
  pseudonymize: boolean
  /** The owner's own retention periods in days (migration 016); `{}`: the deployment's. */
  retention: SessionRetention
  createdAt: Date
  updatedAt: Date
  endedAt: Date | null
}

/** The user id recorded for changes the server makes itself (document creation, restores). */
export const SERVER_USER = ''

const columns = (sql: Sql | Tx) => sql`id, title, language, owner_id as "ownerId", editing_locked as "editingLocked", recording_policy as "recordingPolicy", pseudonymize, retention, created_at as "createdAt", updated_at as "updatedAt", ended_at as "endedAt"`

export async function getSession(sql: Sql, id: string): Promise<SessionRow | undefined> {
  const [row] = await sql<SessionRow[]>`select ${columns(sql)} from sessions where id = ${id}`
  return row
}

export interface NewSession {
  id: string
  title: string
  language: Language
  ownerId: string
  /** Starter files; defaults to one empty file named after the language. */
  files?: Record<string, string>
  /** Defaults to `notice`. */
  recordingPolicy?: RecordingPolicy
  pseudonymize?: boolean
}

/**
 * Create a session and its document in one transaction. The server makes the document (never a
 * client), so there is exactly one root `files` map. Returns `created: false` when the id exists.
 */
export async function createSession(sql: Sql, s: NewSession): Promise<{ session: SessionRow; created: boolean }> {
  return sql.begin(async (tx) => {
    const row = await insertSession(tx, s)
    if (!row) {
      const [existing] = await tx<SessionRow[]>`select ${columns(sql)} from sessions where id = ${s.id}`
      return { session: existing!, created: false }
    }
    return { session: row, created: true }
  }) as Promise<{ session: SessionRow; created: boolean }>
}

/** Insert a session and its document within the caller's transaction; undefined when the id exists. */
export async function insertSession(tx: Tx, s: NewSession): Promise<SessionRow | undefined> {
  const files = s.files && Object.keys(s.files).length ? s.files : { [DEFAULT_FILE[s.language]]: '' }
  const doc = A.from<DocShape>({ files })
  const base = A.save(doc)
  const heads = A.getHeads(doc)
  const first = A.decodeChange(A.getAllChanges(doc)[0]!)
  const [row] = await tx<SessionRow[]>`
    insert into sessions (id, title, language, owner_id, recording_policy, pseudonymize)
    values (${s.id}, ${s.title}, ${s.language}, ${s.ownerId}, ${s.recordingPolicy ?? 'notice'}, ${s.pseudonymize ?? false})
    on conflict (id) do nothing
    returning ${columns(tx)}`
  if (!row) return undefined
  await tx`insert into documents (session_id, base, heads, files) values (${s.id}, ${Buffer.from(base)}, ${heads}, ${tx.json(files)})`
  await tx`delete from deleted_sessions where id = ${s.id}`
  await tx`insert into actors (session_id, actor, user_id, seq, max_op) values (${s.id}, ${first.actor}, ${SERVER_USER}, ${first.seq}, ${first.startOp + first.ops.length - 1})`
  // Every way a session comes to be (the API, an instructor's first hello, an LMS link, an assignment room) passes here.
  await emitEvent(tx, { type: 'session.created', data: { sessionId: row.id, title: row.title, language: row.language, ownerId: row.ownerId } })
  return row
}

/**
 * Change a session's settings. `retention` is merged into the session's periods: a kind set to null
 * goes back to the deployment's period.
 */
export async function updateSession(
  sql: Sql,
  id: string,
  patch: { title?: string; language?: Language; recordingPolicy?: RecordingPolicy; pseudonymize?: boolean; retention?: { [K in keyof SessionRetention]?: number | null } },
): Promise<SessionRow | undefined> {
  const [row] = await sql<SessionRow[]>`
    update sessions set
      title = coalesce(${patch.title ?? null}, title),
      language = coalesce(${patch.language ?? null}, language),
      recording_policy = coalesce(${patch.recordingPolicy ?? null}, recording_policy),
      pseudonymize = coalesce(${patch.pseudonymize ?? null}, pseudonymize),
      retention = jsonb_strip_nulls(retention || ${sql.json((patch.retention ?? {}) as never)}),
      updated_at = now()
    where id = ${id}
    returning ${columns(sql)}`
  return row
}

export async function setEditingLocked(sql: Sql, id: string, locked: boolean): Promise<SessionRow | undefined> {
  const [row] = await sql<SessionRow[]>`update sessions set editing_locked = ${locked}, updated_at = now() where id = ${id} returning ${columns(sql)}`
  return row
}

export async function listSessions(sql: Sql, opts: { limit: number; after?: string }): Promise<SessionRow[]> {
  return sql<SessionRow[]>`
    select ${columns(sql)} from sessions
    where ${opts.after ? sql`id > ${opts.after}` : sql`true`}
    order by id limit ${opts.limit}`
}

/** Delete a session and everything in it; its id is remembered (see `sessionRefusal`). */
export async function deleteSession(sql: Sql, id: string): Promise<boolean> {
  return sql.begin(async (tx) => (await deleteSessions(tx, [id])).length > 0) as Promise<boolean>
}

/**
 * Delete sessions and everything of theirs, in the caller's transaction. Their rows go by cascade
 * (the document, participants, chat, events, recordings with their replays, invitations and their
 * mail in the outbox, runs…); the references that are not foreign keys are cleared here: an LMS
 * link's room (the next launch of the link makes it anew) and a lecture's spotlight on one of them.
 * Their ids are remembered (see `sessionRefusal`). Returns the ids that existed.
 */
export async function deleteSessions(tx: Tx, ids: string[]): Promise<string[]> {
  if (!ids.length) return []
  const removed = (await tx<{ id: string }[]>`delete from sessions where id = any(${ids}) returning id`).map((r) => r.id)
  if (!removed.length) return []
  await tx`insert into deleted_sessions (id) select unnest(${removed}::text[]) on conflict (id) do update set deleted_at = now()`
  await tx`delete from lti_links where session_id = any(${removed})`
  await tx`
    update lectures set spotlight_user_id = null, spotlight_name = null, spotlight_by = null, spotlight_at = null, spotlight_session_id = null
    where spotlight_session_id = any(${removed})`
  for (const sessionId of removed) await emitEvent(tx, { type: 'session.deleted', data: { sessionId } })
  return removed
}

/** When a session with this id was last deleted, if ever. */
export async function deletedAt(sql: Sql, id: string): Promise<Date | null> {
  const [row] = await sql<{ deletedAt: Date }[]>`select deleted_at as "deletedAt" from deleted_sessions where id = ${id}`
  return row?.deletedAt ?? null
}
