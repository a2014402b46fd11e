-- The audit log: who did what to whom, where and when — every moderation, permission, deletion,
-- erasure and retention action (the kinds are AUDIT_ACTIONS in core's api.ts; entries are written by
-- recordAction in src/audit/record.ts, in the action's own transaction where it has one).
--
-- What an entry may hold: ids (people, sessions, assignments, resources), roles, booleans and
-- counts — never text someone typed (chat, titles, names, email addresses). People appear only in
-- actor_id and target_id, so erasing someone (audit_forget below) reaches every entry about them.
create table audit_log (
  id bigserial primary key,
  at timestamptz not null default now(),
  action text not null,
  -- who acted: a user id, or null for the host (API key or command line) and the server itself
  actor_id text,
  -- instructor, learner or observer (their role in the room then), host, or system (a job)
  actor_role text not null,
  -- whom or what it was done to: a user id, or the id of a resource (a recording, a platform…)
  target_id text,
  -- No foreign keys: the trail outlives what it is about (a deleted session's entries, its deletion
  -- among them, stay until audit retention expires them).
  session_id text,
  assignment_id text,
  details jsonb not null default '{}',
  -- {ip, userAgent, via: http | socket | cli | job}: the address as the server resolves it (the TCP
  -- peer, or X-Forwarded-For behind a proxy the operator trusts)
  origin jsonb not null default '{}'
);

-- Pages are newest first by id; a session's trail, a person's (as actor or target) and a time range
-- each have an index.
create index audit_log_session_idx on audit_log (session_id, id) where session_id is not null;
create index audit_log_assignment_idx on audit_log (assignment_id, id) where assignment_id is not null;
create index audit_log_actor_idx on audit_log (actor_id, id) where actor_id is not null;
create index audit_log_target_idx on audit_log (target_id, id) where target_id is not null;
create index audit_log_at_idx on audit_log (at);

-- Append-only from the application's point of view: UPDATE, DELETE and TRUNCATE are refused,
-- except through the two functions below, each of which switches itself on for its own statements
-- only (a transaction-local setting it turns off again). This guards against code — ours or a
-- host's — rewriting history by mistake; it is not a privilege boundary (the server's database
-- role owns the table), which is the database administrator's to draw if they want one.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and current_setting('session_kit.audit_forget', true) = 'on'
     -- Erasure may replace a person's id, and nothing else.
     and new.id = old.id and new.at = old.at and new.action = old.action and new.actor_role = old.actor_role
     and new.session_id is not distinct from old.session_id and new.assignment_id is not distinct from old.assignment_id
     and new.details = old.details and new.origin = old.origin
     and (new.actor_id is not distinct from old.actor_id or new.actor_id like 'former-participant:%')
     and (new.target_id is not distinct from old.target_id or new.target_id like 'former-participant:%') then
    return new;
  end if;
  if tg_op = 'DELETE' and current_setting('session_kit.audit_expire', true) = 'on' then
    return old;
  end if;
  raise exception 'audit_log is append-only: % is refused (erasure uses audit_forget, retention audit_expire)', tg_op
    using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_append_only();

create function audit_log_no_truncate() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: TRUNCATE is refused' using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_no_truncate();

-- Erasure of one person: their user id, as actor or target, becomes 'former-participant:<random>'
-- — the same placeholder in every entry of this call, so what one person did still reads as one
-- person's, but no longer as theirs (it is random, not a hash of the id, which anyone could
-- recompute). Returns the placeholder, for the erasure's own entry.
create function audit_forget(forgotten text) returns text language plpgsql as $$
declare
  placeholder text := 'former-participant:' || left(md5(random()::text || clock_timestamp()::text || forgotten), 16);
begin
  perform set_config('session_kit.audit_forget', 'on', true);
  update audit_log set actor_id = placeholder where actor_id = forgotten;
  update audit_log set target_id = placeholder where target_id = forgotten;
  perform set_config('session_kit.audit_forget', 'off', true);
  return placeholder;
end
$$;

-- Retention: delete the entries older than `older_than`; returns how many went.
create function audit_expire(older_than timestamptz) returns integer language plpgsql as $$
declare
  gone integer;
begin
  perform set_config('session_kit.audit_expire', 'on', true);
  delete from audit_log where at < older_than;
  get diagnostics gone = row_count;
  perform set_config('session_kit.audit_expire', 'off', true);
  return gone;
end
$$;
