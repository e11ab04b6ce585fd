-- Expire one notification whose expires_at has passed, and record notification.expired for each
-- state row that changed, in one statement (one transaction). A broadcast also records one
-- broadcast.expired (once), which the gateway pushes to its connected recipients (it has left
-- every feed: the feed shows no expired notification). Returns the events written.
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
), broadcast as (
  update oriva.broadcasts b
     set expired_at = now()
    from oriva.platform_notifications n
   where b.id = $1 and n.id = b.id and n.expires_at <= now() and b.expired_at is null
  returning b.id, b.app_id, b.topic, b.sent_at, n.external_id, n.notification_type, n.category
)
select id, seq
from oriva.record_events(array(
  select oriva.state_change_event(app_id, user_id, notification_id, external_id, 'expired', previous_status, 'oriva_worker')
  from expired
  union all
  select row(app_id, null, 'broadcast', 'expired', 'broadcast', id::text,
             jsonb_build_object('source', 'oriva_worker', 'notification_id', id, 'external_id', external_id,
               'broadcast', jsonb_build_object('id', id, 'sent_at', sent_at,
                 'audience', case when topic is null then jsonb_build_object('all', true)
                                  else jsonb_build_object('topic', topic) end),
               'notification', jsonb_build_object('notification_type', notification_type, 'category', category)),
             null, null, true)::oriva.new_event
  from broadcast))
