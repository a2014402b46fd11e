-- Email invitations (only a hash of each link's token is kept), what was sent (counted for rate
-- limits across instances) and the outbox of mail (the delivery log, and the only copy without SMTP).

create table invitations (
  id text primary key,
  session_id text not null references sessions (id) on delete cascade,
  email text not null,
  name text,
  role text not null,
  token_hash text not null unique,
  status text not null default 'pending',
  invited_by text not null,
  inviter_name text not null,
  expires_in_hours integer not null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  sent_at timestamptz not null,
  responded_at timestamptz,
  accepted_user_id text
);
create index invitations_session_idx on invitations (session_id, created_at);
create index invitations_email_idx on invitations (session_id, lower(email));

create table invitation_sends (
  id bigserial primary key,
  session_id text not null references sessions (id) on delete cascade,
  invited_by text not null,
  at timestamptz not null
);
create index invitation_sends_inviter_idx on invitation_sends (invited_by, at);
create index invitation_sends_session_idx on invitation_sends (session_id, at);

create table outbox (
  id bigserial primary key,
  session_id text references sessions (id) on delete cascade,
  to_address text not null,
  subject text not null,
  text_body text not null,
  html_body text not null,
  link text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  error text
);
