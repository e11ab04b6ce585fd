-- Notification stats per bucket (:unit hour or day, UTC) of the hours in [:from, :to): one app
-- (:app_id), or every app the caller may read (null; row-level security keeps an app to its own),
-- optionally of one :notification_type and :category. Counts are of notifications created in the
-- bucket; time_to_read is their merged log histogram (oriva.log_bin).
select date_trunc(:unit::text, s.hour, 'UTC') as start,
       sum(s.created)::bigint as created, sum(s.suppressed)::bigint as suppressed, sum(s.delivered)::bigint as delivered,
       sum(s.read)::bigint as read, sum(s.clicked)::bigint as clicked, sum(s.dismissed)::bigint as dismissed,
       sum(s.expired)::bigint as expired, sum(s.emails_sent)::bigint as emails_sent,
       sum(s.emails_failed)::bigint as emails_failed, oriva.histogram_sum(s.time_to_read) as time_to_read
from oriva.notification_stats_hourly s
where s.hour >= :from::timestamptz and s.hour < :to::timestamptz
  and (:app_id::text is null or s.app_id = :app_id::text)
  and (:notification_type::text is null or s.notification_type = :notification_type::text)
  and (:category::text is null or s.category = :category::text)
group by 1
order by 1
