-- Assignments: a template (instructions, starter files, visible and hidden tests) and one room
-- (a session) per learner. A learner's room goes with its session (on delete cascade), and
-- everything of an assignment goes with the assignment.

create table assignments (
  id text primary key,
  title text not null,
  -- Markdown, stored as the instructor wrote it (pages render it without raw HTML)
  instructions text not null default '',
  language text not null,
  -- {name: text}: the starter files every learner's room begins with
  files jsonb not null,
  -- {name: text}: test files put in every room's document
  visible_tests jsonb not null default '{}',
  -- {name: text}: test files installed as each room's hidden files, never in a document
  hidden_tests jsonb not null default '{}',
  due_at timestamptz,
  -- keep-editing or lock
  submit_policy text not null default 'keep-editing',
  -- the owner of every learner's room
  owner_id text not null,
  closed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- One room per learner: the primary key is what makes two first opens at once create one room.
-- The session is created in the same transaction, after this row (the check waits for the commit).
create table assignment_rooms (
  assignment_id text not null references assignments (id) on delete cascade,
  user_id text not null,
  session_id text not null unique references sessions (id) on delete cascade deferrable initially deferred,
  name text not null,
  -- {name: text}: the starter text each file had when the room got it (to tell their edits apart)
  starter jsonb not null,
  started_at timestamptz not null default now(),
  submitted_at timestamptz,
  primary key (assignment_id, user_id)
);

-- A starter-file change not pushed into a room because the learner had changed that file.
create table assignment_updates (
  assignment_id text not null,
  user_id text not null,
  file text not null,
  text text not null,
  offered_at timestamptz not null default now(),
  primary key (assignment_id, user_id, file),
  foreign key (assignment_id, user_id) references assignment_rooms (assignment_id, user_id) on delete cascade
);
