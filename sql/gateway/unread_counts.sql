-- Unread notifications (oriva.is_unread) per user, for the users in $1 (zero when none): their
-- state rows, plus the broadcasts reaching them they never touched (oriva.unread_broadcasts).
select u.user_id,
       ((select count(*) from oriva.notification_state s
          where s.user_id = u.user_id and oriva.is_unread(s.status, s.expires_at))
        + oriva.unread_broadcasts(u.user_id))::int as unread
from unnest($1::text[]) as u(user_id)
