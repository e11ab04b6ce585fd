-- Many successful attempts at once (the worker groups those that finish together): their log rows,
-- and each webhook's counters updated once per batch, not once per attempt — the webhook row is
-- the hot spot when many deliveries go to one endpoint. An attempt whose webhook was deleted while it
-- was in flight is left out (the key-share lock keeps a concurrent delete from slipping in), so it
-- cannot fail the batch; the ids of the webhooks recorded are returned. One array per column, a
-- value per attempt.
with attempt as (
  insert into oriva.webhook_delivery_log
    (webhook_id, app_id, event_id, delivery_id, event_type, payload, status_code, response_body, response_headers,
     delivery_attempt, response_time_ms, success)
  select a.webhook_id, a.app_id, a.event_id, a.delivery_id, a.event_type, a.payload, a.status_code, a.response_body,
         a.response_headers, a.delivery_attempt, a.response_time_ms, true
    from unnest(:webhook_id::uuid[], :app_id::text[], :event_id::uuid[], :delivery_id::text[], :event_type::text[],
                :payload::jsonb[], :status_code::int[], :response_body::text[], :response_headers::jsonb[],
                :delivery_attempt::int[], :response_time_ms::int[])
      as a (webhook_id, app_id, event_id, delivery_id, event_type, payload, status_code, response_body, response_headers,
            delivery_attempt, response_time_ms)
    join oriva.app_webhooks live on live.id = a.webhook_id
     for key share of live
  returning webhook_id
), per_webhook as (
  select webhook_id, count(*) as n from attempt group by webhook_id
)
update oriva.app_webhooks w
   set last_delivery_at = now(),
       last_success_at = now(),
       consecutive_failures = 0,
       total_deliveries = w.total_deliveries + p.n
  from per_webhook p
 where w.id = p.webhook_id
returning w.id
