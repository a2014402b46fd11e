import type { Sql } from './db.js'

/** Instances that have not beaten for this long are considered gone (their connections too). */
export const INSTANCE_TIMEOUT_S = 45

export async function heartbeat(sql: Sql, instanceId: string): Promise<void> {
  await sql`insert into instances (id) values (${instanceId}) on conflict (id) do update set heartbeat_at = now()`
}

/** Forget instances that stopped beating, and their connections. */
export async function sweepInstances(sql: Sql): Promise<void> {
  await sql`delete from connections where instance_id not in (select id from instances where heartbeat_at > now() - make_interval(secs => ${INSTANCE_TIMEOUT_S}))`
  await sql`delete from instances where heartbeat_at <= now() - make_interval(secs => ${INSTANCE_TIMEOUT_S * 4})`
}

/** Forget every connection (a single instance starting: none of them is open any more). */
export async function clearConnections(sql: Sql): Promise<void> {
  await sql`delete from connections`
}

export async function addConnection(sql: Sql, c: { connId: string; sessionId: string; userId: string; instanceId: string }): Promise<void> {
  await sql`insert into connections (conn_id, session_id, user_id, instance_id) values (${c.connId}, ${c.sessionId}, ${c.userId}, ${c.instanceId}) on conflict (conn_id) do nothing`
}

export async function removeConnection(sql: Sql, connId: string): Promise<void> {
  await sql`delete from connections where conn_id = ${connId}`
}

export async function removeInstanceConnections(sql: Sql, instanceId: string): Promise<void> {
  await sql`delete from connections where instance_id = ${instanceId}`
  await sql`delete from instances where id = ${instanceId}`
}

/** Open connections to the session on live instances. */
export async function liveConnections(sql: Sql, sessionId: string): Promise<{ connId: string; userId: string }[]> {
  return sql<{ connId: string; userId: string }[]>`
    select c.conn_id as "connId", c.user_id as "userId" from connections c join instances i on i.id = c.instance_id
    where c.session_id = ${sessionId} and i.heartbeat_at > now() - make_interval(secs => ${INSTANCE_TIMEOUT_S})`
}

/** Users with an open connection to the session on a live instance. */
export async function onlineUsers(sql: Sql, sessionId: string): Promise<Set<string>> {
  return new Set((await liveConnections(sql, sessionId)).map((r) => r.userId))
}
