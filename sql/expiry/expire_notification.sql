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
select id, seq
from oriva.record_events(array(
  select oriva.state_change_event(app_id, user_id, notification_id, external_id, 'expired', previous_status, 'oriva_worker')
  from expired))
