import type { Sql } from './db.js'

/** A mail as the outbox (the delivery log) keeps it. */
export interface NewOutboxMail {
  sessionId?: string
  to: string
  subject: string
  text: string
  html: string
  link?: string
}

/** Log a mail before it is sent; its outbox id. */
export async function insertOutbox(sql: Sql, mail: NewOutboxMail): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
      insert into outbox (session_id, to_address, subject, text_body, html_body, link)
      values (${mail.sessionId ?? null}, ${mail.to}, ${mail.subject}, ${mail.text}, ${mail.html}, ${mail.link ?? null})
      returning id`
  return row!.id
}

export async function markOutboxSent(sql: Sql, id: number): Promise<void> {
  await sql`update outbox set sent_at = now() where id = ${id}`
}

export async function markOutboxFailed(sql: Sql, id: number, error: string): Promise<void> {
  await sql`update outbox set error = ${error} where id = ${id}`
}

/** The last mails of one session, newest first (their links let people in: show them only to that session's own page). */
export async function recentOutbox(sql: Sql, sessionId: string, limit = 10) {
  return sql<{ id: number; to: string; subject: string; link: string | null; createdAt: Date; sentAt: Date | null; error: string | null }[]>`
    select id, to_address as "to", subject, link, created_at as "createdAt", sent_at as "sentAt", error
    from outbox where session_id = ${sessionId} order by id desc limit ${limit}`
}
