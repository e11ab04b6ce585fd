-- Mark every unread notification of a user read (optionally of one app), with one
-- notification.read event each, in one statement.
-- $1 user_id, $2 app_id filter (null: every app), $3 event_data.source
with upd as (
  update oriva.notification_state s
     set status = 'read', read_at = now(), updated_at = now()
    from oriva.platform_notifications n
   where s.notification_id = n.id
     and s.user_id = $1 and ($2::text is null or s.app_id = $2)
     and oriva.is_unread(s.status, s.expires_at)
  returning s.notification_id, s.app_id, s.user_id, n.external_id
)
select count(*)::int as updated
from oriva.record_events(array(
  select oriva.state_change_event(app_id, user_id, notification_id, external_id, 'read', 'unread', $3::text,
                                  jsonb_build_object('bulk', true))
  from upd))
