import type { Sql } from '../store/db.js'

/*
 * Counting rows in every table of the schema, for tests of erasure and deletion: the tables are
 * read from information_schema, so a table a later migration adds is counted without anyone
 * remembering to add it here.
 */

/** Every table of the schema the server uses. */
export async function allTables(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`
  return rows.map((r) => r.name)
}

/** Rows per table. */
export async function rowCounts(sql: Sql): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const t of await allTables(sql)) out[t] = (await sql<{ n: number }[]>`select count(*)::int as n from ${sql(t)}`)[0]!.n
  return out
}

/** Rows per table whose text (every column, as PostgreSQL writes the row) holds any of `needles`; tables without any are left out. */
export async function mentions(sql: Sql, needles: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const t of await allTables(sql)) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(t)} r where exists (select 1 from unnest(${needles}::text[]) x where strpos(r::text, x) > 0)`
    if (row!.n) out[t] = row!.n
  }
  return out
}

/** Each row of a table as text (to compare a table's other rows before and after). */
export async function rowTexts(sql: Sql, table: string): Promise<string[]> {
  const rows = await sql<{ t: string }[]>`select r::text as t from ${sql(table)} r`
  return rows.map((r) => r.t).sort()
}
