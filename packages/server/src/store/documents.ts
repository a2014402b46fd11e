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

export async function insertChunk(tx: Tx, sessionId: string, data: Uint8Array, hashes: string[]): Promise<number> {
  const [row] = await tx<{ id: number }[]>`insert into doc_chunks (session_id, data, hashes) values (${sessionId}, ${Buffer.from(data.buffer, data.byteOffset, data.byteLength)}, ${hashes}) returning id`
  return row!.id
}

export async function getChunk(sql: Sql, id: number): Promise<{ sessionId: string; data: Uint8Array } | undefined> {
  const [row] = await sql<{ sessionId: string; data: Buffer }[]>`select session_id as "sessionId", data from doc_chunks where id = ${id}`
  return row
}

/**
 * Replace the base with a fresh `save()` and drop the chunks it contains. Chunks another instance
 * appended meanwhile (not in `chunkIds`) stay.
 */
export async function compactDocument(sql: Sql, sessionId: string, base: Uint8Array, heads: string[], chunkIds: number[]): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`update documents set base = ${Buffer.from(base.buffer, base.byteOffset, base.byteLength)}, heads = ${heads}, compacted_at = now() where session_id = ${sessionId}`
    if (chunkIds.length) await tx`delete from doc_chunks where session_id = ${sessionId} and id = any(${chunkIds})`
  })
}

export async function countChunks(sql: Sql, sessionId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from doc_chunks where session_id = ${sessionId}`
  return row!.n
}
