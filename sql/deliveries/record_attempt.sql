-- One attempt: its log row and the webhook's counters. Returns the failure count after it, or no
-- row when the webhook was deleted while the attempt was in flight (then nothing is written; the
-- key-share lock keeps a concurrent delete from slipping between this check and the insert).
with attempt as (
  insert into oriva.webhook_delivery_log
    (webhook_id, app_id, event_id, delivery_id, event_type, payload, status_code, response_body, response_headers,
     delivery_attempt, response_time_ms, success, error_message)
  select :webhook_id, :app_id, :event_id, :delivery_id, :event_type, :payload, :status_code, :response_body,
         :response_headers, :delivery_attempt, :response_time_ms, :success, :error_message
    from oriva.app_webhooks live
   where live.id = :webhook_id
     for key share
  returning webhook_id
)
update oriva.app_webhooks w
   set last_delivery_at = now(),
       last_success_at = case when :success then now() else w.last_success_at end,
       last_failure_at = case when :success then w.last_failure_at else now() end,
       consecutive_failures = case when :success then 0 else w.consecutive_failures + 1 end,
       total_deliveries = w.total_deliveries + 1,
       total_failures = w.total_failures + case when :success then 0 else 1 end
  from attempt
 where w.id = attempt.webhook_id
returning w.consecutive_failures, w.is_active
