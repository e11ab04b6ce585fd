-- Hard-delete a notification of the owner app ($2); its state rows cascade. Records
-- notification.deleted in the same statement. $3 event_data.source
with d as (
  delete from oriva.platform_notifications
   where id = $1 and app_id = $2
  returning id, app_id, user_id, external_id
)
select d.id, ev.seq
from d cross join oriva.record_events(array(
  select row(app_id, user_id, 'notification', 'deleted', 'notification', id::text,
             jsonb_build_object('source', $3::text, 'notification_id', id, 'external_id', external_id),
             null, null, true)::oriva.new_event
  from d)) ev
