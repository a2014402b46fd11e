-- Lecture mode: raised hands (a reload keeps the queue) and, per session, whom everyone follows
-- and whom the spotlight shows. Rows go with their session (on delete cascade).

-- One row per raised hand; lowering it deletes the row. The queue is oldest first by the
-- database's clock; `seq` orders hands raised within the same instant.
create table raised_hands (
  session_id text not null references sessions (id) on delete cascade,
  user_id text not null,
  name text not null,
  question text not null default '',
  raised_at timestamptz not null default now(),
  seq bigserial not null,
  primary key (session_id, user_id)
);
create index raised_hands_queue_idx on raised_hands (session_id, raised_at, seq);

-- At most one row per session, present once lecture mode was used in it.
create table lectures (
  session_id text primary key references sessions (id) on delete cascade,
  follow_user_id text,
  follow_name text,
  follow_since timestamptz,
  spotlight_user_id text,
  spotlight_name text,
  -- the instructor who started the spotlight (their name, as the room shows it)
  spotlight_by text,
  spotlight_at timestamptz
);
