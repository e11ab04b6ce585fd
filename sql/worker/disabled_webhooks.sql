-- Webhooks that delivery stopped using, newest first.
select id, app_id, webhook_url, disabled_reason, consecutive_failures, last_failure_at, updated_at
  from oriva.app_webhooks
 where not is_active
 order by updated_at desc
 limit $1
