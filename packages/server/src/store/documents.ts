import type { Sql, Tx } from './db.js'

export interface StoredDocument {
  base: Uint8Array
  chunks: { id: number; data: Uint8Array }[]
}

/** The compacted base and every chunk appended after it, in commit order. */
export async function loadDocument(sql: Sql, sessionId: string): Promise<StoredDocument | undefined> {
  const [doc] = await sql<{ base: Buffer }[]>`select base from documents where session_id = ${sessionId}`
  if (!doc) return undefined
  const chunks = await sql<{ id: number; data: Buffer }[]>`select id, data from doc_chunks where session_id = ${sessionId} order by id`
  return { base: doc.base, chunks }
}

export interface AppendedChanges {
  sessionId: string
  /** Concatenated change chunks, in order. */
  data: Uint8Array
  hashes: string[]
  kind: 'code_change' | 'server_change'
  userId: string
  at: Date
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
 * trip per batch keeps the per-keystroke cost of the database low.
 */
export async function appendChanges(sql: Sql | Tx, a: AppendedChanges): Promise<number> {
  const q = sql as Sql
  const data = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)
  const actors = a.newActors.map((x) => x.actor)
  const actorUsers = a.newActors.map((x) => x.userId)
  const [row] = await q<{ id: number }[]>`
    with chunk as (
      insert into doc_chunks (session_id, data, hashes) values (${a.sessionId}, ${data}, ${a.hashes}) returning id
    ), ev as (
      insert into events (session_id, kind, user_id, at, inserted, deleted, ref)
      select ${a.sessionId}, ${a.kind}, ${a.userId}, ${a.at}, i, d, r
      from unnest(${a.inserted}::int[], ${a.deleted}::int[], ${a.hashes}::text[]) as t(i, d, r)
    ), act as (
      insert into actors (session_id, actor, user_id, seq, max_op)
      select ${a.sessionId}, x, u, 0, 0 from unnest(${actors}::text[], ${actorUsers}::text[]) as t(x, u)
      on conflict do nothing
    )
    select id${a.notify ? q`, pg_notify(${a.notify.channel}, json_build_object('t', 'chunk', 'sid', ${a.sessionId}::text, 'id', id, 'o', ${a.notify.instanceId}::text, 'a', json_object(${actors}::text[], ${actorUsers}::text[]))::text)` : q``} from chunk`
  return row!.id
}

/**
 * Append several batches of changes — one chunk each, of any sessions — in one statement: their
 * chunks, a `code_change` (or `server_change`) event per change and new actor bindings, atomically,
 * notifying other instances as it commits. Returns the chunk ids in the order given. One statement
 * for many keystrokes keeps what the database spends per keystroke low when many rooms type.
 */
export async function appendBatch(sql: Sql, items: readonly AppendedChanges[], notify?: { channel: string; instanceId: string }): Promise<number[]> {
  if (!items.length) return []
  if (items.length === 1) return [await appendChanges(sql, { ...items[0]!, notify })]
  const q = sql
  const ev = { sid: [] as string[], kind: [] as string[], user: [] as string[], at: [] as string[], ins: [] as number[], del: [] as number[], ref: [] as string[] }
  const act = { sid: [] as string[], actor: [] as string[], user: [] as string[] }
  for (const a of items) {
    a.hashes.forEach((h, i) => {
      ev.sid.push(a.sessionId)
      ev.kind.push(a.kind)
      ev.user.push(a.userId)
      ev.at.push(a.at.toISOString())
      ev.ins.push(a.inserted[i]!)
      ev.del.push(a.deleted[i]!)
      ev.ref.push(h)
    })
    for (const x of a.newActors) {
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
  // Chunk ids come from one sequence, drawn in the order the rows are inserted (by ordinality):
  // the n-th smallest id is the n-th item.
  const rows = await q<{ id: number }[]>`
    with input as (
      select * from unnest(${sids}::text[], ${datas}::text[], ${hashes}::text[], ${actors}::text[]) with ordinality as t(sid, data, hashes, actors, ord)
    ), chunk as (
      insert into doc_chunks (session_id, data, hashes)
      select sid, decode(data, 'hex'), array(select json_array_elements_text(hashes::json)) from input order by ord
      returning id
    ), numbered as (
      select id, row_number() over (order by id) as ord from chunk
    ), ev as (
      insert into events (session_id, kind, user_id, at, inserted, deleted, ref)
      select s, k, u, a::timestamptz, i, d, r
      from unnest(${ev.sid}::text[], ${ev.kind}::text[], ${ev.user}::text[], ${ev.at}::text[], ${ev.ins}::int[], ${ev.del}::int[], ${ev.ref}::text[]) as t(s, k, u, a, i, d, r)
    ), act as (
      insert into actors (session_id, actor, user_id, seq, max_op)
      select s, x, u, 0, 0 from unnest(${act.sid}::text[], ${act.actor}::text[], ${act.user}::text[]) as t(s, x, u)
      on conflict do nothing
    )
    select n.id${notify ? q`, pg_notify(${notify.channel}, json_build_object('t', 'chunk', 'sid', i.sid, 'id', n.id, 'o', ${notify.instanceId}::text, 'a', i.actors::json)::text)` : q``}
    from numbered n join input i on i.ord = n.ord order by n.id`
  return rows.map((r) => Number(r.id))
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
