-- Retention (what expires, and the job that deletes it) and erasure of one person.

-- A session's own retention periods, in days, shorter than the deployment's (or where the
-- deployment keeps forever): {recordings?, chat?, events?, snapshots?, session?}. Empty: the
-- deployment's periods apply. Set by the owner (PATCH /v1/sessions/:sid).
alter table sessions add column retention jsonb not null default '{}';

-- The retention job: one row, whichever instance holds its lease runs it (owner, until
-- locked_until; a lease ends by itself, so a crashed holder's work is taken over). A run's "now"
-- (every cutoff is measured from it), its step, the last session that step finished and the
-- counts so far are written in the same transaction as each batch of deletions: whoever takes
-- over resumes exactly there, deleting the same set (a batch is idempotent).
create table retention_job (
  id integer primary key default 1 check (id = 1),
  owner text,
  locked_until timestamptz,
  -- the run in progress (null when none)
  run_at timestamptz,
  step text,
  after_session text,
  counts jsonb not null default '{}',
  -- the last finished run
  last_started_at timestamptz,
  last_finished_at timestamptz,
  last_counts jsonb
);
insert into retention_job (id) values (1);

-- People erased in the last day or so, by a hash of their user id: a token issued before the
-- erasure (still valid for at most SESSION_KIT_MAX_TOKEN_TTL) cannot bring them back into a room.
-- The retention job deletes a row once every such token has expired.
create table erased_users (
  user_key text primary key,
  erased_at timestamptz not null
);
