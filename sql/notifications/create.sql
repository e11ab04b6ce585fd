-- Create notifications (one or a batch) in one statement. The routing step
-- (oriva.route_notifications) decides first; a notification it refuses (the user has not installed
-- the app) is not written at all. For the others: the rows; the state row where in_app is
-- delivered; one notification.created event each (carrying the notification), in item order; an
-- expiry job for those with expires_at. A duplicate (app_id, external_id) is skipped. One array
-- per column, in item order; one row back per item, saying what became of it.
with input as (
  select *
  from unnest(:external_ids::text[], :user_ids::text[], :notification_types::text[], :titles::text[],
              :bodies::text[], :action_urls::text[], :action_labels::text[], :image_urls::text[], :icon_urls::text[],
              :context_data::jsonb[], :priorities::text[], :expires_at::timestamptz[])
       with ordinality as i (external_id, user_id, notification_type, title, body, action_url, action_label,
                             image_url, icon_url, context_data, priority, expires_at, ord)
),
routes as (
  select * from oriva.route_notifications(:app_id, :user_ids::text[], :install_required)
),
refused as (
  select ord, min(reason) as reason from routes where decision = 'refuse' group by ord
),
n as (
  insert into oriva.platform_notifications
    (app_id, external_id, user_id, notification_type, title, body, action_url, action_label,
     image_url, icon_url, context_data, priority, expires_at)
  select :app_id, external_id, user_id, notification_type, title, body, action_url, action_label,
         image_url, icon_url, context_data, priority, expires_at
  from input
  where ord not in (select ord from refused)
  order by ord
  on conflict (app_id, external_id) do nothing
  returning *
),
created as (
  -- a repeat of an external_id inside the batch is a duplicate: its first item is the one written
  select n.*, i.ord
  from n join (select distinct on (external_id) external_id, ord from input
               where ord not in (select ord from refused) order by external_id, ord) i
    on i.external_id = n.external_id
),
s as (
  insert into oriva.notification_state (notification_id, app_id, user_id, expires_at)
  select c.id, c.app_id, c.user_id, c.expires_at
  from created c join routes r on r.ord = c.ord and r.user_id = c.user_id
  where r.channel = 'in_app' and r.decision = 'deliver'
),
e as (
  select entity_id, seq
  from oriva.record_events(array(
    select row(c.app_id, c.user_id, 'notification', 'created', 'notification', c.id::text,
               jsonb_build_object('source', :source::text, 'notification', jsonb_build_object(
                 'id', c.id, 'app_id', c.app_id, 'app_name', a.name, 'app_icon', a.icon_url,
                 'external_id', c.external_id, 'user_id', c.user_id, 'notification_type', c.notification_type,
                 'title', c.title, 'body', c.body, 'action_url', c.action_url, 'action_label', c.action_label,
                 'image_url', c.image_url, 'icon_url', c.icon_url, 'context_data', c.context_data,
                 'priority', c.priority, 'status', 'unread', 'expires_at', c.expires_at, 'created_at', c.created_at)),
               null, null)::oriva.new_event
    from created c join oriva.apps a on a.id = c.app_id
    order by c.ord))
),
jobs as (
  select count(*) as enqueued
  from (select oriva.enqueue_notification_expiry(c.id, c.expires_at)::text as done
        from created c where c.expires_at is not null) j
),
routed as (
  select ord, json_agg(json_build_object('channel', channel, 'decision', decision, 'reason', reason)) as routes
  from routes group by ord
)
select i.ord, i.external_id,
       case when c.id is not null then 'created' when f.reason is not null then 'refused' else 'duplicate' end as outcome,
       f.reason, c.id, c.created_at, e.seq, routed.routes, jobs.enqueued
from input i
left join created c on c.ord = i.ord
left join e on e.entity_id = c.id::text
left join refused f on f.ord = i.ord
left join routed on routed.ord = i.ord
cross join jobs
order by i.ord
