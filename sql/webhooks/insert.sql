-- $1 app_id, $2 url, $3 secret, $4 subscribed_events, $5 is_active, $6 max_retries, $7 retry_backoff_seconds
insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events, is_active, max_retries, retry_backoff_seconds)
values ($1, $2, $3, $4, $5, coalesce($6, 5), coalesce($7, 1))
returning id, app_id, webhook_url, subscribed_events, is_active, disabled_reason, max_retries, retry_backoff_seconds,
          consecutive_failures, total_deliveries, total_failures, last_delivery_at, last_success_at, last_failure_at,
          created_at, updated_at
