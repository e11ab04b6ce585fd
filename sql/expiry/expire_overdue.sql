-- Safety sweep: expire up to $1 notifications whose expires_at has passed but whose job did not
-- run (lost, or the notification predates its job). Same effect and event as expire_notification.
with due as (
  select s.id, s.notification_id, s.user_id, s.status as previous_status, n.app_id, n.external_id
    from oriva.platform_notifications n
    join oriva.notification_state s on s.notification_id = n.id
   where n.expires_at <= now()
     and s.status <> 'expired'
   order by n.expires_at
   limit $1
     for update of s skip locked
), expired as (
  update oriva.notification_state s
     set status = 'expired', expired_at = now(), updated_at = now()
    from due
   where s.id = due.id
  returning due.*
)
insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
select app_id, user_id, 'notification', 'expired', 'notification', notification_id::text,
       jsonb_build_object('source', 'oriva_worker', 'notification_id', notification_id, 'external_id', external_id,
                          'status', 'expired', 'previous_status', previous_status, 'sweep', true)
  from expired
returning id
