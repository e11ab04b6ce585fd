-- An app's webhooks, never their secrets. $1 app_id
select id, app_id, webhook_url, subscribed_events, is_active, disabled_reason, max_retries, retry_backoff_seconds,
       consecutive_failures, total_deliveries, total_failures, last_delivery_at, last_success_at, last_failure_at,
       created_at, updated_at
from oriva.app_webhooks
where app_id = $1
order by created_at, id
