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

create function activity_rollup() returns trigger language plpgsql as $$
declare
  r record;
begin
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
  from new_events
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
  for r in select session_id, user_id, coalesce((data ->> 'ok')::boolean, false) as ok from new_events where kind = 'run' order by id loop
    update participants set recent_runs = (array[r.ok] || recent_runs)[1:10]
    where session_id = r.session_id and user_id = r.user_id;
  end loop;
  return null;
end
$$;

create trigger events_activity_rollup after insert on events
  referencing new table as new_events
  for each statement execute function activity_rollup();

-- What happened before this migration.
insert into activity_minutes (session_id, minute, user_id, code_changes, chars_inserted, chars_deleted, server_changes, executions, failed_executions, chat_messages, last_activity_at)
select session_id, date_trunc('minute', at), coalesce(user_id, ''),
  count(*) filter (where kind = 'code_change'),
  coalesce(sum(inserted) filter (where kind = 'code_change'), 0),
  coalesce(sum(deleted) filter (where kind = 'code_change'), 0),
  count(*) filter (where kind = 'server_change'),
  count(*) filter (where kind = 'run'),
  count(*) filter (where kind = 'run' and coalesce((data ->> 'ok')::boolean, false) = false),
  count(*) filter (where kind = 'chat'),
  max(at) filter (where kind in ('code_change', 'run', 'chat'))
from events
where kind in ('code_change', 'server_change', 'run', 'chat')
group by 1, 2, 3;

update participants p set recent_runs = coalesce((
  select array_agg(ok order by id desc) from (
    select id, coalesce((data ->> 'ok')::boolean, false) as ok from events e
    where e.session_id = p.session_id and e.user_id = p.user_id and e.kind = 'run'
    order by id desc limit 10
  ) last_runs
), '{}');
