-- Retract a broadcast of the owner app: delete it (its recipients' state rows and email deliveries
-- cascade) and record broadcast.retracted with the audience, so the gateway removes it from every
-- connected recipient's feed. Returns the id when there was one to retract.
with d as (
  delete from oriva.platform_notifications n
   using oriva.broadcasts b
   where n.id = :id and b.id = n.id and n.app_id = :app_id
  returning n.id, n.app_id, n.external_id, n.notification_type, n.category, b.topic, b.sent_at
)
select d.id, ev.seq
from d cross join oriva.record_events(array(
  select row(app_id, null, 'broadcast', 'retracted', 'broadcast', id::text,
             jsonb_build_object('source', :source::text, 'notification_id', id, 'external_id', external_id,
               'broadcast', jsonb_build_object('id', id, 'sent_at', sent_at,
                 'audience', case when topic is null then jsonb_build_object('all', true)
                                  else jsonb_build_object('topic', topic) end),
               'notification', jsonb_build_object('notification_type', notification_type, 'category', category)),
             null, null, true)::oriva.new_event
  from d)) ev
