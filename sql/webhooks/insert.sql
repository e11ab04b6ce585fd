-- A new webhook of :app_id, unless the app already has :max_webhooks (then no row is inserted and
-- none returned; sql/webhooks/lock_app.sql serialises an app's concurrent creates first). Null
-- max_retries / retry_backoff_seconds take the defaults.
insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events, is_active, max_retries, retry_backoff_seconds)
select :app_id, :webhook_url, :webhook_secret, :subscribed_events, :is_active, coalesce(:max_retries, 5), coalesce(:retry_backoff_seconds, 1)
 where (select count(*) from oriva.app_webhooks where app_id = :app_id) < :max_webhooks
returning id, app_id, webhook_url, subscribed_events, is_active, disabled_reason, max_retries, retry_backoff_seconds,
          consecutive_failures, total_deliveries, total_failures, last_delivery_at, last_success_at, last_failure_at,
          created_at, updated_at
