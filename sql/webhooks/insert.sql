-- $1 app_id, $2 url, $3 secret, $4 subscribed_events, $5 is_active, $6 max_retries, $7 retry_backoff_seconds,
-- $8 the most webhooks the app may have (no row is inserted, and none returned, when it has that many;
-- sql/webhooks/lock_app.sql serialises an app's concurrent creates first).
insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events, is_active, max_retries, retry_backoff_seconds)
select $1, $2, $3, $4, $5, coalesce($6, 5), coalesce($7, 1)
 where (select count(*) from oriva.app_webhooks where app_id = $1) < $8
returning id, app_id, webhook_url, subscribed_events, is_active, disabled_reason, max_retries, retry_backoff_seconds,
          consecutive_failures, total_deliveries, total_failures, last_delivery_at, last_success_at, last_failure_at,
          created_at, updated_at
