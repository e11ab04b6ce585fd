-- Remove users from an app's topic (idempotent). They keep the broadcasts sent while they were in
-- it: their membership ends now, its row stays. Returns how many were members.
with ended as (
  update oriva.topic_subscriptions t set unsubscribed_at = now()
   where t.app_id = :app_id and t.topic = :topic and t.unsubscribed_at is null
     and t.user_id = any (:user_ids::text[])
  returning 1
)
select count(*)::int as removed from ended
