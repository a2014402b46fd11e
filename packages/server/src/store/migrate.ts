import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Sql } from './db.js'

/** Where the versioned SQL files live: `packages/server/migrations/NNN_name.sql`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))

// Any constant works; it only has to be the same for every instance of this server.
const MIGRATION_LOCK = 72_651_031

/**
 * Apply the migrations that have not run yet, in name order, in one transaction holding an
 * advisory lock: two instances starting together take turns, and the second finds nothing to do.
 * Returns the names applied by this call.
 */
export async function migrate(sql: Sql, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort()
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
    await tx`create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`
    const done = new Set((await tx<{ name: string }[]>`select name from schema_migrations`).map((r) => r.name))
    const applied: string[] = []
    for (const file of files) {
      if (done.has(file)) continue
      await tx.unsafe(readFileSync(`${dir}/${file}`, 'utf8'))
      await tx`insert into schema_migrations (name) values (${file})`
      applied.push(file)
    }
    return applied
  }) as Promise<string[]>
}
