-- Webhook attempts per bucket ($4 hour or day, UTC) of the hours in [$2, $3): one app ($1), or every
-- app the caller may read (null). latency is the merged log histogram of the attempts' response times.
select date_trunc($4::text, s.hour, 'UTC') as start, sum(s.ok)::bigint as ok, sum(s.failed)::bigint as failed,
       oriva.histogram_sum(s.latency) as latency
from oriva.webhook_stats_hourly s
where s.hour >= $2::timestamptz and s.hour < $3::timestamptz
  and ($1::text is null or s.app_id = $1::text)
group by 1
order by 1
