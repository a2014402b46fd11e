import type { RetentionKind } from '@session-kit/core'
import type { Sql, Tx } from './db.js'

/*
 * The retention job's queries: its lease and progress (the single row of `retention_job`), and for
 * each kind of data the next session holding some that expired, and one batch of it deleted.
 *
 * A period is in seconds: the session's own (days, `sessions.retention`) or the deployment's,
 * whichever is shorter; null when neither is set (kept). Cutoffs are measured from the run's "now",
 * fixed when it starts, so a run resumed after a crash deletes exactly the set it began with.
 */

/** The job's row: who holds it and until when, the run in progress, the last one finished. */
export interface RetentionJobRow {
  owner: string | null
  lockedUntil: Date | null
  runAt: Date | null
  step: string | null
  afterSession: string | null
  counts: Record<string, number>
  lastStartedAt: Date | null
  lastFinishedAt: Date | null
  lastCounts: Record<string, number> | null
}

const jobColumns = (sql: Sql | Tx) =>
  sql`owner, locked_until as "lockedUntil", run_at as "runAt", step, after_session as "afterSession", counts, last_started_at as "lastStartedAt", last_finished_at as "lastFinishedAt", last_counts as "lastCounts"`

export async function readJob(sql: Sql): Promise<RetentionJobRow> {
  const [row] = await sql<RetentionJobRow[]>`select ${jobColumns(sql)} from retention_job where id = 1`
  return row!
}

/**
 * Take (or extend) the lease: granted when nobody holds it, when `owner` already does, or when the
 * holder's lease ended (it crashed, or stopped without letting go). One statement on one row, so
 * two instances asking at once cannot both get it. Undefined when another instance holds it.
 */
export async function takeLease(sql: Sql, owner: string, now: Date, until: Date): Promise<RetentionJobRow | undefined> {
  const [row] = await sql<RetentionJobRow[]>`
    update retention_job set owner = ${owner}, locked_until = ${until}
    where id = 1 and (owner is null or owner = ${owner} or locked_until <= ${now})
    returning ${jobColumns(sql)}`
  return row
}

export async function releaseLease(sql: Sql, owner: string): Promise<void> {
  await sql`update retention_job set owner = null, locked_until = null where id = 1 and owner = ${owner}`
}

/** Start a run at `runAt` (the lease must be held). */
export async function beginRun(sql: Sql, owner: string, runAt: Date, firstStep: string): Promise<boolean> {
  const rows = await sql`
    update retention_job set run_at = ${runAt}, step = ${firstStep}, after_session = null, counts = '{}', last_started_at = ${runAt}
    where id = 1 and owner = ${owner} and run_at is null returning id`
  return rows.length > 0
}

/**
 * In a batch's transaction: whether `owner` still holds the lease (the row stays locked until the
 * batch commits, so a takeover waits for it). False when the lease was lost: the batch must not run.
 */
export async function holdsLease(tx: Tx, owner: string, now: Date): Promise<boolean> {
  const rows = await tx`select 1 from retention_job where id = 1 and owner = ${owner} and locked_until > ${now} for update`
  return rows.length > 0
}

/** Record a batch's progress, in its transaction: the step, the last session finished, what it deleted, a longer lease. */
export async function recordProgress(tx: Tx, p: { owner: string; step: string; afterSession: string | null; deleted: Record<string, number>; until: Date }): Promise<void> {
  await tx`
    update retention_job set
      step = ${p.step},
      after_session = ${p.afterSession},
      counts = (
        select coalesce(jsonb_object_agg(k, coalesce((counts ->> k)::bigint, 0) + coalesce((${tx.json(p.deleted)}::jsonb ->> k)::bigint, 0)), '{}')
        from jsonb_object_keys(counts || ${tx.json(p.deleted)}::jsonb) k
      ),
      locked_until = ${p.until}
    where id = 1 and owner = ${p.owner}`
}

/** End the run (in its last batch's transaction): it becomes the last run, and the lease is let go. */
export async function finishRun(tx: Tx, owner: string, finishedAt: Date): Promise<RetentionJobRow | undefined> {
  const [row] = await tx<RetentionJobRow[]>`
    update retention_job set last_finished_at = ${finishedAt}, last_counts = counts, run_at = null, step = null, after_session = null, counts = '{}',
      owner = null, locked_until = null
    where id = 1 and owner = ${owner}
    returning ${jobColumns(tx)}`
  return row
}

/** Whether any session sets a period of its own (a run has work even where the deployment keeps everything). */
export async function anySessionRetention(sql: Sql | Tx): Promise<boolean> {
  const [row] = await (sql as Sql)<{ any: boolean }[]>`select exists(select 1 from sessions where retention <> '{}') as any`
  return row!.any
}

// ---- what expired, kind by kind ---------------------------------------------------------------

/** The next session (by id, after `after`) holding data of one kind older than its cutoff. */
export interface Expiring {
  sessionId: string
  cutoff: Date
}

/** The session's period for `kind` in seconds: its own (days) or the deployment's, the shorter; null: kept. */
const periodOf = (sql: Sql, kind: RetentionKind, deploymentSeconds: number | undefined) =>
  sql`least((s.retention ->> ${kind})::float8 * 86400, ${deploymentSeconds ?? null}::float8)`

const cutoffOf = (sql: Sql, runAt: Date, kind: RetentionKind, deploymentSeconds: number | undefined) =>
  sql`${runAt}::timestamptz - make_interval(secs => ${periodOf(sql, kind, deploymentSeconds)})`

/** Recordings that stopped (ready or failed) before the cutoff; one still going or being built is never touched. */
export async function nextRecordings(sql: Sql, runAt: Date, seconds: number | undefined, after: string): Promise<Expiring | undefined> {
  const [row] = await sql<Expiring[]>`
    select id as "sessionId", cutoff from (select s.id, ${cutoffOf(sql, runAt, 'recordings', seconds)} as cutoff from sessions s where s.id > ${after}) c
    where cutoff is not null and exists (
      select 1 from recordings r where r.session_id = c.id and r.status in ('ready', 'failed') and coalesce(r.stopped_at, r.created_at) < c.cutoff)
    order by id limit 1`
  return row
}

/** Delete up to `limit` expired recordings of one session; their replays go with them (cascade). */
export async function deleteRecordingsBefore(tx: Tx, sessionId: string, cutoff: Date, limit: number): Promise<number> {
  const rows = await tx`
    delete from recordings where id in (
      select id from recordings where session_id = ${sessionId} and status in ('ready', 'failed') and coalesce(stopped_at, created_at) < ${cutoff} limit ${limit})
    returning id`
  return rows.length
}

export async function nextChat(sql: Sql, runAt: Date, seconds: number | undefined, after: string): Promise<Expiring | undefined> {
  const [row] = await sql<Expiring[]>`
    select id as "sessionId", cutoff from (select s.id, ${cutoffOf(sql, runAt, 'chat', seconds)} as cutoff from sessions s where s.id > ${after}) c
    where cutoff is not null and exists (select 1 from chat_messages m where m.session_id = c.id and m.created_at < c.cutoff)
    order by id limit 1`
  return row
}

export async function deleteChatBefore(tx: Tx, sessionId: string, cutoff: Date, limit: number): Promise<number> {
  const rows = await tx`
    delete from chat_messages where id in (select id from chat_messages where session_id = ${sessionId} and created_at < ${cutoff} limit ${limit})
    returning id`
  return rows.length
}

/**
 * Events (and the per-minute rollups made of them). A recording still going or being built reads
 * its session's events from its start: its cutoff never passes that start.
 */
export async function nextEvents(sql: Sql, runAt: Date, seconds: number | undefined, after: string): Promise<Expiring | undefined> {
  const [row] = await sql<Expiring[]>`
    select id as "sessionId", cutoff from (
      select s.id, least(${cutoffOf(sql, runAt, 'events', seconds)},
        (select min(r.started_at) from recordings r where r.session_id = s.id and r.status in ('recording', 'paused', 'processing'))) as cutoff
      from sessions s where s.id > ${after} and ${periodOf(sql, 'events', seconds)} is not null
    ) c
    where exists (select 1 from events e where e.session_id = c.id and e.at < c.cutoff)
       or exists (select 1 from activity_minutes m where m.session_id = c.id and m.minute < c.cutoff - interval '1 minute')
    order by id limit 1`
  return row
}

/** Delete up to `limit` expired events of one session, and the minutes of rollup wholly before the cutoff. */
export async function deleteEventsBefore(tx: Tx, sessionId: string, cutoff: Date, limit: number): Promise<{ events: number; activity_minutes: number }> {
  const events = await tx`
    delete from events where id in (select id from events where session_id = ${sessionId} and at < ${cutoff} order by at limit ${limit})
    returning id`
  const minutes = await tx`
    delete from activity_minutes where (session_id, minute, user_id) in (
      select session_id, minute, user_id from activity_minutes where session_id = ${sessionId} and minute < ${cutoff}::timestamptz - interval '1 minute' limit ${limit})
    returning minute`
  return { events: events.length, activity_minutes: minutes.length }
}

export async function nextSnapshots(sql: Sql, runAt: Date, seconds: number | undefined, after: string): Promise<Expiring | undefined> {
  const [row] = await sql<Expiring[]>`
    select id as "sessionId", cutoff from (select s.id, ${cutoffOf(sql, runAt, 'snapshots', seconds)} as cutoff from sessions s where s.id > ${after}) c
    where cutoff is not null and exists (select 1 from snapshots n where n.session_id = c.id and n.created_at < c.cutoff)
    order by id limit 1`
  return row
}

export async function deleteSnapshotsBefore(tx: Tx, sessionId: string, cutoff: Date, limit: number): Promise<number> {
  const rows = await tx`
    delete from snapshots where id in (select id from snapshots where session_id = ${sessionId} and created_at < ${cutoff} limit ${limit})
    returning id`
  return rows.length
}

/**
 * The next session whose last activity (its settings changed, someone connected or left, an edit,
 * a chat message, a run) is older than its period, with nobody connected to it now.
 */
export async function nextClosedSession(sql: Sql, runAt: Date, seconds: number | undefined, after: string): Promise<Expiring | undefined> {
  const [row] = await sql<Expiring[]>`
    select id as "sessionId", cutoff from (
      select s.id, ${cutoffOf(sql, runAt, 'session', seconds)} as cutoff,
        greatest(s.updated_at, s.ended_at,
          (select max(p.last_seen_at) from participants p where p.session_id = s.id),
          (select max(e.at) from events e where e.session_id = s.id),
          (select max(d.created_at) from doc_chunks d where d.session_id = s.id)) as active
      from sessions s where s.id > ${after}
    ) c
    where cutoff is not null and active < cutoff and not exists (select 1 from connections k where k.session_id = c.id)
    order by id limit 1`
  return row
}

/** Forget erased people whose every earlier token has expired (see `erased_users`). */
export async function forgetErasedBefore(tx: Tx, before: Date): Promise<number> {
  const rows = await tx`delete from erased_users where erased_at < ${before} returning user_key`
  return rows.length
}
