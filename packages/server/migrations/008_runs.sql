-- Verified runs (the server runs a room's stored code, and its hidden test files, in a sandbox of
-- its own) and hidden test files (kept beside the document, never in it).

create table verified_runs (
  id text primary key,
  session_id text not null references sessions (id) on delete cascade,
  user_id text not null,
  name text not null,
  -- program or tests
  kind text not null,
  file text not null,
  language text not null,
  -- queued, running, passed, failed, error, timeout
  status text not null,
  -- the document version the code was read at
  heads text[] not null,
  -- [{stream, text}]: what the program and the visible tests printed
  output jsonb not null default '[]',
  -- [{name, passed, message?, durationMs, file?, line?, hidden?}]
  tests jsonb not null default '[]',
  -- what the run with the hidden tests printed, and why it ended: for instructors only
  hidden_output jsonb,
  hidden_reason text,
  -- how many hidden test files the run included (0: nothing to withhold from learners)
  hidden_files integer not null default 0,
  tests_passed integer not null default 0,
  tests_failed integer not null default 0,
  duration_ms integer,
  reason text,
  -- the server instance running it: a run whose instance stopped beating is ended as an error
  instance_id text not null,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index verified_runs_session_idx on verified_runs (session_id, created_at desc);
create index verified_runs_user_idx on verified_runs (user_id, created_at);
create index verified_runs_unfinished_idx on verified_runs (instance_id) where finished_at is null;

create table hidden_files (
  session_id text not null references sessions (id) on delete cascade,
  name text not null,
  text text not null,
  updated_by text not null,
  updated_at timestamptz not null default now(),
  primary key (session_id, name)
);
