-- Sessions, their Automerge document (a compacted base plus appended chunks), participants,
-- bans, actor bindings and the event log that recordings and analytics read.

create table sessions (
  id text primary key,
  title text not null,
  language text not null default 'javascript',
  owner_id text not null,
  editing_locked boolean not null default false,
  participant_seq integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  ended_at timestamptz
);

-- The compacted document. `heads` are the Automerge heads the base contains.
create table documents (
  session_id text primary key references sessions (id) on delete cascade,
  base bytea not null,
  heads text[] not null,
  compacted_at timestamptz not null default now()
);

-- Changes appended after the base, in commit order. `data` is the concatenation of whole
-- Automerge change chunks; `hashes` names them.
create table doc_chunks (
  id bigserial primary key,
  session_id text not null references sessions (id) on delete cascade,
  data bytea not null,
  hashes text[] not null,
  created_at timestamptz not null default now()
);
create index doc_chunks_session_idx on doc_chunks (session_id, id);

create table participants (
  session_id text not null references sessions (id) on delete cascade,
  user_id text not null,
  name text not null,
  email text,
  avatar text,
  token_role text not null,
  role_override text,
  muted boolean not null default false,
  hidden boolean not null default false,
  join_seq integer,
  first_joined_at timestamptz,
  last_seen_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (session_id, user_id)
);

create table bans (
  session_id text not null references sessions (id) on delete cascade,
  user_id text not null,
  email text,
  banned_by text not null,
  created_at timestamptz not null default now(),
  primary key (session_id, user_id)
);
create index bans_email_idx on bans (session_id, lower(email));

-- Each Automerge actor id belongs to the user whose connection first sent it. `seq` and
-- `max_op` are those of the actor's latest stored change: the next one must follow on.
create table actors (
  session_id text not null references sessions (id) on delete cascade,
  actor text not null,
  user_id text not null,
  seq integer not null,
  max_op bigint not null,
  primary key (session_id, actor)
);

-- Everything that happened in a room, recorded by the server itself: code_change (with the
-- change hash and characters inserted/deleted), join, leave, and later run and chat.
create table events (
  id bigserial primary key,
  session_id text not null references sessions (id) on delete cascade,
  kind text not null,
  user_id text,
  at timestamptz not null default now(),
  inserted integer not null default 0,
  deleted integer not null default 0,
  ref text,
  data jsonb
);
create index events_session_at_idx on events (session_id, at);
create index events_session_kind_at_idx on events (session_id, kind, at);
