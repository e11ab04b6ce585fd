-- A user's feed: unexpired notifications, priority then newest first, with app branding, the total
-- matching the filters and the exact unread count (no cache). Two sources: the user's own
-- notifications (each with its state row), and the broadcasts that reach the user
-- (oriva.user_broadcasts), whose state row exists only once the user changed it (until then:
-- unread). Each source is filtered and cut to the page on its own — the own notifications read in
-- feed order from platform_notifications_feed_idx and only as far as the page needs, however many
-- the user has — and the page is the first rows of the two. (So the filters are written once per
-- source: each must hold before that source's limit.) The counts are one scan of the user's
-- notification_state rows (their expires_at is the notification's, copied at creation) plus the
-- broadcasts the user never touched.
-- :app_id filters to one app (null: every app), :category and :notification_type likewise;
-- :status to one state (null: what oriva.in_feed shows: unread, read and clicked); the cursor (:cursor_rank, :cursor_created_us in µs since the
-- epoch, :cursor_id) is null on the first page.
with reach as materialized (
  select b.id from oriva.user_broadcasts(:user_id) as b (id)
),
own as (
  select n.*, s.status, s.updated_at as state_updated_at, s.read_at, s.clicked_at, s.dismissed_at, s.dismissed_from,
         s.click_action
  from oriva.platform_notifications n
  join oriva.notification_state s on s.notification_id = n.id
  where n.user_id = :user_id
    and (:app_id::text is null or n.app_id = :app_id)
    and (:category::text is null or n.category = :category)
    and (:notification_type::text is null or n.notification_type = :notification_type)
    and (:cursor_rank::smallint is null
         or (n.priority_rank, n.created_at, n.id)
            < (:cursor_rank::smallint, timestamptz 'epoch' + :cursor_created_us::bigint * interval '1 microsecond', :cursor_id::uuid))
    and case when :status::text is null then oriva.in_feed(s.status, s.expires_at)
             else s.status = :status and (s.expires_at is null or s.expires_at > now()) end
  order by n.priority_rank desc, n.created_at desc, n.id desc
  limit :limit::int + :offset::int
),
broadcast as (
  select n.*, st.status, s.updated_at as state_updated_at, s.read_at, s.clicked_at, s.dismissed_at, s.dismissed_from,
         s.click_action
  from reach r
  join oriva.platform_notifications n on n.id = r.id
  left join oriva.notification_state s on s.notification_id = n.id and s.user_id = :user_id
  cross join lateral (select coalesce(s.status, 'unread') as status) st
  where (:app_id::text is null or n.app_id = :app_id)
    and (:category::text is null or n.category = :category)
    and (:notification_type::text is null or n.notification_type = :notification_type)
    and (:cursor_rank::smallint is null
         or (n.priority_rank, n.created_at, n.id)
            < (:cursor_rank::smallint, timestamptz 'epoch' + :cursor_created_us::bigint * interval '1 microsecond', :cursor_id::uuid))
    and case when :status::text is null then oriva.in_feed(st.status, n.expires_at)
             else st.status = :status and (n.expires_at is null or n.expires_at > now()) end
  order by n.priority_rank desc, n.created_at desc, n.id desc
  limit :limit::int + :offset::int
)
select
  counts.unread_count + untouched.unread_count as unread_count,
  counts.total + untouched.total as total,
  coalesce((
    select json_agg(page order by page.priority_rank desc, page.created_at desc, page.id desc)
    from (
      select p.id, p.app_id, a.name as app_name, a.icon_url as app_icon, p.external_id, :user_id::text as user_id,
             p.notification_type, p.title, p.body, p.action_url, p.action_label, p.image_url, p.icon_url,
             p.priority, p.category, p.status, p.context_data, p.expires_at, p.created_at,
             coalesce(p.state_updated_at, p.updated_at) as updated_at,
             p.read_at, p.clicked_at, p.dismissed_at, p.dismissed_from, p.click_action,
             p.priority_rank,
             (extract(epoch from p.created_at) * 1000000)::bigint as created_us
      from (
        select * from own
        union all
        select * from broadcast
        order by priority_rank desc, created_at desc, id desc
        limit :limit offset :offset
      ) p
      join oriva.apps a on a.id = p.app_id
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
cross join (
  -- the broadcasts reaching the user that they never touched: unread
  select count(*) as unread_count,
         count(*) filter (where :status::text is null or :status = 'unread') as total
  from reach r
  join oriva.platform_notifications n on n.id = r.id
  where (n.expires_at is null or n.expires_at > now())
    and (:app_id::text is null or n.app_id = :app_id)
    and (:category::text is null or n.category = :category)
    and (:notification_type::text is null or n.notification_type = :notification_type)
    and not exists (select 1 from oriva.notification_state s where s.notification_id = n.id and s.user_id = :user_id)
) untouched
