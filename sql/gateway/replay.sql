-- Resume: the events in (:after, :up_to] one connection may see — a user's across apps (:user_id),
-- or an app's (:app_id: its own, and a platform app's events about the users who installed it),
-- optionally only about :user_id — oldest first; at most :max_rows rows (one more than the replay
-- limit means "too far behind"). A user's connection, or a platform app's about one user (no
-- :app_id), skips what does not reach the user (reaches_user false: a suppressed notification). A
-- user's connection also gets the broadcast events whose audience held the user (no user_id).
select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at
from oriva.platform_events e
where seq > :after and seq <= :up_to
  and (:user_id::text is null or (user_id = :user_id and (reaches_user or :app_id::text is not null))
       or (:app_id::text is null and user_id is null and event_category = 'broadcast'
           and oriva.broadcast_event_reaches(app_id, event_data, :user_id)))
  and (:app_id::text is null or app_id = :app_id
       or :app_id in (select oriva.event_audience_apps(e.app_id, e.user_id, e.event_category)))
order by seq
limit :max_rows
