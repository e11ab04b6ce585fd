-- Expire one notification whose expires_at has passed, and record notification.expired for each
-- state row that changed, in one statement (one transaction). Returns the events written.
with due as (
  select s.id, s.notification_id, s.user_id, s.status as previous_status, n.app_id, n.external_id
    from oriva.notification_state s
    join oriva.platform_notifications n on n.id = s.notification_id
   where s.notification_id = $1
     and n.expires_at <= now()
     and s.status <> 'expired'
     for update of s
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
                          'status', 'expired', 'previous_status', previous_status)
  from expired
returning id, seq
