--! Previous: sha1:1c388ad3877248646e3395de6b0b19a036e6f517
--! Hash: sha1:ab085da69b8b6c2269fb0216b991231bd501c786
--! Message: webhook delivery attempts enqueued in one add_jobs call, each with its own attempt number and time

--! split: 1-current.sql
-- Webhook delivery attempts enqueued in one add_jobs call, each with its own attempt number and time:
-- the worker's deferrals that happen together (worker/deliveries/defer-batch.ts) were one add_jobs
-- call each, inside one statement. enqueue_webhook_deliveries (one attempt number and time for all,
-- the fan-out trigger's) is the same with those repeated.
create or replace function oriva.enqueue_webhook_attempts(webhook_ids uuid[], event_ids uuid[], attempts integer[],
                                                          run_ats timestamptz[] default null)
  returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
    select count(*)
      from graphile_worker.add_jobs(array(
        select row('webhook_deliver',
                   json_build_object('webhook_id', d.webhook_id, 'event_id', d.event_id, 'delivery_id', d.delivery_id,
                                     'attempt', attempts[d.ord]),
                   null, run_ats[d.ord],
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
revoke all on function oriva.enqueue_webhook_attempts(uuid[], uuid[], integer[], timestamptz[]) from public;
grant execute on function oriva.enqueue_webhook_attempts(uuid[], uuid[], integer[], timestamptz[]) to oriva_api, oriva_system;

create or replace function oriva.enqueue_webhook_deliveries(webhook_ids uuid[], event_ids uuid[], attempt integer,
                                                            run_at timestamptz default null)
  returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set plan_cache_mode = force_generic_plan
  as $$
    select oriva.enqueue_webhook_attempts(webhook_ids, event_ids, array_fill(attempt, array[cardinality(webhook_ids)]),
                                          array_fill(run_at, array[cardinality(webhook_ids)]));
  $$;
