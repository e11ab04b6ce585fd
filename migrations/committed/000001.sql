--! Previous: -
--! Hash: sha1:d27c9703f736c833fbcf97ad01073e296ce6e0a5

-- Oriva Events & Notifications: base schema.
-- Roles: the login that runs migrations owns every object. Two group roles are used at run time:
--   oriva_api     the REST API (SET ROLE on every pooled connection): table rights it needs, no DDL,
--                 rows limited by row-level security to the acting app / user of the transaction.
--   oriva_system  worker, gateway and operator CLI: a policy that sees every row, still no DDL.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'oriva_api') then
    create role oriva_api nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'oriva_system') then
    create role oriva_system nologin;
  end if;
end $$;
grant oriva_api to current_user;
grant oriva_system to current_user;

drop schema if exists oriva cascade;
create schema oriva;
grant usage on schema oriva to oriva_api, oriva_system;

-- Who is acting in this transaction (set with set_config(..., true) by the API per transaction).
create function oriva.acting_app_id() returns text
  language sql stable parallel safe
  as $$ select nullif(current_setting('oriva.app_id', true), '') $$;
create function oriva.acting_user_id() returns text
  language sql stable parallel safe
  as $$ select nullif(current_setting('oriva.user_id', true), '') $$;
create function oriva.acting_as_platform() returns boolean
  language sql stable parallel safe
  as $$ select coalesce(current_setting('oriva.platform', true), '') = 'on' $$;

-- Opaque user ids: UUIDs, 'user_456', emails.
create domain oriva.user_id as text
  check (value ~ '^[A-Za-z0-9_.:@-]{1,128}$');

------------------------------------------------------------------------------------------------
-- Apps and their API keys
------------------------------------------------------------------------------------------------
create table oriva.apps (
  id          text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name        text not null check (length(name) between 1 and 100),
  icon_url    text check (icon_url is null or length(icon_url) <= 2048),
  is_platform boolean not null default false,
  is_active   boolean not null default true,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

-- Keys are stored as SHA-256 digests; the plaintext is shown once by `oriva apps create`.
create table oriva.api_keys (
  id         uuid primary key default gen_random_uuid(),
  app_id     text not null references oriva.apps (id) on delete cascade,
  key_hash   bytea not null unique check (octet_length(key_hash) = 32),
  prefix     text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz -- null: live; in the future: live until then (rotation grace)
);
create index api_keys_app_idx on oriva.api_keys (app_id);

------------------------------------------------------------------------------------------------
-- Events: the log every transport resumes from
------------------------------------------------------------------------------------------------
create table oriva.platform_events (
  id             uuid primary key default gen_random_uuid(),
  seq            bigint generated always as identity unique,
  -- the writing transaction: lets readers tell which seqs may still be uncommitted
  tx_id          xid8 not null default pg_current_xact_id(),
  app_id         text not null references oriva.apps (id) on delete cascade,
  user_id        oriva.user_id not null,
  event_category text not null check (event_category ~ '^[a-z][a-z0-9_]{0,63}$'),
  event_type     text not null check (event_type ~ '^[a-z][a-z0-9_]{0,63}$'),
  entity_type    text not null check (length(entity_type) between 1 and 64),
  entity_id      text not null check (length(entity_id) between 1 and 255),
  event_data     jsonb not null default '{}'::jsonb,
  ip_address     inet,
  user_agent     text check (user_agent is null or length(user_agent) <= 512),
  created_at     timestamptz not null default now()
);
create index platform_events_app_created_idx on oriva.platform_events (app_id, created_at desc, seq desc);
create index platform_events_app_user_idx on oriva.platform_events (app_id, user_id, seq desc);
create index platform_events_app_category_idx on oriva.platform_events (app_id, event_category, event_type, seq desc);
create index platform_events_entity_idx on oriva.platform_events (entity_type, entity_id);
create index platform_events_user_seq_idx on oriva.platform_events (user_id, seq);
create index platform_events_created_idx on oriva.platform_events (created_at);

------------------------------------------------------------------------------------------------
-- Notifications and their per-user state
------------------------------------------------------------------------------------------------
create table oriva.platform_notifications (
  id                uuid primary key default gen_random_uuid(),
  app_id            text not null references oriva.apps (id) on delete cascade,
  external_id       text not null check (length(external_id) between 1 and 255),
  user_id           oriva.user_id not null,
  notification_type text not null check (length(notification_type) between 1 and 64),
  title             text not null check (length(title) between 1 and 200),
  body              text not null check (length(body) between 1 and 1000),
  action_url        text check (action_url is null or length(action_url) <= 2048),
  action_label      text check (action_label is null or length(action_label) <= 100),
  image_url         text check (image_url is null or length(image_url) <= 2048),
  icon_url          text check (icon_url is null or length(icon_url) <= 2048),
  context_data      jsonb not null default '{}'::jsonb,
  priority          text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
  -- sort key for the feed: urgent first
  priority_rank     smallint generated always as (
                      case priority when 'urgent' then 3 when 'high' then 2 when 'normal' then 1 else 0 end
                    ) stored,
  expires_at        timestamptz,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  constraint platform_notifications_app_external_key unique (app_id, external_id)
);
create index platform_notifications_feed_idx
  on oriva.platform_notifications (user_id, priority_rank desc, created_at desc, id desc);
create index platform_notifications_app_user_idx on oriva.platform_notifications (app_id, user_id, created_at desc);
create index platform_notifications_expires_idx on oriva.platform_notifications (expires_at) where expires_at is not null;
create index platform_notifications_created_idx on oriva.platform_notifications (created_at);

create table oriva.notification_state (
  id              uuid primary key default gen_random_uuid(),
  notification_id uuid not null references oriva.platform_notifications (id) on delete cascade,
  -- copied from the notification so row-level security needs no join
  app_id          text not null references oriva.apps (id) on delete cascade,
  user_id         oriva.user_id not null,
  status          text not null default 'unread'
                  check (status in ('unread', 'read', 'clicked', 'dismissed', 'expired')),
  sent_at         timestamptz,
  delivered_at    timestamptz,
  read_at         timestamptz,
  clicked_at      timestamptz,
  dismissed_at    timestamptz,
  expired_at      timestamptz,
  dismissed_from  text check (dismissed_from is null or length(dismissed_from) <= 64),
  click_action    text check (click_action is null or length(click_action) <= 255),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  constraint notification_state_notification_user_key unique (notification_id, user_id)
);
create index notification_state_user_status_idx on oriva.notification_state (user_id, status);

------------------------------------------------------------------------------------------------
-- Webhooks
------------------------------------------------------------------------------------------------
create table oriva.app_webhooks (
  id                         uuid primary key default gen_random_uuid(),
  app_id                     text not null references oriva.apps (id) on delete cascade,
  webhook_url                text not null check (length(webhook_url) <= 2048),
  webhook_secret             text not null,
  -- during a rotation the previous secret keeps signing until previous_secret_expires_at
  previous_secret            text,
  previous_secret_expires_at timestamptz,
  subscribed_events          text[] not null check (cardinality(subscribed_events) between 1 and 100),
  is_active                  boolean not null default true,
  disabled_reason            text,
  last_delivery_at           timestamptz,
  last_success_at            timestamptz,
  last_failure_at            timestamptz,
  consecutive_failures       integer not null default 0,
  total_deliveries           bigint not null default 0,
  total_failures             bigint not null default 0,
  max_retries                integer not null default 5 check (max_retries between 0 and 20),
  retry_backoff_seconds      integer not null default 1 check (retry_backoff_seconds between 1 and 3600),
  created_at                 timestamptz not null default now(),
  updated_at                 timestamptz not null default now()
);
create index app_webhooks_app_idx on oriva.app_webhooks (app_id) where is_active;

-- One row per attempt. delivery_id is the Standard Webhooks `webhook-id`: the same on every retry
-- and replay of one event to one webhook.
create table oriva.webhook_delivery_log (
  id               uuid primary key default gen_random_uuid(),
  webhook_id       uuid not null references oriva.app_webhooks (id) on delete cascade,
  app_id           text not null references oriva.apps (id) on delete cascade,
  event_id         uuid, -- no foreign key: the event may have been archived
  delivery_id      text not null,
  event_type       text not null,
  payload          jsonb not null,
  status_code      integer,
  response_body    text,
  response_headers jsonb,
  delivery_attempt integer not null default 1,
  delivered_at     timestamptz not null default now(),
  response_time_ms integer,
  success          boolean not null,
  error_message    text
);
create index webhook_delivery_log_webhook_idx on oriva.webhook_delivery_log (webhook_id, delivered_at desc);
create index webhook_delivery_log_delivery_idx on oriva.webhook_delivery_log (delivery_id);
create index webhook_delivery_log_delivered_idx on oriva.webhook_delivery_log (delivered_at);

------------------------------------------------------------------------------------------------
-- Archives (rows older than RETENTION_DAYS are moved here by the worker)
------------------------------------------------------------------------------------------------
create table oriva.platform_events_archive (
  like oriva.platform_events,
  archived_at timestamptz not null default now(),
  primary key (id)
);
create table oriva.platform_notifications_archive (
  like oriva.platform_notifications excluding generated,
  status      text,
  archived_at timestamptz not null default now(),
  primary key (id)
);

------------------------------------------------------------------------------------------------
-- Real time: every committed event is announced on channel 'oriva_events'.
-- The payload is the event when it fits in NOTIFY's 8000 bytes, else a reference {seq, ref: true};
-- listeners read the table for references and after every reconnect (the table is the truth).
------------------------------------------------------------------------------------------------
create function oriva.tg_platform_events__notify() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  payload text;
begin
  payload := json_build_object(
    'seq', new.seq, 'tx_id', new.tx_id::text, 'id', new.id, 'app_id', new.app_id, 'user_id', new.user_id,
    'event_category', new.event_category, 'event_type', new.event_type,
    'entity_type', new.entity_type, 'entity_id', new.entity_id,
    'event_data', new.event_data, 'created_at', new.created_at)::text;
  if octet_length(payload) >= 7900 then
    payload := json_build_object('seq', new.seq, 'tx_id', new.tx_id::text, 'app_id', new.app_id,
                                 'user_id', new.user_id, 'ref', true)::text;
  end if;
  perform pg_notify('oriva_events', payload);
  return null;
end $$;
create trigger _900_notify after insert on oriva.platform_events
  for each row execute function oriva.tg_platform_events__notify();

------------------------------------------------------------------------------------------------
-- Jobs: the API enqueues graphile-worker jobs in its own transaction through this wrapper, so the
-- runtime role needs no rights on graphile_worker's tables.
------------------------------------------------------------------------------------------------
create function oriva.add_job(identifier text, payload json, run_at timestamptz default null,
                              job_key text default null, max_attempts integer default null)
  returns void
  language sql volatile security definer
  set search_path = pg_catalog
  as $$
    select graphile_worker.add_job(identifier, payload, run_at := run_at, job_key := job_key,
                                   max_attempts := max_attempts);
  $$;
revoke all on function oriva.add_job(text, json, timestamptz, text, integer) from public;
grant execute on function oriva.add_job(text, json, timestamptz, text, integer) to oriva_api, oriva_system;

------------------------------------------------------------------------------------------------
-- Privileges and row-level security
------------------------------------------------------------------------------------------------
grant select on oriva.apps, oriva.api_keys to oriva_api;
grant select, insert, update, delete on
  oriva.platform_events, oriva.platform_notifications, oriva.notification_state,
  oriva.app_webhooks, oriva.webhook_delivery_log
  to oriva_api;
grant select, insert, update, delete on all tables in schema oriva to oriva_system;

alter table oriva.platform_events enable row level security;
alter table oriva.platform_events force row level security;
alter table oriva.platform_notifications enable row level security;
alter table oriva.platform_notifications force row level security;
alter table oriva.notification_state enable row level security;
alter table oriva.notification_state force row level security;
alter table oriva.app_webhooks enable row level security;
alter table oriva.app_webhooks force row level security;
alter table oriva.webhook_delivery_log enable row level security;
alter table oriva.webhook_delivery_log force row level security;

-- A user sees their own rows from every app; an app its own rows; a platform app acts for anyone.
create policy api_tenant on oriva.platform_events to oriva_api
  using (app_id = oriva.acting_app_id() or user_id = oriva.acting_user_id() or oriva.acting_as_platform())
  with check (app_id = oriva.acting_app_id() or user_id = oriva.acting_user_id() or oriva.acting_as_platform());
create policy api_tenant on oriva.platform_notifications to oriva_api
  using (app_id = oriva.acting_app_id() or user_id = oriva.acting_user_id() or oriva.acting_as_platform())
  with check (app_id = oriva.acting_app_id() or user_id = oriva.acting_user_id() or oriva.acting_as_platform());
create policy api_tenant on oriva.notification_state to oriva_api
  using (app_id = oriva.acting_app_id() or user_id = oriva.acting_user_id() or oriva.acting_as_platform())
  with check (app_id = oriva.acting_app_id() or user_id = oriva.acting_user_id() or oriva.acting_as_platform());
-- Webhooks belong to their app alone.
create policy api_tenant on oriva.app_webhooks to oriva_api
  using (app_id = oriva.acting_app_id()) with check (app_id = oriva.acting_app_id());
create policy api_tenant on oriva.webhook_delivery_log to oriva_api
  using (app_id = oriva.acting_app_id()) with check (app_id = oriva.acting_app_id());

create policy system_all on oriva.platform_events to oriva_system using (true) with check (true);
create policy system_all on oriva.platform_notifications to oriva_system using (true) with check (true);
create policy system_all on oriva.notification_state to oriva_system using (true) with check (true);
create policy system_all on oriva.app_webhooks to oriva_system using (true) with check (true);
create policy system_all on oriva.webhook_delivery_log to oriva_system using (true) with check (true);

-- /readyz (running as oriva_api) checks that the newest committed migration has been applied.
grant usage on schema graphile_migrate to oriva_api;
grant select on graphile_migrate.migrations to oriva_api;
