-- Snapshots (named copies of the code at a moment) and recordings (time spans of a room's history,
-- compiled into a replay when they stop).

create table snapshots (
  id text primary key,
  session_id text not null references sessions (id) on delete cascade,
  title text not null,
  description text,
  created_by text not null,
  creator_name text not null,
  creator_role text not null,
  files jsonb not null,
  heads text[] not null,
  created_at timestamptz not null default now()
);
create index snapshots_session_idx on snapshots (session_id, created_at);

create table recordings (
  id text primary key,
  session_id text not null references sessions (id) on delete cascade,
  title text not null,
  description text,
  is_public boolean not null default false,
  -- recording, paused, processing, ready, failed
  status text not null,
  created_by text not null,
  creator_name text not null,
  started_at timestamptz not null,
  stopped_at timestamptz,
  -- [[from, to], …] in epoch milliseconds: the recorded spans (the last open while recording)
  spans jsonb not null default '[]',
  error text,
  created_at timestamptz not null default now()
);
create index recordings_session_idx on recordings (session_id, created_at);
create unique index recordings_one_active on recordings (session_id) where status in ('recording', 'paused');

create table recording_replays (
  recording_id text primary key references recordings (id) on delete cascade,
  data bytea not null,
  changes integer not null,
  built_at timestamptz not null default now()
);
