-- Start and end webhook-failing episodes from the last $1 minutes of attempts (at least $2 attempts,
-- more than the share $3 of them failed: oriva.webhook_health_check), and record webhook.failing /
-- webhook.recovered for each webhook's app in the same statement. One row per alert.
with alerts as materialized (
  select h.*,
         jsonb_build_object('source', 'oriva_worker', 'webhook_id', h.webhook_id, 'url', h.url,
                            'window', jsonb_build_object('minutes', $1::int, 'attempts', h.attempts, 'failed', h.failed),
                            'last_error', h.last_error) as data
    from oriva.webhook_health_check(make_interval(mins => $1::int), $2::int, $3::numeric) h
),
recorded as (
  select count(*) as events
  from oriva.record_events(array(
    select row(a.app_id, null, 'webhook', 'failing', 'webhook', a.webhook_id::text, a.data, null, null, false)::oriva.new_event
      from alerts a where a.alert = 'failing'
    union all
    select row(a.app_id, null, 'webhook', 'recovered', 'webhook', a.webhook_id::text, a.data, null, null, false)::oriva.new_event
      from alerts a where a.alert = 'recovered'))
)
select a.webhook_id, a.app_id, a.alert, a.attempts, a.failed
from alerts a cross join recorded
order by a.app_id, a.webhook_id
