import type { Role } from '@session-kit/core'
import type { Sql } from './db.js'

export interface ChatRow {
  id: number
  userId: string
  name: string
  role: Role
  body: string
  createdAt: Date
}

const columns = (sql: Sql) => sql`id, user_id as "userId", name, role, body, created_at as "createdAt"`

/** Store a chat message and its `chat` event in one statement; `at` null: now, on the database's clock. */
export async function insertChat(sql: Sql, m: { sessionId: string; userId: string; name: string; role: Role; body: string; at: Date | null }): Promise<ChatRow> {
  const [row] = await sql<ChatRow[]>`
    with msg as (
      insert into chat_messages (session_id, user_id, name, role, body, created_at) values (${m.sessionId}, ${m.userId}, ${m.name}, ${m.role}, ${m.body}, coalesce(${m.at}::timestamptz, now()))
      returning ${columns(sql)}
    ), ev as (
      insert into events (session_id, kind, user_id, at, ref) select ${m.sessionId}, 'chat', ${m.userId}, m."createdAt", m.id::text from msg m
    )
    select * from msg`
  return row!
}

export async function getChat(sql: Sql, sessionId: string, id: number): Promise<(ChatRow & { deleted: boolean }) | undefined> {
  const [row] = await sql<(ChatRow & { deleted: boolean })[]>`select ${columns(sql)}, deleted_at is not null as deleted from chat_messages where session_id = ${sessionId} and id = ${id}`
  return row
}

/** A page of history, oldest first, ending before `before` (an id). Deleted messages are left out. */
export async function listChat(sql: Sql, sessionId: string, opts: { before?: number; limit: number }): Promise<ChatRow[]> {
  const rows = await sql<ChatRow[]>`
    select ${columns(sql)} from chat_messages
    where session_id = ${sessionId} and deleted_at is null ${opts.before ? sql`and id < ${opts.before}` : sql``}
    order by id desc limit ${opts.limit}`
  return rows.reverse()
}

export async function deleteChat(sql: Sql, sessionId: string, id: number, by: string): Promise<boolean> {
  const rows = await sql`update chat_messages set deleted_at = now(), deleted_by = ${by} where session_id = ${sessionId} and id = ${id} and deleted_at is null returning id`
  return rows.length > 0
}

/** The bodies of messages sent at or after `from` and not deleted. */
export async function chatBodiesSince(sql: Sql, sessionId: string, from: Date): Promise<{ id: number; body: string }[]> {
  return sql<{ id: number; body: string }[]>`select id, body from chat_messages where session_id = ${sessionId} and deleted_at is null and created_at >= ${from}`
}
