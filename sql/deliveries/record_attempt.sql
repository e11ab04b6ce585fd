-- One attempt: its log row and the webhook's counters. Returns the failure count after it, or no
-- row when the webhook was deleted while the attempt was in flight (then nothing is written; the
-- key-share lock keeps a concurrent delete from slipping between this check and the insert).
-- $1 webhook_id, $2 app_id, $3 event_id, $4 delivery_id, $5 event_type, $6 payload, $7 status_code,
-- $8 response_body, $9 response_headers, $10 delivery_attempt, $11 response_time_ms, $12 success,
-- $13 error_message
with attempt as (
  insert into oriva.webhook_delivery_log
    (webhook_id, app_id, event_id, delivery_id, event_type, payload, status_code, response_body, response_headers,
     delivery_attempt, response_time_ms, success, error_message)
  select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
    from oriva.app_webhooks live
   where live.id = $1
     for key share
  returning webhook_id
)
update oriva.app_webhooks w
   set last_delivery_at = now(),
       last_success_at = case when $12 then now() else w.last_success_at end,
       last_failure_at = case when $12 then w.last_failure_at else now() end,
       consecutive_failures = case when $12 then 0 else w.consecutive_failures + 1 end,
       total_deliveries = w.total_deliveries + 1,
       total_failures = w.total_failures + case when $12 then 0 else 1 end
  from attempt
 where w.id = attempt.webhook_id
returning w.consecutive_failures, w.is_active
