-- Unread notifications (oriva.is_unread) per user, for the users in $1 (zero when none).
select u.user_id, count(s.id)::int as unread
from unnest($1::text[]) as u(user_id)
left join oriva.notification_state s
  on s.user_id = u.user_id
 and oriva.is_unread(s.status, s.expires_at)
group by u.user_id
