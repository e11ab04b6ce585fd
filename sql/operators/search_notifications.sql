-- Notification search for operators (platform apps): words of the title or body (:q, web-search
-- syntax: words, "a phrase", -not, or; the full-text index platform_notifications_text_idx), and
-- filters by app, user, type and category; newest first. Broadcasts (no user) match only without
-- :user_id. status is the user's state (null for a broadcast or a suppressed notification).
select n.id, n.app_id, n.user_id, n.notification_type, n.category, n.priority, n.title, n.body, n.created_at,
       s.status
from oriva.platform_notifications n
left join oriva.notification_state s on s.notification_id = n.id and s.user_id = n.user_id
where (:q::text is null or to_tsvector('simple'::regconfig, n.title || ' ' || n.body) @@ websearch_to_tsquery('simple'::regconfig, :q::text))
  and (:app_id::text is null or n.app_id = :app_id::text)
  and (:user_id::text is null or n.user_id = :user_id::text)
  and (:notification_type::text is null or n.notification_type = :notification_type::text)
  and (:category::text is null or n.category = :category::text)
order by n.created_at desc, n.id desc
limit :limit::int
