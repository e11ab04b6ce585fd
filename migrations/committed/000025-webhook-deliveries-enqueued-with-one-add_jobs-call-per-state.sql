--! Previous: sha1:93d53952cdf3f40cde73dceeaf00f0f92c4d5206
--! Hash: sha1:90858bdead230425164ea6b3b1a832fdb11e14ee
--! Message: webhook deliveries enqueued with one add_jobs call per statement; enqueueing functions use generic plans

--! split: 1-current.sql
-- Webhook deliveries are enqueued with one graphile_worker.add_jobs call per statement instead of one
-- add_job per delivery. Each add_job call cost ~600 µs of Postgres: its statements take the job specs
-- as a parameter, so the plan cache planned them afresh on every call (custom plans). The fan-out
-- trigger now gathers each of its two queries' deliveries into one call (3,000 deliveries in one call:
-- ~17 µs each); a single delivery (a retry, a deferral, a replay) is a call with one, planned once
-- (force_generic_plan): ~270 µs. The other enqueueing functions keep one job per call and get the
-- generic plans too.
create or replace function oriva.enqueue_webhook_deliveries(webhook_ids uuid[], event_ids uuid[], attempt integer,
                                                            run_at timestamptz default null)
  returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
    select count(*)
      from graphile_worker.add_jobs(array(
        select row('webhook_deliver',
                   json_build_object('webhook_id', d.webhook_id, 'event_id', d.event_id, 'delivery_id', d.delivery_id,
                                     'attempt', attempt),
                   null, run_at,
                   -- our own retry schedule lives in the task; graphile-worker's attempts only cover a
                   -- worker that crashed or lost its database in the middle of an attempt
                   3,
                   oriva.webhook_delivery_job_key(d.delivery_id), null, null)::graphile_worker.job_spec
          from (select distinct on (u.webhook_id, u.event_id) u.webhook_id, u.event_id,
                       oriva.webhook_delivery_id(u.webhook_id, u.event_id) as delivery_id, u.ord
                  from unnest(webhook_ids, event_ids) with ordinality as u (webhook_id, event_id, ord)
                 order by u.webhook_id, u.event_id, u.ord) d
         order by d.ord));
  $$;
revoke all on function oriva.enqueue_webhook_deliveries(uuid[], uuid[], integer, timestamptz) from public;
grant execute on function oriva.enqueue_webhook_deliveries(uuid[], uuid[], integer, timestamptz) to oriva_api, oriva_system;

create or replace function oriva.enqueue_webhook_delivery(webhook_id uuid, event_id uuid, attempt integer,
                                                          run_at timestamptz default null)
  returns void
  language sql volatile
  set search_path = pg_catalog
  as $$
    select oriva.enqueue_webhook_deliveries(array[webhook_id], array[event_id], attempt, run_at);
  $$;

create or replace function oriva.tg_platform_events__enqueue_webhooks() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  perform oriva.enqueue_webhook_deliveries(array_agg(d.webhook_id order by d.seq, d.webhook_id),
                                           array_agg(d.event_id order by d.seq, d.webhook_id), 1)
  from (select w.id as webhook_id, e.id as event_id, e.seq
        from new_events e
        join oriva.app_webhooks w
          on w.app_id = e.app_id
         and w.is_active
         and oriva.webhook_hears(w.subscribed_events, e.event_category, e.event_type)
         and not (e.event_category = 'webhook' and e.entity_id = w.id::text)) d
  having count(*) > 0;
  if not exists (select 1 from new_events e where not oriva.is_reserved_category(e.event_category)) then
    return null;
  end if;
  perform oriva.enqueue_webhook_deliveries(array_agg(d.webhook_id order by d.seq, d.webhook_id),
                                           array_agg(d.event_id order by d.seq, d.webhook_id), 1)
  from (select w.id as webhook_id, e.id as event_id, e.seq
        from new_events e
        cross join lateral oriva.event_audience_apps(e.app_id, e.user_id, e.event_category) as hears (app_id)
        join oriva.app_webhooks w
          on w.app_id = hears.app_id
         and w.is_active
         and oriva.webhook_hears(w.subscribed_events, e.event_category, e.event_type)
        where not oriva.is_reserved_category(e.event_category)) d
  having count(*) > 0;
  return null;
end $$;

alter function oriva.add_job(text, json, timestamptz, text, integer) set plan_cache_mode = force_generic_plan;
alter function oriva.enqueue_email_digest(text, timestamptz, boolean) set plan_cache_mode = force_generic_plan;
alter function oriva.enqueue_broadcast_emails(uuid, text) set plan_cache_mode = force_generic_plan;
