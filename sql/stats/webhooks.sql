-- Webhook attempts per bucket ($4 hour or day, UTC) of the hours in [$2, $3): one app ($1), or every
-- app the caller may read (null). latency is the merged log histogram of the attempts' response times.
with hourly as materialized (
  select date_trunc($4::text, s.hour, 'UTC') as start, s.ok, s.failed, s.latency
    from oriva.webhook_stats_hourly s
   where s.hour >= $2::timestamptz and s.hour < $3::timestamptz
     and ($1::text is null or s.app_id = $1::text)
),
counts as (
  select start, sum(ok)::bigint as ok, sum(failed)::bigint as failed from hourly group by start
),
bins as (
  select start, jsonb_object_agg(bin, n) as latency
    from (select h.start, b.key as bin, sum(b.value::bigint) as n
            from hourly h cross join lateral jsonb_each_text(h.latency) b
           group by 1, 2) per_bin
   group by start
)
select c.start, c.ok, c.failed, coalesce(b.latency, '{}'::jsonb) as latency
from counts c left join bins b on b.start = c.start
order by c.start
