-- Every app's totals over the hours in [$1, $2) (platform apps), with its webhook attempts, busiest
-- first; histograms summed bin by bin in one pass.
with n as materialized (
  select * from oriva.notification_stats_hourly where hour >= $1::timestamptz and hour < $2::timestamptz
),
w as materialized (
  select * from oriva.webhook_stats_hourly where hour >= $1::timestamptz and hour < $2::timestamptz
),
counts as (
  select app_id, sum(created)::bigint as created, sum(suppressed)::bigint as suppressed, sum(delivered)::bigint as delivered,
         sum(read)::bigint as read, sum(clicked)::bigint as clicked, sum(dismissed)::bigint as dismissed,
         sum(expired)::bigint as expired, sum(emails_sent)::bigint as emails_sent, sum(emails_failed)::bigint as emails_failed
    from n group by app_id
),
read_bins as (
  select app_id, jsonb_object_agg(bin, c) as time_to_read
    from (select n.app_id, b.key as bin, sum(b.value::bigint) as c from n cross join lateral jsonb_each_text(n.time_to_read) b group by 1, 2) x
   group by app_id
),
hooks as (
  select app_id, sum(ok)::bigint as ok, sum(failed)::bigint as failed from w group by app_id
),
latency_bins as (
  select app_id, jsonb_object_agg(bin, c) as latency
    from (select w.app_id, b.key as bin, sum(b.value::bigint) as c from w cross join lateral jsonb_each_text(w.latency) b group by 1, 2) x
   group by app_id
)
select a.id as app_id, a.name,
       coalesce(c.created, 0) as created, coalesce(c.suppressed, 0) as suppressed, coalesce(c.delivered, 0) as delivered,
       coalesce(c.read, 0) as read, coalesce(c.clicked, 0) as clicked, coalesce(c.dismissed, 0) as dismissed,
       coalesce(c.expired, 0) as expired, coalesce(c.emails_sent, 0) as emails_sent,
       coalesce(c.emails_failed, 0) as emails_failed, coalesce(r.time_to_read, '{}') as time_to_read,
       coalesce(h.ok, 0) as ok, coalesce(h.failed, 0) as failed, coalesce(l.latency, '{}') as latency
from oriva.apps a
left join counts c on c.app_id = a.id
left join read_bins r on r.app_id = a.id
left join hooks h on h.app_id = a.id
left join latency_bins l on l.app_id = a.id
where c.app_id is not null or h.app_id is not null
order by coalesce(c.created, 0) desc, a.id
