-- The users who installed an app, oldest installation first; keyset pagination on (installed_at,
-- user_id), cursor_at being installed_at as text (exact to the microsecond). $1 app_id, $2/$3 the
-- cursor (cursor_at, user_id) or nulls, $4 limit (one more than the page, to know whether there is more)
select user_id, installed_at, installed_at::text as cursor_at
from oriva.app_installations
where app_id = $1
  and ($2::timestamptz is null or (installed_at, user_id::text) > ($2::timestamptz, $3::text))
order by installed_at, user_id
limit $4
