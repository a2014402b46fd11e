-- Chat messages, live connections (for "online now" across instances) and instance heartbeats.

create table chat_messages (
  id bigserial primary key,
  session_id text not null references sessions (id) on delete cascade,
  user_id text not null,
  name text not null,
  role text not null,
  body text not null,
  created_at timestamptz not null default now(),
  deleted_at timestamptz,
  deleted_by text
);
create index chat_messages_session_idx on chat_messages (session_id, id);

-- One row per open room connection; removed on leave. Rows of instances whose heartbeat stopped
-- (a crash) are ignored and swept.
create table connections (
  conn_id text primary key,
  session_id text not null references sessions (id) on delete cascade,
  user_id text not null,
  instance_id text not null,
  connected_at timestamptz not null default now()
);
create index connections_session_idx on connections (session_id, user_id);

create table instances (
  id text primary key,
  heartbeat_at timestamptz not null default now()
);
