-- A user's feed: unexpired notifications, priority then newest first, with app branding, the total
-- matching the filters and the exact unread count (no cache). The counts are one scan of
-- notification_state (its expires_at is the notification's, copied at creation).
-- :app_id filters to one app (null: every app), :category and :notification_type likewise;
-- :status to one state (null: what oriva.in_feed shows: unread, read and clicked); the cursor (:cursor_rank, :cursor_created_us in µs since the
-- epoch, :cursor_id) is null on the first page.
select
  counts.unread_count,
  counts.total,
  coalesce((
    select json_agg(page order by page.priority_rank desc, page.created_at desc, page.id desc)
    from (
      select n.id, n.app_id, a.name as app_name, a.icon_url as app_icon, n.external_id, n.user_id,
             n.notification_type, n.title, n.body, n.action_url, n.action_label, n.image_url, n.icon_url,
             n.priority, n.category, s.status, n.context_data, n.expires_at, n.created_at, s.updated_at,
             s.read_at, s.clicked_at, s.dismissed_at, s.dismissed_from, s.click_action,
             n.priority_rank,
             (extract(epoch from n.created_at) * 1000000)::bigint as created_us
      from oriva.platform_notifications n
      join oriva.notification_state s on s.notification_id = n.id
      join oriva.apps a on a.id = n.app_id
      where n.user_id = :user_id and (:app_id::text is null or n.app_id = :app_id)
        and (:category::text is null or n.category = :category)
        and (:notification_type::text is null or n.notification_type = :notification_type)
        and case when :status::text is null then oriva.in_feed(s.status, s.expires_at)
                 else s.status = :status and (s.expires_at is null or s.expires_at > now()) end
        and (:cursor_rank::smallint is null
             or (n.priority_rank, n.created_at, n.id)
                < (:cursor_rank::smallint, timestamptz 'epoch' + :cursor_created_us::bigint * interval '1 microsecond', :cursor_id::uuid))
      order by n.priority_rank desc, n.created_at desc, n.id desc
      limit :limit offset :offset
    ) page
  ), '[]'::json) as notifications
from (
  select count(*) filter (where oriva.is_unread(s.status, s.expires_at)) as unread_count,
         count(*) filter (where case when :status::text is null then oriva.in_feed(s.status, s.expires_at)
                                     else s.status = :status end) as total
  from oriva.notification_state s
  where s.user_id = :user_id and (:app_id::text is null or s.app_id = :app_id)
    and (s.expires_at is null or s.expires_at > now())
    and (:category::text is null and :notification_type::text is null
         or exists (select 1 from oriva.platform_notifications n
                     where n.id = s.notification_id
                       and (:category::text is null or n.category = :category)
                       and (:notification_type::text is null or n.notification_type = :notification_type)))
) counts
