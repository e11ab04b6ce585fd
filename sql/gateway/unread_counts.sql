-- Unread, unexpired notifications per user, for the users in $1 (zero when none).
select u.user_id, count(s.id)::int as unread
from unnest($1::text[]) as u(user_id)
left join oriva.notification_state s
  on s.user_id = u.user_id
 and s.status = 'unread'
 and exists (
   select 1 from oriva.platform_notifications n
   where n.id = s.notification_id and (n.expires_at is null or n.expires_at > now())
 )
group by u.user_id
