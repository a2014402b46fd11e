import type { Sql, Tx } from './db.js'
import { loadActors, type ActorState } from './events.js'

export interface StoredDocument {
  base: Uint8Array
  chunks: { id: number; data: Uint8Array }[]
  /** Who each actor belongs to, and its sequence numbers as of the base. */
  actors: Map<string, ActorState>
}

/**
 * The compacted base, every chunk appended after it (in commit order) and the actors, read in one
 * snapshot: a compaction committed by another instance between two reads would otherwise give the
 * old base without the chunks it folded in (changes missing from the room), or sequence numbers
 * ahead of the chunks read (a resent change refused as out of sequence). `betweenReads` is for
 * tests: it runs after the base is read.
 */
export async function loadDocument(sql: Sql, sessionId: string, betweenReads?: () => Promise<void>): Promise<StoredDocument | undefined> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const [doc] = await tx<{ base: Buffer }[]>`select base from documents where session_id = ${sessionId}`
    if (!doc) return undefined
    await betweenReads?.()
    const chunks = await tx<{ id: number; data: Buffer }[]>`select id, data from doc_chunks where session_id = ${sessionId} order by id`
    return { base: doc.base, chunks, actors: await loadActors(tx, sessionId) }
  })
}

export interface AppendedChanges {
  sessionId: string
  /** Concatenated change chunks, in order. */
  data: Uint8Array
  hashes: string[]
  kind: 'code_change' | 'server_change'
  userId: string
  /** When the changes were made; null: now, on the database's clock (what every instance agrees on). */
  at: Date | null
  inserted: number[]
  deleted: number[]
  /** Actors seen for the first time, bound to their user here. */
  newActors: { actor: string; userId: string }[]
  /** When set, other instances are told (LISTEN/NOTIFY) as the statement commits. */
  notify?: { channel: string; instanceId: string }
}

/**
 * Append changes in one statement: the chunk, a `code_change` (or `server_change`) event per change
 * and any new actor bindings, atomically — and notify other instances when it commits. One round
 * trip per batch keeps the per-keystroke cost of the database low. Null, with nothing stored, when
 * one of its new actors was bound to another user meanwhile (by another instance): each actor
 * belongs to one user, whoever bound it first.
 */
export async function appendChanges(sql: Sql | Tx, a: AppendedChanges): Promise<number | null> {
  const q = sql as Sql
  const data = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)
  const actors = a.newActors.map((x) => x.actor)
  const actorUsers = a.newActors.map((x) => x.userId)
  // The binding goes first and returns whoever holds the actor now: a row another transaction
  // committed meanwhile is seen by `on conflict … do update` (a no-op update), where `do nothing`
  // would skip it unseen and store the chunk as if the actor were ours.
  const [row] = await q<{ id: number }[]>`
    with act as (
      insert into actors as held (session_id, actor, user_id, seq, max_op)
      select ${a.sessionId}, x, u, 0, 0 from unnest(${actors}::text[], ${actorUsers}::text[]) as t(x, u)
      on conflict (session_id, actor) do update set user_id = held.user_id
      returning actor, user_id
    ), ours as (
      select not exists (select 1 from act join unnest(${actors}::text[], ${actorUsers}::text[]) as t(x, u) on act.actor = t.x where act.user_id <> t.u) as ok
    ), chunk as (
      insert into doc_chunks (session_id, data, hashes) select ${a.sessionId}, ${data}, ${a.hashes} from ours where ok returning id
    ), ev as (
      insert into events (session_id, kind, user_id, at, inserted, deleted, ref)
      select ${a.sessionId}, ${a.kind}, ${a.userId}, coalesce(${a.at}::timestamptz, now()), i, d, r
      from unnest(${a.inserted}::int[], ${a.deleted}::int[], ${a.hashes}::text[]) as t(i, d, r)
      where exists (select 1 from chunk)
    )
    select id${a.notify ? q`, pg_notify(${a.notify.channel}, json_build_object('t', 'chunk', 'sid', ${a.sessionId}::text, 'id', id, 'o', ${a.notify.instanceId}::text, 'a', json_object(${actors}::text[], ${actorUsers}::text[]))::text)` : q``} from chunk`
  return row ? row.id : null
}

/**
 * Append several batches of changes — one chunk each, of any sessions — in one statement: their
 * chunks, a `code_change` (or `server_change`) event per change and new actor bindings, atomically,
 * notifying other instances as it commits. Returns the chunk ids in the order given. One statement
 * for many keystrokes keeps what the database spends per keystroke low when many rooms type.
 * An item whose new actor was bound to another user meanwhile is not stored (null), and neither is
 * anything of the same session after it in the batch (it may build on it).
 */
export async function appendBatch(sql: Sql, items: readonly AppendedChanges[], notify?: { channel: string; instanceId: string }): Promise<(number | null)[]> {
  if (!items.length) return []
  if (items.length === 1) return [await appendChanges(sql, { ...items[0]!, notify })]
  const q = sql
  const ev = { ord: [] as number[], sid: [] as string[], kind: [] as string[], user: [] as string[], at: [] as (string | null)[], ins: [] as number[], del: [] as number[], ref: [] as string[] }
  const act = { ord: [] as number[], sid: [] as string[], actor: [] as string[], user: [] as string[] }
  for (const [n, a] of items.entries()) {
    a.hashes.forEach((h, i) => {
      ev.ord.push(n + 1)
      ev.sid.push(a.sessionId)
      ev.kind.push(a.kind)
      ev.user.push(a.userId)
      ev.at.push(a.at?.toISOString() ?? null)
      ev.ins.push(a.inserted[i]!)
      ev.del.push(a.deleted[i]!)
      ev.ref.push(h)
    })
    for (const x of a.newActors) {
      act.ord.push(n + 1)
      act.sid.push(a.sessionId)
      act.actor.push(x.actor)
      act.user.push(x.userId)
    }
  }
  const sids = items.map((a) => a.sessionId)
  // As hex: an array of bytea does not travel as a parameter.
  const datas = items.map((a) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).toString('hex'))
  const hashes = items.map((a) => JSON.stringify(a.hashes))
  const actors = items.map((a) => JSON.stringify(Object.fromEntries(a.newActors.map((x) => [x.actor, x.userId]))))
  // Actors are bound first, each returning whoever holds it now (see appendChanges): an item that
  // lost one, and what follows it in its session, is left out. Chunk ids come from one sequence,
  // drawn in the order the rows are inserted (by ordinality): the n-th smallest id is the n-th kept item.
  const rows = await q<{ id: number; ord: number }[]>`
    with input as (
      select * from unnest(${sids}::text[], ${datas}::text[], ${hashes}::text[], ${actors}::text[]) with ordinality as t(sid, data, hashes, actors, ord)
    ), asked as (
      select * from unnest(${act.ord}::int[], ${act.sid}::text[], ${act.actor}::text[], ${act.user}::text[]) as t(o, s, x, u)
    ), act as (
      insert into actors as held (session_id, actor, user_id, seq, max_op)
      select distinct on (s, x) s, x, u, 0, 0 from asked order by s, x, o
      on conflict (session_id, actor) do update set user_id = held.user_id
      returning session_id, actor, user_id
    ), lost as (
      select a.s, min(a.o) as o from asked a join act on act.session_id = a.s and act.actor = a.x where act.user_id <> a.u group by a.s
    ), kept as (
      select i.*, row_number() over (order by i.ord) as n from input i
      where not exists (select 1 from lost l where l.s = i.sid and i.ord >= l.o)
    ), chunk as (
      insert into doc_chunks (session_id, data, hashes)
      select sid, decode(data, 'hex'), array(select json_array_elements_text(hashes::json)) from kept order by n
      returning id
    ), numbered as (
      select id, row_number() over (order by id) as n from chunk
    ), ev as (
      insert into events (session_id, kind, user_id, at, inserted, deleted, ref)
      select s, k, u, coalesce(a::timestamptz, now()), i, d, r
      from unnest(${ev.ord}::int[], ${ev.sid}::text[], ${ev.kind}::text[], ${ev.user}::text[], ${ev.at}::text[], ${ev.ins}::int[], ${ev.del}::int[], ${ev.ref}::text[]) as t(o, s, k, u, a, i, d, r)
      where o in (select ord from kept)
    )
    select n.id, i.ord${notify ? q`, pg_notify(${notify.channel}, json_build_object('t', 'chunk', 'sid', i.sid, 'id', n.id, 'o', ${notify.instanceId}::text, 'a', i.actors::json)::text)` : q``}
    from numbered n join kept i on i.n = n.n order by n.id`
  const ids = new Map(rows.map((r) => [Number(r.ord), Number(r.id)]))
  return items.map((_, i) => ids.get(i + 1) ?? null)
}

/**
 * Every stored chunk id of these sessions, in commit order, and the user each of their actors
 * belongs to: what an instance that missed notifications needs to catch up.
 */
export async function chunkIndex(sql: Sql, sessionIds: string[]): Promise<Map<string, { ids: number[]; actors: Record<string, string> }>> {
  const index = new Map(sessionIds.map((sid) => [sid, { ids: [] as number[], actors: {} as Record<string, string> }]))
  if (!sessionIds.length) return index
  const chunks = await sql<{ sessionId: string; id: number }[]>`select session_id as "sessionId", id from doc_chunks where session_id = any(${sessionIds}) order by id`
  const actors = await sql<{ sessionId: string; actor: string; userId: string }[]>`select session_id as "sessionId", actor, user_id as "userId" from actors where session_id = any(${sessionIds})`
  for (const c of chunks) index.get(c.sessionId)?.ids.push(c.id)
  for (const a of actors) index.get(a.sessionId)!.actors[a.actor] = a.userId
  return index
}

export async function getChunk(sql: Sql, id: number): Promise<{ sessionId: string; data: Uint8Array } | undefined> {
  const [row] = await sql<{ sessionId: string; data: Buffer }[]>`select session_id as "sessionId", data from doc_chunks where id = ${id}`
  return row
}

/**
 * Replace the base with a fresh `save()` and drop the chunks it contains. Chunks another instance
 * appended meanwhile (not in `chunkIds`) stay.
 */
export async function compactDocument(
  sql: Sql,
  sessionId: string,
  base: Uint8Array,
  heads: string[],
  chunkIds: number[],
  actors: Map<string, { seq: number; maxOp: number }>,
  files: Record<string, string>,
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`update documents set base = ${Buffer.from(base.buffer, base.byteOffset, base.byteLength)}, heads = ${heads}, files = ${tx.json(files)}, compacted_at = now() where session_id = ${sessionId}`
    if (chunkIds.length) await tx`delete from doc_chunks where session_id = ${sessionId} and id = any(${chunkIds})`
    // Actors' sequence numbers as of this base (changes in later chunks advance them on load).
    const names = [...actors.keys()]
    const seqs = names.map((n) => actors.get(n)!.seq)
    const ops = names.map((n) => actors.get(n)!.maxOp)
    await tx`
      update actors set seq = greatest(actors.seq, t.s), max_op = greatest(actors.max_op, t.m)
      from unnest(${names}::text[], ${seqs}::int[], ${ops}::bigint[]) as t(a, s, m)
      where actors.session_id = ${sessionId} and actors.actor = t.a`
  })
}

/**
 * The files' plain text as stored with the base, when nothing was appended after it (so it is the
 * whole document); undefined otherwise, and for a base stored without its text.
 */
export async function storedText(sql: Sql, sessionId: string): Promise<{ files: Record<string, string>; heads: string[] } | undefined> {
  const [row] = await sql<{ files: Record<string, string>; heads: string[] }[]>`
    select files, heads from documents d
    where session_id = ${sessionId} and files is not null
      and not exists (select 1 from doc_chunks c where c.session_id = d.session_id)`
  return row
}

export async function countChunks(sql: Sql, sessionId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from doc_chunks where session_id = ${sessionId}`
  return row!.n
}
