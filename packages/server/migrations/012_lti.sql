-- LTI 1.3: Session Kit as a tool that learning platforms (Canvas, Moodle, …) launch into.

-- A platform registration: one LMS (issuer) and the client id it gave us. Canvas uses one issuer for
-- every hosted instance, so an issuer may hold several registrations, told apart by client id.
create table lti_platforms (
  id text primary key,
  issuer text not null,
  client_id text not null,
  name text not null default '',
  auth_url text not null,
  token_url text not null,
  jwks_url text not null,
  -- the deployments of the tool on that platform that may launch (a launch names one)
  deployment_ids text[] not null default '{}',
  -- admin (CLI or API) or dynamic (LTI Dynamic Registration)
  registered_by text not null default 'admin',
  created_at timestamptz not null default now(),
  unique (issuer, client_id)
);

-- Our own signing keys (RS256): Deep Linking responses and service-token assertions. The newest
-- unretired key signs; retired keys stay published at /lti/jwks for a day, so a platform that
-- cached the set can still check what they signed.
create table lti_tool_keys (
  kid text primary key,
  private_jwk jsonb not null,
  public_jwk jsonb not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz
);

-- One login initiation, waiting for its launch: the state and nonce sent to the platform, and the
-- secret the browser holds to prove it started this login (a cookie, or the platform's storage).
create table lti_logins (
  state text primary key,
  nonce text not null,
  platform_id text not null references lti_platforms (id) on delete cascade,
  binding text not null,
  -- cookie, or platform (LTI platform storage over postMessage)
  storage text not null,
  -- the login request as sent (to open the tool again in a new window)
  request jsonb not null,
  -- the verified launch, waiting for the browser to show the platform storage's secret
  launch jsonb,
  used_at timestamptz,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index lti_logins_expiry on lti_logins (expires_at);

-- Every nonce a platform signed into a launch we accepted, until its id_token expires: never twice.
create table lti_nonces (
  platform_id text not null references lti_platforms (id) on delete cascade,
  nonce text not null,
  expires_at timestamptz not null,
  primary key (platform_id, nonce)
);
create index lti_nonces_expiry on lti_nonces (expires_at);

-- A resource link (an activity in a course) and what it opens: a live room (a session) or an
-- assignment. Created on the first launch, or by Deep Linking before it.
create table lti_links (
  platform_id text not null references lti_platforms (id) on delete cascade,
  deployment_id text not null,
  resource_link_id text not null,
  -- room or assignment
  kind text not null,
  session_id text,
  assignment_id text references assignments (id) on delete cascade,
  context_id text,
  context_title text,
  title text not null default '',
  -- LTI Advantage endpoints of the latest launch: the course roster (NRPS) and grades (AGS)
  nrps_url text,
  ags_lineitems text,
  ags_lineitem text,
  ags_scopes text[] not null default '{}',
  -- when an instructor last pulled this course's roster through this link
  roster_pulled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (platform_id, deployment_id, resource_link_id)
);
create index lti_links_session on lti_links (session_id);
create index lti_links_assignment on lti_links (assignment_id);

-- Assignments made by Deep Linking, before any launch: which platform may open them.
create table lti_assignment_platforms (
  assignment_id text not null references assignments (id) on delete cascade,
  platform_id text not null references lti_platforms (id) on delete cascade,
  primary key (assignment_id, platform_id)
);

-- People of a course, as the LMS knows them: from their launches and from the roster (NRPS).
create table lti_members (
  platform_id text not null references lti_platforms (id) on delete cascade,
  context_id text not null,
  -- the LMS's user id, and ours (what tokens carry as sub)
  lti_sub text not null,
  user_id text not null,
  name text not null default '',
  email text,
  picture text,
  role text not null,
  test_user boolean not null default false,
  -- Active or Inactive (NRPS); a launch makes it Active
  status text not null default 'Active',
  source text not null,
  updated_at timestamptz not null default now(),
  primary key (platform_id, context_id, lti_sub)
);
create index lti_members_user on lti_members (user_id);

-- Scores to send to the LMS's gradebook (AGS), one per learner and assignment: a durable outbox,
-- retried with backoff until sent; instructors see each one's state.
create table lti_grades (
  assignment_id text not null references assignments (id) on delete cascade,
  user_id text not null,
  platform_id text not null references lti_platforms (id) on delete cascade,
  lti_sub text not null,
  -- the line item the score goes to; null until found or created in `lineitems` (by resourceId =
  -- the assignment's id) when the link named none
  lineitem text,
  lineitems text,
  -- waiting (for the verified tests run), sending, sent, failed (given up)
  status text not null,
  run_id text,
  score_given double precision,
  score_maximum double precision,
  submitted_at timestamptz not null,
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  sent_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (assignment_id, user_id)
);
create index lti_grades_due on lti_grades (next_attempt_at) where status in ('waiting', 'sending');

-- Test users (an LMS's student view) are left out of analytics by default.
alter table participants add column test_user boolean not null default false;
