-- Create notifications (one or a batch) in one statement: the rows, their unread state, one
-- notification.created event each (carrying the notification), and an expiry job only for those
-- with expires_at. A duplicate (app_id, external_id) is skipped and simply not returned.
-- $1 app_id, $2..$13 one array per column, $14 event_data.source
with input as (
  select *
  from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
              $9::text[], $10::text[], $11::jsonb[], $12::text[], $13::timestamptz[])
       with ordinality as i (external_id, user_id, notification_type, title, body, action_url, action_label,
                             image_url, icon_url, context_data, priority, expires_at, ord)
),
n as (
  insert into oriva.platform_notifications
    (app_id, external_id, user_id, notification_type, title, body, action_url, action_label,
     image_url, icon_url, context_data, priority, expires_at)
  select $1, external_id, user_id, notification_type, title, body, action_url, action_label,
         image_url, icon_url, context_data, priority, expires_at
  from input
  order by ord
  on conflict (app_id, external_id) do nothing
  returning *
),
s as (
  insert into oriva.notification_state (notification_id, app_id, user_id, expires_at)
  select id, app_id, user_id, expires_at from n
),
e as (
  insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
  select n.app_id, n.user_id, 'notification', 'created', 'notification', n.id::text,
         jsonb_build_object('source', $14::text, 'notification', jsonb_build_object(
           'id', n.id, 'app_id', n.app_id, 'app_name', a.name, 'app_icon', a.icon_url,
           'external_id', n.external_id, 'user_id', n.user_id, 'notification_type', n.notification_type,
           'title', n.title, 'body', n.body, 'action_url', n.action_url, 'action_label', n.action_label,
           'image_url', n.image_url, 'icon_url', n.icon_url, 'context_data', n.context_data,
           'priority', n.priority, 'status', 'unread', 'expires_at', n.expires_at, 'created_at', n.created_at))
  from n join oriva.apps a on a.id = n.app_id
  returning entity_id, seq
),
jobs as (
  select count(*) as enqueued
  from (select oriva.add_job('notification_expire', json_build_object('notification_id', n.id), n.expires_at,
                             'expire:' || n.id::text)::text as done
        from n where n.expires_at is not null) j
)
select n.id, n.external_id, n.created_at, e.seq, jobs.enqueued
from n join e on e.entity_id = n.id::text cross join jobs
