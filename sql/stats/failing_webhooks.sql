-- How many active webhooks are in a failing episode (for the worker's metrics).
select count(*)::int as failing from oriva.app_webhooks where failing_since is not null and is_active
