-- Move up to $2 notifications created before $1 to the archive with their (first user's) state;
-- their state rows go with them (on delete cascade). A broadcast (no user) is archived without a
-- state: each recipient had their own; its audience row goes with it.
with batch as (
  select id from oriva.platform_notifications
   where created_at < $1
   order by created_at
   limit $2
     for update skip locked
), states as (
  select distinct on (s.notification_id) s.notification_id, s.status
    from oriva.notification_state s join batch b on b.id = s.notification_id
   order by s.notification_id, s.updated_at desc
), moved as (
  delete from oriva.platform_notifications n using batch where n.id = batch.id
  returning n.*
)
insert into oriva.platform_notifications_archive
  (id, app_id, external_id, user_id, notification_type, title, body, action_url, action_label, image_url, icon_url,
   context_data, priority, priority_rank, expires_at, created_at, updated_at, status, category)
select m.id, m.app_id, m.external_id, m.user_id, m.notification_type, m.title, m.body, m.action_url, m.action_label,
       m.image_url, m.icon_url, m.context_data, m.priority, m.priority_rank, m.expires_at, m.created_at, m.updated_at,
       case when m.user_id is not null then s.status end, m.category
  from moved m left join states s on s.notification_id = m.id
on conflict (id) do nothing
