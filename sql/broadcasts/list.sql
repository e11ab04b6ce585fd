-- An app's broadcasts, newest first, one page before the cursor (:before_at, :before_id; null first).
select n.id, n.external_id, b.topic, b.sent_at, n.notification_type, n.category, n.title, n.body, n.priority, n.expires_at
  from oriva.broadcasts b
  join oriva.platform_notifications n on n.id = b.id
 where b.app_id = :app_id
   and (:before_at::timestamptz is null or (b.sent_at, b.id) < (:before_at::timestamptz, :before_id::uuid))
 order by b.sent_at desc, b.id desc
 limit :limit
