-- Send a broadcast: one notification row without a user, its audience (:topic, null: every known
-- user), one broadcast.sent event carrying both (the owner app's webhooks hear it once; the gateway
-- pushes it to each connected recipient), its expiry job and the job that schedules its emails.
-- Nothing is written per recipient, so the cost does not grow with the audience. A duplicate
-- external_id writes nothing and returns no row.
with n as (
  insert into oriva.platform_notifications
    (app_id, external_id, user_id, notification_type, title, body, action_url, action_label,
     image_url, icon_url, context_data, priority, expires_at, category)
  values (:app_id, :external_id, null, :notification_type, :title, :body, :action_url, :action_label,
          :image_url, :icon_url, :context_data::jsonb, :priority, :expires_at::timestamptz, :category)
  on conflict (app_id, external_id) do nothing
  returning *
),
b as (
  insert into oriva.broadcasts (id, app_id, topic, sent_at)
  select n.id, n.app_id, :topic::text, n.created_at from n
  returning *
),
e as (
  select ev.seq
  from oriva.record_events(array(
    select row(n.app_id, null, 'broadcast', 'sent', 'broadcast', n.id::text,
               jsonb_build_object('source', :app_id::text,
                 'broadcast', jsonb_build_object('id', n.id, 'sent_at', b.sent_at,
                   'audience', case when b.topic is null then jsonb_build_object('all', true)
                                    else jsonb_build_object('topic', b.topic) end),
                 'notification', jsonb_build_object(
                   'id', n.id, 'app_id', n.app_id, 'app_name', a.name, 'app_icon', a.icon_url,
                   'external_id', n.external_id, 'user_id', null, 'notification_type', n.notification_type,
                   'category', n.category, 'title', n.title, 'body', n.body, 'action_url', n.action_url,
                   'action_label', n.action_label, 'image_url', n.image_url, 'icon_url', n.icon_url,
                   'context_data', n.context_data, 'priority', n.priority, 'status', 'unread',
                   'expires_at', n.expires_at, 'created_at', n.created_at)),
               null, null, true)::oriva.new_event
    from n join b on b.id = n.id join oriva.apps a on a.id = n.app_id)) ev
),
jobs as (
  select count(*) as enqueued
  from (select oriva.enqueue_notification_expiry(n.id, n.expires_at)::text from n where n.expires_at is not null
        union all
        select oriva.enqueue_broadcast_emails(n.id, null)::text from n) j
)
select n.id, n.created_at, e.seq
from n cross join e cross join jobs
