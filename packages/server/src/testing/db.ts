import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import postgres from '#postgres'
import { tightenDataFolder } from '../store/db.js'

export type Backend = 'pglite' | 'postgres'

/**
 * Both backends, for the tests whose subject is the database itself: the store and its driver,
 * migrations, the committer, durability and crashes, retention, erasure, the audit log and the
 * outboxes. PGlite always, and PostgreSQL too when DATABASE_URL is set.
 */
export function backends(): Backend[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']
}

/**
 * One backend, for tests whose subject is the server's own behaviour over the store (the routes,
 * the rooms, LTI): PostgreSQL when DATABASE_URL is set, as in production and CI, else PGlite. The
 * SQL they run is the same on both; the end-to-end tests and examples run on PGlite.
 */
export function oneBackend(): Backend {
  return process.env.DATABASE_URL ? 'postgres' : 'pglite'
}

const pgliteEntry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
const pgliteVersion = (JSON.parse(readFileSync(join(dirname(pgliteEntry), '..', 'package.json'), 'utf8')) as { version: string }).version

/**
 * A fresh data folder whose PGlite cluster is already initialised: `initdb` takes seconds, so it
 * runs once per machine into a template that every test copies (a copy takes milliseconds).
 */
export async function freshDataDir(): Promise<string> {
  const template = join(tmpdir(), `session-kit-pglite-template-${pgliteVersion}`)
  if (!existsSync(join(template, 'pglite', 'PG_VERSION'))) {
    const building = mkdtempSync(join(tmpdir(), 'session-kit-pglite-build-'))
    const { PGlite } = await import('@electric-sql/pglite')
    const db = await PGlite.create(join(building, 'pglite'))
    await db.close()
    try {
      renameSync(building, template)
    } catch {
      rmSync(building, { recursive: true, force: true }) // another test process won the race
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'session-kit-test-'))
  cpSync(join(template, 'pglite'), join(dir, 'pglite'), { recursive: true })
  // As the server leaves its own folder: private (a template made by older code was not).
  tightenDataFolder(join(dir, 'pglite'))
  return dir
}

/** A fresh, empty PostgreSQL database on the server DATABASE_URL points at; dropped by `drop()`. */
export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL
  if (!base) throw new Error('DATABASE_URL is not set')
  const name = `sk_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = postgres(base, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(base)
  url.pathname = '/' + name
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(base, { max: 1, onnotice: () => {} })
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {})
      await a.end()
    },
  }
}

export function removeDir(dir: string) {
  rmSync(dir, { recursive: true, force: true })
}

