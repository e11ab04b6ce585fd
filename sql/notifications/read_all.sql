-- Mark every unread notification of a user read (optionally of one app), with one
-- notification.read event each, in one statement: the user's unread state rows, and the broadcasts
-- reaching them that they never touched (their state row is written now, read).
-- $1 user_id, $2 app_id filter (null: every app), $3 event_data.source
with upd as (
  update oriva.notification_state s
     set status = 'read', read_at = now(), updated_at = now()
    from oriva.platform_notifications n
   where s.notification_id = n.id
     and s.user_id = $1 and ($2::text is null or s.app_id = $2)
     and oriva.is_unread(s.status, s.expires_at)
  returning s.notification_id, s.app_id, s.user_id, n.external_id
),
ins as (
  insert into oriva.notification_state (notification_id, app_id, user_id, expires_at, status, read_at)
  select n.id, n.app_id, $1, n.expires_at, 'read', now()
    from oriva.user_broadcasts($1) as b (id)
    join oriva.platform_notifications n on n.id = b.id
   where ($2::text is null or n.app_id = $2)
     and (n.expires_at is null or n.expires_at > now())
     and not exists (select 1 from oriva.notification_state s where s.notification_id = n.id and s.user_id = $1)
  on conflict (notification_id, user_id) do nothing
  returning notification_id, app_id, user_id
)
select count(*)::int as updated
from oriva.record_events(array(
  select oriva.state_change_event(c.app_id, c.user_id, c.notification_id, c.external_id, 'read', 'unread', $3::text,
                                  jsonb_build_object('bulk', true))
  from (select notification_id, app_id, user_id, external_id from upd
        union all
        select i.notification_id, i.app_id, i.user_id, n.external_id
          from ins i join oriva.platform_notifications n on n.id = i.notification_id) c))
