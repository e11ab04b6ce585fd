-- One notification's channels (the owner app or a platform app; row-level security hides the rest):
-- in_app delivered (it has a state row) or suppressed (with the reason its created event gave);
-- email: its delivery record, or the routing step's decision when it was not scheduled (skipped
-- without an address or while bouncing, or switched off by the user's preferences).
select n.id, n.created_at,
       s.notification_id is not null as in_app_delivered,
       e.event_data #>> '{suppressed,0,reason}' as in_app_reason,
       e.event_data #>> '{email,decision}' as email_decision,
       e.event_data #>> '{email,reason}' as email_route_reason,
       d.status as email_status, d.reason as email_reason, d.due_at as email_due_at, d.updated_at as email_updated_at
from oriva.platform_notifications n
left join oriva.notification_state s on s.notification_id = n.id
left join lateral (
  select ev.event_data from oriva.platform_events ev
   where ev.entity_type = 'notification' and ev.entity_id = n.id::text
     and ev.event_category = 'notification' and ev.event_type = 'created'
   limit 1
) e on true
left join oriva.email_deliveries d on d.notification_id = n.id
where n.id = :id
