--! Previous: sha1:c19d032b07ed027431fefb91796943372916ea39
--! Hash: sha1:f6e773eb3cfbc038aac29e063340fcd678011ce2
--! Message: The email counter trigger returns at once when no delivery of the statement reached sent, failed or bouncing (the digest claim's two updates per email never can)

--! split: 1-current.sql
-- The email counter (oriva.tg_email_deliveries__count) fires after every update of
-- oriva.email_deliveries; the digest claim makes two per email (to sending, and to skipped or held
-- for quiet hours), and neither can count. It now returns at once when no row of the statement
-- reached sent, failed or bouncing, instead of joining the statement's rows to their notifications
-- and upserting nothing (pg_stat_statements in the email bench: 11,345 runs at 428 µs each for
-- 5,000 emails).
create or replace function oriva.tg_email_deliveries__count() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  set timezone = 'UTC'
  as $$
begin
  if not exists (select 1 from new_rows d where d.status in ('sent', 'failed', 'bouncing')) then
    return null;
  end if;
  insert into oriva.notification_stats_hourly as s
    (app_id, hour, notification_type, category, emails_sent, emails_failed)
  select n.app_id, date_trunc('hour', n.created_at), n.notification_type, n.category,
         count(*) filter (where d.status = 'sent'), count(*) filter (where d.status <> 'sent')
    from new_rows d
    join old_rows o on o.notification_id = d.notification_id and o.user_id = d.user_id
    join oriva.platform_notifications n on n.id = d.notification_id
   where d.status in ('sent', 'failed', 'bouncing') and o.status not in ('sent', 'failed', 'bouncing')
   group by 1, 2, 3, 4
   order by 1, 2, 3, 4
  on conflict (app_id, hour, notification_type, category) do update
     set emails_sent = s.emails_sent + excluded.emails_sent,
         emails_failed = s.emails_failed + excluded.emails_failed;
  return null;
end $$;
