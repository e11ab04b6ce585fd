--! Previous: sha1:d27c9703f736c833fbcf97ad01073e296ce6e0a5
--! Hash: sha1:4e3b943f4abe460fea4d69d5bd1482800b7cf6e4
--! Message: REST API, worker and gateway tables

--! split: 1-readme.sql
-- Work-in-progress schema changes, one idempotent file per area (2-api.sql, 3-worker.sql, 4-gateway.sql).
-- The test suite applies them on top of the committed migrations; `graphile-migrate commit` turns
-- them into the next committed migration before the work lands.

--! split: 2-api.sql
-- REST API: idempotency keys, the Postgres-backed rate-limit counters koa-ratelimit uses, and the
-- owner look-ups that let the API answer 403 (not 404) for another tenant's object.
-- Idempotent: safe to run again on top of itself.

------------------------------------------------------------------------------------------------
-- Idempotency-Key: the stored response of a successful POST, per app and key, kept 24 hours.
------------------------------------------------------------------------------------------------
create table if not exists oriva.idempotency_keys (
  app_id        text not null references oriva.apps (id) on delete cascade,
  key           text not null check (length(key) between 1 and 255),
  request_hash  text not null,
  response_status integer,
  response_body jsonb,
  created_at    timestamptz not null default now(),
  primary key (app_id, key)
);
create index if not exists idempotency_keys_created_idx on oriva.idempotency_keys (created_at);

grant select, insert, update, delete on oriva.idempotency_keys to oriva_api;
grant select, insert, update, delete on oriva.idempotency_keys to oriva_system;
alter table oriva.idempotency_keys enable row level security;
alter table oriva.idempotency_keys force row level security;
drop policy if exists api_tenant on oriva.idempotency_keys;
create policy api_tenant on oriva.idempotency_keys to oriva_api
  using (app_id = oriva.acting_app_id()) with check (app_id = oriva.acting_app_id());
drop policy if exists system_all on oriva.idempotency_keys;
create policy system_all on oriva.idempotency_keys to oriva_system using (true) with check (true);

------------------------------------------------------------------------------------------------
-- Rate limits shared by every server process: one counter per key and window. A window starts at
-- the first hit after the previous one ended (like koa-ratelimit's memory driver). The counter is
-- written with synchronous_commit off: losing the last hits of a crash is fine for a rate limit,
-- and a hot key then holds its row lock for microseconds, not a WAL flush.
------------------------------------------------------------------------------------------------
create unlogged table if not exists oriva.rate_limit_counters (
  key          text primary key,
  window_start timestamptz not null,
  window_end   timestamptz not null,
  hits         bigint not null
);
create index if not exists rate_limit_counters_end_idx on oriva.rate_limit_counters (window_end);
revoke all on oriva.rate_limit_counters from oriva_api;

-- Take `cost` hits on `key`. Returns the hits that were left before this call (0: limited; the
-- hits are then not counted) and when the window ends.
create or replace function oriva.rate_limit_take(p_key text, p_duration_ms bigint, p_max bigint, p_cost bigint default 1)
  returns table (remaining bigint, reset_at timestamptz)
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  now_ts timestamptz := clock_timestamp();
  counter oriva.rate_limit_counters;
begin
  perform set_config('synchronous_commit', 'off', true);
  insert into oriva.rate_limit_counters as c (key, window_start, window_end, hits)
  values (p_key, now_ts, now_ts + make_interval(secs => p_duration_ms / 1000.0), 0)
  on conflict (key) do update
    set window_start = case when c.window_end <= now_ts then excluded.window_start else c.window_start end,
        window_end   = case when c.window_end <= now_ts then excluded.window_end else c.window_end end,
        hits         = case when c.window_end <= now_ts then 0 else c.hits end
  returning * into counter;
  remaining := greatest(p_max - counter.hits, 0);
  reset_at := counter.window_end;
  if remaining >= p_cost then
    update oriva.rate_limit_counters set hits = hits + p_cost where key = p_key;
  else
    remaining := 0;
  end if;
  return next;
end $$;
revoke all on function oriva.rate_limit_take(text, bigint, bigint, bigint) from public;
grant execute on function oriva.rate_limit_take(text, bigint, bigint, bigint) to oriva_api;

------------------------------------------------------------------------------------------------
-- Who owns an object, whatever row-level security lets the caller see: only used after a scoped
-- query found nothing, to tell "not yours" (403) from "does not exist" (404).
------------------------------------------------------------------------------------------------
create or replace function oriva.notification_owner(p_id uuid)
  returns table (app_id text, user_id text)
  language sql stable security definer
  set search_path = pg_catalog
  as $$ select n.app_id, n.user_id::text from oriva.platform_notifications n where n.id = p_id $$;
revoke all on function oriva.notification_owner(uuid) from public;
grant execute on function oriva.notification_owner(uuid) to oriva_api;

create or replace function oriva.webhook_owner(p_id uuid)
  returns text
  language sql stable security definer
  set search_path = pg_catalog
  as $$ select w.app_id from oriva.app_webhooks w where w.id = p_id $$;
revoke all on function oriva.webhook_owner(uuid) from public;
grant execute on function oriva.webhook_owner(uuid) to oriva_api;

------------------------------------------------------------------------------------------------
-- The feed's counts (unread_count, total) from notification_state alone: expires_at is copied
-- from the notification when the state row is created (it never changes afterwards), so counting
-- a user's 10,000 notifications is an index-only scan instead of 10,000 joins.
------------------------------------------------------------------------------------------------
alter table oriva.notification_state add column if not exists expires_at timestamptz;
update oriva.notification_state s set expires_at = n.expires_at
  from oriva.platform_notifications n
 where n.id = s.notification_id and s.expires_at is distinct from n.expires_at;
drop index if exists oriva.notification_state_user_status_app_idx;
create index if not exists notification_state_counts_idx
  on oriva.notification_state (user_id, status, app_id) include (expires_at);

--! split: 3-worker.sql
-- Worker: webhook fan-out trigger, stable delivery ids, worker heartbeats (crash recovery), and the
-- rights the worker's runtime role needs. Idempotent: safe to run again on top of itself.

------------------------------------------------------------------------------------------------
-- Delivery ids: the Standard Webhooks `webhook-id` of one event to one webhook. Derived, so every
-- retry and replay (and a re-run of the fan-out) carries the same id.
------------------------------------------------------------------------------------------------
create or replace function oriva.webhook_delivery_id(webhook_id uuid, event_id uuid) returns text
  language sql immutable parallel safe strict
  set search_path = pg_catalog
  as $$
    select 'msg_' || left(encode(sha256(convert_to(webhook_id::text || ':' || event_id::text, 'UTF8')), 'hex'), 32)
  $$;
grant execute on function oriva.webhook_delivery_id(uuid, uuid) to oriva_api, oriva_system;

-- The graphile-worker job key of a delivery: at most one pending attempt per delivery, so a
-- replay or a retry scheduled twice replaces instead of duplicating.
create or replace function oriva.webhook_delivery_job_key(delivery_id text) returns text
  language sql immutable parallel safe strict
  set search_path = pg_catalog
  as $$ select 'webhook_deliver:' || delivery_id $$;
grant execute on function oriva.webhook_delivery_job_key(text) to oriva_api, oriva_system;

-- Enqueue one delivery attempt (also used by retries and replays).
create or replace function oriva.enqueue_webhook_delivery(webhook_id uuid, event_id uuid, attempt integer,
                                                         run_at timestamptz default null)
  returns void
  language sql volatile
  set search_path = pg_catalog
  as $$
    select oriva.add_job(
      'webhook_deliver',
      json_build_object('webhook_id', webhook_id, 'event_id', event_id,
                        'delivery_id', oriva.webhook_delivery_id(webhook_id, event_id), 'attempt', attempt),
      run_at := run_at,
      job_key := oriva.webhook_delivery_job_key(oriva.webhook_delivery_id(webhook_id, event_id)),
      -- our own retry schedule lives in the task; graphile-worker's attempts only cover a worker
      -- that crashed or lost its database in the middle of an attempt
      max_attempts := 3);
  $$;
revoke all on function oriva.enqueue_webhook_delivery(uuid, uuid, integer, timestamptz) from public;
grant execute on function oriva.enqueue_webhook_delivery(uuid, uuid, integer, timestamptz) to oriva_api, oriva_system;

------------------------------------------------------------------------------------------------
-- Fan-out: in the inserting transaction, one job per active webhook of the event's app whose
-- patterns match. Events without a consumer cost no job. Runs as oriva_system (security definer,
-- owned by that role) so it sees the app's webhooks whoever inserts the event (an app, a user
-- dismissing from Oriva Core, the worker expiring a notification).
------------------------------------------------------------------------------------------------
create or replace function oriva.tg_platform_events__enqueue_webhooks() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  hook uuid;
begin
  for hook in
    select w.id from oriva.app_webhooks w
     where w.app_id = new.app_id
       and w.is_active
       and w.subscribed_events && array['*', new.event_category || '.*', new.event_category || '.' || new.event_type]
  loop
    perform oriva.enqueue_webhook_delivery(hook, new.id, 1);
  end loop;
  return null;
end $$;
-- Changing the owner needs CREATE on the schema for the new owner; granted only for that moment.
grant create on schema oriva to oriva_system;
alter function oriva.tg_platform_events__enqueue_webhooks() owner to oriva_system;
revoke create on schema oriva from oriva_system;

drop trigger if exists _500_enqueue_webhooks on oriva.platform_events;
create trigger _500_enqueue_webhooks after insert on oriva.platform_events
  for each row execute function oriva.tg_platform_events__enqueue_webhooks();

------------------------------------------------------------------------------------------------
-- Worker heartbeats: every worker process beats for its graphile-worker ids; jobs locked by an id
-- that stopped beating (a SIGKILLed or frozen process) are unlocked by the live workers, instead of
-- waiting for graphile-worker's 4-hour lock expiry.
------------------------------------------------------------------------------------------------
create table if not exists oriva.worker_heartbeats (
  worker_id  text primary key,
  hostname   text not null,
  pid        integer not null,
  started_at timestamptz not null default now(),
  beat_at    timestamptz not null default now()
);
grant select, insert, update, delete on oriva.worker_heartbeats to oriva_system;

-- Unlock the jobs of workers whose heartbeat is older than stale_after (or that never beat) and
-- that have held their lock at least that long. Returns the worker ids that were unlocked.
create or replace function oriva.unlock_dead_workers(stale_after interval) returns text[]
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  dead text[];
begin
  select coalesce(array_agg(distinct j.locked_by), '{}') into dead
    from graphile_worker._private_jobs j
   where j.locked_by is not null
     and j.locked_at < now() - stale_after
     and not exists (select 1 from oriva.worker_heartbeats h
                      where h.worker_id = j.locked_by and h.beat_at > now() - stale_after);
  if cardinality(dead) > 0 then
    perform graphile_worker.force_unlock_workers(dead);
  end if;
  delete from oriva.worker_heartbeats where beat_at < now() - greatest(stale_after * 10, interval '1 hour');
  return dead;
end $$;
revoke all on function oriva.unlock_dead_workers(interval) from public;
grant execute on function oriva.unlock_dead_workers(interval) to oriva_system;

------------------------------------------------------------------------------------------------
-- Operator views for `npx oriva jobs` (queue depth and failures) without rights on graphile_worker.
------------------------------------------------------------------------------------------------
create or replace function oriva.job_queue_summary()
  returns table (task_identifier text, ready bigint, scheduled bigint, running bigint, retrying bigint, failed bigint,
                 oldest_ready_at timestamptz)
  language sql stable security definer
  set search_path = pg_catalog
  as $$
    select t.identifier,
           count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts and j.run_at <= now()),
           count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts and j.run_at > now()),
           count(*) filter (where j.locked_at is not null),
           count(*) filter (where j.locked_at is null and j.attempts > 0 and j.attempts < j.max_attempts),
           count(*) filter (where j.attempts >= j.max_attempts),
           min(j.run_at) filter (where j.locked_at is null and j.attempts < j.max_attempts and j.run_at <= now())
      from graphile_worker._private_jobs j
      join graphile_worker._private_tasks t on t.id = j.task_id
     group by t.identifier
     order by t.identifier
  $$;
revoke all on function oriva.job_queue_summary() from public;
grant execute on function oriva.job_queue_summary() to oriva_system;

create or replace function oriva.failed_jobs(max_rows integer)
  returns table (id bigint, task_identifier text, payload json, attempts smallint, last_error text, updated_at timestamptz)
  language sql stable security definer
  set search_path = pg_catalog
  as $$
    select j.id, t.identifier, j.payload, j.attempts, j.last_error, j.updated_at
      from graphile_worker._private_jobs j
      join graphile_worker._private_tasks t on t.id = j.task_id
     where j.attempts >= j.max_attempts
     order by j.updated_at desc
     limit max_rows
  $$;
revoke all on function oriva.failed_jobs(integer) from public;
grant execute on function oriva.failed_jobs(integer) to oriva_system;

------------------------------------------------------------------------------------------------
-- Archival: the worker moves old rows; the archive tables need its rights (granted in 000001 for
-- all tables at that time) and delivery-log pruning needs an index on delivered_at (exists).
------------------------------------------------------------------------------------------------
grant select, insert, update, delete on oriva.platform_events_archive, oriva.platform_notifications_archive to oriva_system;

--! split: 4-gateway.sql
-- Real-time gateway (issue 5). Idempotent: the test suite and `graphile-migrate watch` re-run it.

------------------------------------------------------------------------------------------------
-- Gap-free resume needs: "a transaction holding seq s already had its xid when s was allocated".
-- The identity default (seq) is evaluated before the tx_id default assigns the xid, so an
-- event insert that is its transaction's first write would take its seq with no xid yet. This
-- trigger allocates the seq again after making sure the xid exists. The identity value taken
-- by the default is skipped (seq stays monotonic, never dense). See gateway/listener.ts.
------------------------------------------------------------------------------------------------
create or replace function oriva.tg_platform_events__seq_after_xid() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  perform pg_current_xact_id();
  new.seq := nextval('oriva.platform_events_seq_seq'::regclass);
  return new;
end $$;
drop trigger if exists _010_seq_after_xid on oriva.platform_events;
create trigger _010_seq_after_xid before insert on oriva.platform_events
  for each row execute function oriva.tg_platform_events__seq_after_xid();

-- "Is this resume point older than what can be replayed?" = is there an archived event after it.
create index if not exists platform_events_archive_seq_idx on oriva.platform_events_archive (seq);

------------------------------------------------------------------------------------------------
-- Connection registry: WebSocket connections per user across every gateway instance.
-- An instance heartbeats; one that stops (crash) no longer counts once its heartbeat is stale,
-- and the next heartbeat of any instance deletes it with its connections.
------------------------------------------------------------------------------------------------
create table if not exists oriva.gateway_instances (
  id           uuid primary key,
  started_at   timestamptz not null default now(),
  heartbeat_at timestamptz not null default now()
);

create table if not exists oriva.gateway_connections (
  id          uuid primary key,
  instance_id uuid not null references oriva.gateway_instances (id) on delete cascade,
  user_id     oriva.user_id not null,
  opened_at   timestamptz not null default now()
);
create index if not exists gateway_connections_user_idx on oriva.gateway_connections (user_id);
create index if not exists gateway_connections_instance_idx on oriva.gateway_connections (instance_id);

-- Register a connection unless the user already has max_per_user live ones. Serialized per user by
-- a transaction-level advisory lock, so two instances admitting at once cannot both pass.
create or replace function oriva.gateway_admit(p_instance uuid, p_connection uuid, p_user text,
                                               p_max integer, p_stale_ms integer)
  returns boolean
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  live integer;
begin
  perform pg_advisory_xact_lock(hashtextextended('oriva.gateway_connections:' || p_user, 0));
  select count(*) into live
  from oriva.gateway_connections c
  join oriva.gateway_instances i on i.id = c.instance_id
  where c.user_id = p_user
    and i.heartbeat_at > now() - make_interval(secs => p_stale_ms / 1000.0);
  if live >= p_max then
    return false;
  end if;
  insert into oriva.gateway_connections (id, instance_id, user_id) values (p_connection, p_instance, p_user);
  return true;
end $$;

grant select, insert, update, delete on oriva.gateway_instances, oriva.gateway_connections to oriva_system;
revoke all on function oriva.gateway_admit(uuid, uuid, text, integer, integer) from public;
grant execute on function oriva.gateway_admit(uuid, uuid, text, integer, integer) to oriva_system;
