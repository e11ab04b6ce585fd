-- Before a user changes a broadcast's state: write their own state row for it (unread), when the
-- broadcast reaches them and they have none yet. Does nothing for any other notification.
insert into oriva.notification_state (notification_id, app_id, user_id, expires_at)
select n.id, n.app_id, :user_id::text, n.expires_at
  from oriva.platform_notifications n
 where n.id = :id::uuid and n.user_id is null
   and n.id in (select oriva.user_broadcasts(:user_id::text))
on conflict (notification_id, user_id) do nothing
