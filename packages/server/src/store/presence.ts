import type { Role } from '@session-kit/core'
import type { Sql, Tx } from './db.js'
import { emitEvent } from '../webhooks/events.js'

/** Instances that have not beaten for this long are considered gone (their connections too). */
export const INSTANCE_TIMEOUT_S = 45

export async function heartbeat(sql: Sql, instanceId: string): Promise<void> {
  await sql`insert into instances (id) values (${instanceId}) on conflict (id) do update set heartbeat_at = now()`
}

/*
 * A person's arrival and departure (the `participant.joined` and `participant.left` webhooks) are
 * their first connection to a room opening and their last closing, on any instance: another tab
 * of theirs is not news. Each is written with the connection's row, in its transaction, under a
 * lock on the person and room, so two tabs opening (or closing) at once are one arrival (or none).
 */

type Gone = { sessionId: string; userId: string }

/** Lock one person's connections to one room for the rest of the transaction. */
const lockPerson = (tx: Tx, sessionId: string, userId: string) => tx`select pg_advisory_xact_lock(hashtext(${sessionId}), hashtext(${userId}))`

/** Connections just removed: those people who have no other left in that room have left it. */
async function departures(tx: Tx, gone: Gone[]): Promise<void> {
  const people = new Map(gone.map((g) => [`${g.sessionId}\n${g.userId}`, g]))
  // Locked in one order, so two instances sweeping at once cannot wait on each other.
  for (const key of [...people.keys()].sort()) {
    const { sessionId, userId } = people.get(key)!
    await lockPerson(tx, sessionId, userId)
    const [still] = await tx`select 1 from connections where session_id = ${sessionId} and user_id = ${userId} limit 1`
    if (!still) await emitEvent(tx, { type: 'participant.left', data: { sessionId, userId } })
  }
}

/** Forget instances that stopped beating, and their connections. */
export async function sweepInstances(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    const gone = await tx<Gone[]>`
      delete from connections where instance_id not in (select id from instances where heartbeat_at > now() - make_interval(secs => ${INSTANCE_TIMEOUT_S}))
      returning session_id as "sessionId", user_id as "userId"`
    await departures(tx, gone)
  })
  await sql`delete from instances where heartbeat_at <= now() - make_interval(secs => ${INSTANCE_TIMEOUT_S * 4})`
}

/** Forget every connection (a single instance starting: none of them is open any more). */
export async function clearConnections(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => departures(tx, await tx<Gone[]>`delete from connections returning session_id as "sessionId", user_id as "userId"`))
}

export async function addConnection(sql: Sql, c: { connId: string; sessionId: string; userId: string; instanceId: string; name: string; role: Role }): Promise<void> {
  await sql.begin(async (tx) => {
    await lockPerson(tx, c.sessionId, c.userId)
    const [r] = await tx<{ added: boolean; others: boolean }[]>`
      with added as (
        insert into connections (conn_id, session_id, user_id, instance_id) values (${c.connId}, ${c.sessionId}, ${c.userId}, ${c.instanceId})
        on conflict (conn_id) do nothing returning 1
      )
      select exists (select 1 from added) as added,
        exists (select 1 from connections where session_id = ${c.sessionId} and user_id = ${c.userId} and conn_id <> ${c.connId}) as others`
    if (r!.added && !r!.others) await emitEvent(tx, { type: 'participant.joined', data: { sessionId: c.sessionId, userId: c.userId, name: c.name, role: c.role } })
  })
}

export async function removeConnection(sql: Sql, connId: string): Promise<void> {
  await sql.begin(async (tx) => departures(tx, await tx<Gone[]>`delete from connections where conn_id = ${connId} returning session_id as "sessionId", user_id as "userId"`))
}

export async function removeInstanceConnections(sql: Sql, instanceId: string): Promise<void> {
  await sql.begin(async (tx) => departures(tx, await tx<Gone[]>`delete from connections where instance_id = ${instanceId} returning session_id as "sessionId", user_id as "userId"`))
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
