-- Change what is given (nulls keep the value). Turning a webhook back on clears its failure streak.
update oriva.app_webhooks w
   set webhook_url = coalesce(:webhook_url, w.webhook_url),
       subscribed_events = coalesce(:subscribed_events, w.subscribed_events),
       is_active = coalesce(:is_active, w.is_active),
       disabled_reason = case when :is_active then null else w.disabled_reason end,
       consecutive_failures = case when :is_active and not w.is_active then 0 else w.consecutive_failures end,
       max_retries = coalesce(:max_retries, w.max_retries),
       retry_backoff_seconds = coalesce(:retry_backoff_seconds, w.retry_backoff_seconds),
       updated_at = now()
 where w.id = :id and w.app_id = :app_id
returning id, app_id, webhook_url, subscribed_events, is_active, disabled_reason, max_retries, retry_backoff_seconds,
          consecutive_failures, total_deliveries, total_failures, last_delivery_at, last_success_at, last_failure_at,
          created_at, updated_at
