-- Every app's totals over the hours in [$1, $2) (platform apps), with its webhook attempts, busiest first.
with n as (
  select app_id, sum(created)::bigint as created, sum(suppressed)::bigint as suppressed, sum(delivered)::bigint as delivered,
         sum(read)::bigint as read, sum(clicked)::bigint as clicked, sum(dismissed)::bigint as dismissed,
         sum(expired)::bigint as expired, sum(emails_sent)::bigint as emails_sent, sum(emails_failed)::bigint as emails_failed,
         oriva.histogram_sum(time_to_read) as time_to_read
    from oriva.notification_stats_hourly
   where hour >= $1::timestamptz and hour < $2::timestamptz
   group by app_id
),
w as (
  select app_id, sum(ok)::bigint as ok, sum(failed)::bigint as failed, oriva.histogram_sum(latency) as latency
    from oriva.webhook_stats_hourly
   where hour >= $1::timestamptz and hour < $2::timestamptz
   group by app_id
)
select a.id as app_id, a.name,
       coalesce(n.created, 0) as created, coalesce(n.suppressed, 0) as suppressed, coalesce(n.delivered, 0) as delivered,
       coalesce(n.read, 0) as read, coalesce(n.clicked, 0) as clicked, coalesce(n.dismissed, 0) as dismissed,
       coalesce(n.expired, 0) as expired, coalesce(n.emails_sent, 0) as emails_sent,
       coalesce(n.emails_failed, 0) as emails_failed, coalesce(n.time_to_read, '{}') as time_to_read,
       coalesce(w.ok, 0) as ok, coalesce(w.failed, 0) as failed, coalesce(w.latency, '{}') as latency
from oriva.apps a
left join n on n.app_id = a.id
left join w on w.app_id = a.id
where n.app_id is not null or w.app_id is not null
order by coalesce(n.created, 0) desc, a.id
