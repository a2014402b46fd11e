-- Webhooks: endpoints a host registered (API key), and the durable outbox of deliveries to them.

-- An endpoint: where events are posted, the secret they are signed with (Standard Webhooks:
-- `whsec_` and the base64 of random bytes), and which events and sessions it wants (empty: all).
-- `failing` once a delivery gave up after a day of retries; the next success makes it active again.
create table webhook_endpoints (
  id text primary key,
  url text not null,
  secret text not null,
  events text[] not null default '{}',
  session_ids text[] not null default '{}',
  status text not null default 'active' check (status in ('active', 'failing')),
  failing_since timestamptz,
  last_error text,
  created_at timestamptz not null default now()
);

-- One event on its way to one endpoint: written in the transaction that made the event, so a
-- crash loses none. `id` is the `webhook-id` the receiver sees (the same on every retry, for
-- deduplication). A worker takes due rows with `for update skip locked` and moves
-- `next_attempt_at` past a lease while it works; null means due at once (never tried).
create table webhook_deliveries (
  id text primary key,
  endpoint_id text not null references webhook_endpoints (id) on delete cascade,
  event_type text not null,
  -- {type, timestamp, data}
  payload jsonb not null,
  created_at timestamptz not null default now(),
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  -- the HTTP status of the last attempt (null: no answer)
  last_status integer,
  last_error text,
  delivered_at timestamptz
);
create index webhook_deliveries_due on webhook_deliveries (endpoint_id, next_attempt_at nulls first, created_at) where status = 'pending';
create index webhook_deliveries_done on webhook_deliveries (created_at) where status <> 'pending';
