-- Someone closed for repeated refused writes (4403) is kept out of the room until this time, so
-- reconnecting at once does not start the same writes again.
alter table participants add column writes_blocked_until timestamptz;

-- A session's identity beside its id: tokens the server signs for invited guests carry it, so a
-- guest token stops working with its session, and does not work for a new session given the
-- same id later.
alter table sessions add column epoch uuid not null default gen_random_uuid();

-- Ids of deleted sessions. A token issued before the deletion cannot open (and so recreate and
-- own) the id again; the host can create it anew with POST /v1/sessions.
create table deleted_sessions (
  id text primary key,
  deleted_at timestamptz not null default now()
);
