-- Privacy: how a session's recordings treat the people in it, and pseudonyms in its analytics.
--
-- recording_policy: `notice` (everyone is told the session is being recorded, and is recorded once
-- told) or `consent` (only people who allowed it are recorded by name; everyone else's edits appear
-- anonymously and their chat, runs and name are left out). pseudonymize: instructors see
-- "Participant N" instead of names everywhere in the session's analytics.
alter table sessions add column recording_policy text not null default 'notice' check (recording_policy in ('notice', 'consent'));
alter table sessions add column pseudonymize boolean not null default false;

-- Every consent decision, kept (a replay applies each person's choice as it stood at each moment;
-- a person may change their mind at any time). No row: not decided (under `consent`, not recorded).
create table recording_consents (
  id bigserial primary key,
  session_id text not null references sessions (id) on delete cascade,
  user_id text not null,
  consent boolean not null,
  decided_at timestamptz not null default now()
);
create index recording_consents_user_idx on recording_consents (session_id, user_id, decided_at);

-- When each person was first told of a recording (the welcome or the room event that said so):
-- their edits, chat and runs are attributed to them in the replay only from then on.
create table recording_notices (
  recording_id text not null references recordings (id) on delete cascade,
  user_id text not null,
  told_at timestamptz not null,
  primary key (recording_id, user_id)
);

-- The policy a recording was made under (null: made before this migration, everyone attributed),
-- and who consented to it ([{userId, name}], under `consent`), fixed once its replay is built.
alter table recordings add column policy text check (policy in ('notice', 'consent'));
alter table recordings add column consented jsonb;
