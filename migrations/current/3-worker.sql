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
