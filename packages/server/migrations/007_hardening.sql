-- Someone closed for repeated refused writes (4403) is kept out of the room until this time, so
-- reconnecting at once does not start the same writes again.
alter table participants add column writes_blocked_until timestamptz;

-- Ids of deleted sessions. A token issued before the deletion cannot open (and so recreate and
-- own) the id again; the host can create it anew with POST /v1/sessions. (A guest token is also
-- refused by any session created after it was issued: see auth/sessions.ts.)
create table deleted_sessions (
  id text primary key,
  deleted_at timestamptz not null default now()
);
