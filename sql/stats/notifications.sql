-- Notification stats per bucket (:unit hour or day, UTC) of the hours in [:from, :to): one app
-- (:app_id), or every app the caller may read (null; row-level security keeps an app to its own),
-- optionally of one :notification_type and :category. Counts are of notifications created in the
-- bucket; time_to_read is their merged log histogram (oriva.log_bin), summed bin by bin in one pass.
with hourly as materialized (
  select date_trunc(:unit::text, s.hour, 'UTC') as start, s.*
    from oriva.notification_stats_hourly s
   where s.hour >= :from::timestamptz and s.hour < :to::timestamptz
     and (:app_id::text is null or s.app_id = :app_id::text)
     and (:notification_type::text is null or s.notification_type = :notification_type::text)
     and (:category::text is null or s.category = :category::text)
),
counts as (
  select start, sum(created)::bigint as created, sum(suppressed)::bigint as suppressed, sum(delivered)::bigint as delivered,
         sum(read)::bigint as read, sum(clicked)::bigint as clicked, sum(dismissed)::bigint as dismissed,
         sum(expired)::bigint as expired, sum(emails_sent)::bigint as emails_sent, sum(emails_failed)::bigint as emails_failed
    from hourly
   group by start
),
bins as (
  select start, jsonb_object_agg(bin, n) as time_to_read
    from (select h.start, b.key as bin, sum(b.value::bigint) as n
            from hourly h cross join lateral jsonb_each_text(h.time_to_read) b
           group by 1, 2) per_bin
   group by start
)
select c.*, coalesce(b.time_to_read, '{}'::jsonb) as time_to_read
from counts c left join bins b on b.start = c.start
order by c.start
