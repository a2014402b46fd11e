// Analytics benchmark: a session with 1,000,000 events (40 people over 8 hours: edits, runs, chat,
// joins and leaves), then the analytics route for each range, anonymized, and the CSV export,
// timed over HTTP. Runs on PostgreSQL (a fresh database of DATABASE_URL) and on embedded PGlite.
// Also measures what the rollup trigger adds to a single-change commit (the sync hot path).
//
//   npm run bench -- analytics [--events 1000000] [--requests 30] [--backends postgres,pglite]
import { parseArgs } from 'node:util'
import { rmSync } from 'node:fs'
import { createServer, mintToken } from '@session-kit/server'
import { API_KEY, SECRET, summarize, table, writeResult } from './lib.mjs'

const PEOPLE = 40
const HOURS = 8

export async function populate(sql, sid, events) {
  const start = new Date(Date.now() - HOURS * 3600_000)
  const step = (HOURS * 3600_000) / events
  // People: one instructor, the rest learners, joined in order.
  for (let u = 0; u < PEOPLE; u++) {
    await sql`insert into participants (session_id, user_id, name, token_role, join_seq, first_joined_at, last_seen_at)
      values (${sid}, ${'u' + u}, ${'Person ' + u}, ${u === 0 ? 'instructor' : 'learner'}, ${u + 1}, ${start}, ${start})`
  }
  // Joins and leaves: each person comes and goes five times.
  const visits = []
  for (let u = 0; u < PEOPLE; u++) {
    for (let k = 0; k < 5; k++) {
      const from = start.getTime() + (k * HOURS * 3600_000) / 5 + u * 1000
      visits.push({ session_id: sid, kind: 'join', user_id: 'u' + u, at: new Date(from), data: { conn: `c${u}-${k}` } })
      visits.push({ session_id: sid, kind: 'leave', user_id: 'u' + u, at: new Date(from + 80 * 60_000), data: { conn: `c${u}-${k}` } })
    }
  }
  await sql`insert into events ${sql(visits, 'session_id', 'kind', 'user_id', 'at', 'data')}`
  // The rest: 90 % code changes, 7 % runs (a third failing), 3 % chat, in statements of 20,000
  // rows (the rollup trigger aggregates each statement once).
  const rest = events - visits.length
  const batch = 20_000
  for (let a = 0; a < rest; a += batch) {
    const b = Math.min(rest, a + batch) - 1
    await sql`
      insert into events (session_id, kind, user_id, at, inserted, deleted, ref, data)
      select ${sid},
        case when g % 100 < 90 then 'code_change' when g % 100 < 97 then 'run' else 'chat' end,
        'u' || (g % ${PEOPLE}),
        ${start}::timestamptz + (g * ${step}::float8) * interval '1 millisecond',
        case when g % 100 < 90 then 1 + g % 3 else 0 end,
        case when g % 100 < 90 and g % 7 = 0 then 1 else 0 end,
        case when g % 100 < 90 then md5(g::text) end,
        case when g % 100 between 90 and 96 then jsonb_build_object('ok', g % 3 <> 0, 'file', 'main.js') end
      from generate_series(${a}::int, ${b}::int) g`
  }
}

async function commitCost(sql, sid, n) {
  // One code_change event per statement, as a lone typist's group commit makes.
  const one = async () => {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) await sql`insert into events (session_id, kind, user_id, inserted, ref) values (${sid}, 'code_change', 'u1', 1, ${'h' + i})`
    return (performance.now() - t0) / n
  }
  const withTrigger = await one()
  await sql`alter table events disable trigger events_activity_rollup`
  const without = await one()
  await sql`alter table events enable trigger events_activity_rollup`
  return { withTrigger, without }
}

async function benchBackend(backend, events, requests) {
  const { freshDataDir, freshPostgres } = await import('@session-kit/server/testing')
  if (backend === 'postgres' && !process.env.DATABASE_URL) {
    console.log('postgres: skipped (set DATABASE_URL to a PostgreSQL server)')
    return null
  }
  const dataDir = await freshDataDir()
  const pg = backend === 'postgres' ? await freshPostgres() : undefined
  const server = await createServer({ port: 0, host: '127.0.0.1', dataDir, databaseUrl: pg?.url ?? '', log: () => {}, env: { SESSION_KIT_SECRET: SECRET, SESSION_KIT_API_KEY: API_KEY } })
  try {
    const sid = 'analytics-bench'
    const created = await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: sid, title: 'Analytics bench', ownerId: 'u0' }) })
    if (!created.ok) throw new Error(`could not create the session: ${created.status}`)
    const sql = server.db.sql
    const p0 = performance.now()
    await populate(sql, sid, events)
    await sql`analyze events`
    await sql`analyze activity_minutes`
    const populateS = (performance.now() - p0) / 1000
    const [{ n }] = await sql`select count(*)::int as n from events where session_id = ${sid}`
    const [{ buckets }] = await sql`select count(*)::int as buckets from activity_minutes where session_id = ${sid}`
    const token = await mintToken({ sid, role: 'instructor', sub: 'u0', name: 'Person 0' }, SECRET)
    const rows = []
    const results = {}
    for (const [label, path] of [
      ['range=all', '/analytics?range=all'],
      ['range=24h', '/analytics?range=24h'],
      ['range=1h', '/analytics?range=1h'],
      ['range=all&anonymize=true', '/analytics?range=all&anonymize=true'],
      ['export csv (all)', '/analytics/export?format=csv&range=all'],
      ['me (a learner)', '/analytics/me?range=all'],
    ]) {
      const times = []
      const auth = label.startsWith('me') ? await mintToken({ sid, role: 'learner', sub: 'u7', name: 'Person 7' }, SECRET) : token
      for (let i = 0; i < requests + 2; i++) {
        const t0 = performance.now()
        const res = await fetch(`${server.url}/v1/sessions/${sid}${path}`, { headers: { authorization: `Bearer ${auth}` } })
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
        await res.arrayBuffer()
        if (i >= 2) times.push(performance.now() - t0) // two warm-up requests
      }
      const s = summarize(times)
      results[label] = s
      rows.push({ request: label, p50: s.p50.toFixed(1) + ' ms', p95: s.p95.toFixed(1) + ' ms', max: s.max.toFixed(1) + ' ms' })
    }
    const commit = await commitCost(sql, sid, 300)
    console.log(`\n${backend}: ${n.toLocaleString('en')} events (rolled up into ${buckets.toLocaleString('en')} person-minutes), populated in ${populateS.toFixed(1)} s`)
    table(rows)
    console.log(`one-change commit: ${commit.withTrigger.toFixed(3)} ms with the rollup trigger, ${commit.without.toFixed(3)} ms without (+${(commit.withTrigger - commit.without).toFixed(3)} ms)`)
    return { events: n, buckets, populateSeconds: populateS, requests: results, commitMs: commit }
  } finally {
    await server.close()
    await pg?.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

export async function run(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'analytics'),
    options: { events: { type: 'string', default: '1000000' }, requests: { type: 'string', default: '30' }, backends: { type: 'string', default: 'postgres,pglite' } },
    strict: false,
  })
  const out = {}
  for (const backend of values.backends.split(',')) out[backend] = await benchBackend(backend, Number(values.events), Number(values.requests))
  const file = writeResult('analytics', out)
  console.log(`\nwritten to ${file}`)
}
