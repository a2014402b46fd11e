-- Analytics: events rolled up per session, person and minute as they are inserted, so a session
-- with a million events answers from a few thousand rows. Kept current by a statement-level
-- trigger (one upsert per person and minute of each inserted batch, not one per event).

create table activity_minutes (
  session_id text not null references sessions (id) on delete cascade,
  minute timestamptz not null,
  user_id text not null,
  code_changes integer not null default 0,
  chars_inserted bigint not null default 0,
  chars_deleted bigint not null default 0,
  server_changes integer not null default 0,
  executions integer not null default 0,
  failed_executions integer not null default 0,
  chat_messages integer not null default 0,
  -- the latest edit, run or chat of this person in this minute
  last_activity_at timestamptz,
  primary key (session_id, minute, user_id)
);

-- Each person's latest runs, newest first (true: no errors), for "needs attention".
alter table participants add column recent_runs boolean[] not null default '{}';

-- The rollup, defined once: what a batch of events adds to activity_minutes and to each person's
-- recent runs. The trigger calls it with each inserted batch and the backfill below with what
-- happened before this migration, so the two cannot drift apart.
--
-- Written here rather than in a later migration: migrate.ts applies each file once, by name, and
-- keeps no checksum, so a database that already ran this file never reads it again. Such a
-- database keeps the trigger body this file used to hold (the same aggregate, written out twice),
-- which computes exactly the rows this function does (store/migrate.test.ts checks the backfill
-- against the trigger), so it stays correct without anything running again. A change to the
-- rollup itself belongs in a new migration that replaces activity_add and activity_rollup.
create function activity_add(batch events[]) returns void language sql as $$
  insert into activity_minutes as a (session_id, minute, user_id, code_changes, chars_inserted, chars_deleted, server_changes, executions, failed_executions, chat_messages, last_activity_at)
  select session_id, date_trunc('minute', at), coalesce(user_id, ''),
    count(*) filter (where kind = 'code_change'),
    coalesce(sum(inserted) filter (where kind = 'code_change'), 0),
    coalesce(sum(deleted) filter (where kind = 'code_change'), 0),
    count(*) filter (where kind = 'server_change'),
    count(*) filter (where kind = 'run'),
    count(*) filter (where kind = 'run' and coalesce((data ->> 'ok')::boolean, false) = false),
    count(*) filter (where kind = 'chat'),
    max(at) filter (where kind in ('code_change', 'run', 'chat'))
  from unnest(batch)
  where kind in ('code_change', 'server_change', 'run', 'chat')
  group by 1, 2, 3
  on conflict (session_id, minute, user_id) do update set
    code_changes = a.code_changes + excluded.code_changes,
    chars_inserted = a.chars_inserted + excluded.chars_inserted,
    chars_deleted = a.chars_deleted + excluded.chars_deleted,
    server_changes = a.server_changes + excluded.server_changes,
    executions = a.executions + excluded.executions,
    failed_executions = a.failed_executions + excluded.failed_executions,
    chat_messages = a.chat_messages + excluded.chat_messages,
    last_activity_at = greatest(a.last_activity_at, excluded.last_activity_at);
  -- The batch's runs, newest first, ahead of those already kept; the latest ten stay.
  update participants p set recent_runs = (r.runs || p.recent_runs)[1:10]
  from (
    select session_id, user_id, array_agg(coalesce((data ->> 'ok')::boolean, false) order by id desc) as runs
    from unnest(batch) where kind = 'run' group by 1, 2
  ) r
  where p.session_id = r.session_id and p.user_id = r.user_id;
$$;

create function activity_rollup() returns trigger language plpgsql as $$
begin
  perform activity_add(array(select row(n.*)::events from new_events n));
  return null;
end
$$;

create trigger events_activity_rollup after insert on events
  referencing new table as new_events
  for each statement execute function activity_rollup();

-- What happened before this migration, a session at a time.
select activity_add(array_agg(e)) from events e group by e.session_id;
