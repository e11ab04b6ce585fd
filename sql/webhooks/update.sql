-- Change what is given (nulls keep the value). Turning a webhook back on clears its failure streak.
-- $1 id, $2 app_id, $3 url, $4 subscribed_events, $5 is_active, $6 max_retries, $7 retry_backoff_seconds
update oriva.app_webhooks w
   set webhook_url = coalesce($3, w.webhook_url),
       subscribed_events = coalesce($4, w.subscribed_events),
       is_active = coalesce($5, w.is_active),
       disabled_reason = case when $5 then null else w.disabled_reason end,
       consecutive_failures = case when $5 and not w.is_active then 0 else w.consecutive_failures end,
       max_retries = coalesce($6, w.max_retries),
       retry_backoff_seconds = coalesce($7, w.retry_backoff_seconds),
       updated_at = now()
 where w.id = $1 and w.app_id = $2
returning id, app_id, webhook_url, subscribed_events, is_active, disabled_reason, max_retries, retry_backoff_seconds,
          consecutive_failures, total_deliveries, total_failures, last_delivery_at, last_success_at, last_failure_at,
          created_at, updated_at
