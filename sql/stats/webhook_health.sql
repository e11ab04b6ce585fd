-- Start and end webhook-failing episodes from the last $1 minutes of attempts (at least $2 attempts,
-- more than the share $3 of them failed), recording webhook.failing / webhook.recovered:
-- oriva.webhook_health_check. One row per alert.
select webhook_id, app_id, alert, attempts, failed
from oriva.webhook_health_check(make_interval(mins => $1::int), $2::int, $3::numeric)
