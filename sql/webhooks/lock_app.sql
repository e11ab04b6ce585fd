-- Serialise one app's webhook creates until commit ($1 app_id), so the per-app cap holds under concurrency.
select pg_advisory_xact_lock(hashtext('oriva.app_webhooks:' || $1))
