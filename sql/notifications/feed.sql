-- A user's feed: unexpired notifications, priority then newest first, with app branding, the total
-- matching the filters and the exact unread count (no cache). The counts are one scan of
-- notification_state (its expires_at is the notification's, copied at creation).
-- $1 user_id, $2 app_id filter (null: every app), $3 status (null: unread, read and clicked),
-- $4 limit, $5 offset, $6/$7/$8 cursor (priority_rank, created_at in µs since the epoch, id) or nulls
select
  counts.unread_count,
  counts.total,
  coalesce((
    select json_agg(page order by page.priority_rank desc, page.created_at desc, page.id desc)
    from (
      select n.id, n.app_id, a.name as app_name, a.icon_url as app_icon, n.external_id, n.user_id,
             n.notification_type, n.title, n.body, n.action_url, n.action_label, n.image_url, n.icon_url,
             n.priority, s.status, n.context_data, n.expires_at, n.created_at, s.updated_at,
             s.read_at, s.clicked_at, s.dismissed_at, s.dismissed_from, s.click_action,
             n.priority_rank,
             (extract(epoch from n.created_at) * 1000000)::bigint as created_us
      from oriva.platform_notifications n
      join oriva.notification_state s on s.notification_id = n.id
      join oriva.apps a on a.id = n.app_id
      where n.user_id = $1 and ($2::text is null or n.app_id = $2)
        and s.status = any (case when $3::text is null then array['unread', 'read', 'clicked'] else array[$3::text] end)
        and (n.expires_at is null or n.expires_at > now())
        and ($6::smallint is null
             or (n.priority_rank, n.created_at, n.id)
                < ($6::smallint, timestamptz 'epoch' + $7::bigint * interval '1 microsecond', $8::uuid))
      order by n.priority_rank desc, n.created_at desc, n.id desc
      limit $4 offset $5
    ) page
  ), '[]'::json) as notifications
from (
  select count(*) filter (where s.status = 'unread') as unread_count,
         count(*) filter (where s.status = any (case when $3::text is null then array['unread', 'read', 'clicked'] else array[$3::text] end)) as total
  from oriva.notification_state s
  where s.user_id = $1 and ($2::text is null or s.app_id = $2)
    and (s.expires_at is null or s.expires_at > now())
) counts
