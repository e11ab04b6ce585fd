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
select id
from oriva.record_events(array(
  select oriva.state_change_event(app_id, user_id, notification_id, external_id, 'expired', previous_status, 'oriva_worker',
                                  jsonb_build_object('sweep', true))
  from expired))
