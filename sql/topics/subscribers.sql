-- A topic's current members, by user id, one page after the cursor (:after, null on the first page).
select t.user_id::text as user_id, t.subscribed_at
  from oriva.topic_subscriptions t
 where t.app_id = :app_id and t.topic = :topic and t.unsubscribed_at is null
   and (:after::text is null or t.user_id > :after)
 order by t.user_id
 limit :limit
