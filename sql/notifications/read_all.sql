-- Mark every unread, unexpired notification of a user read (optionally of one app), with one
-- notification.read event each, in one statement.
-- $1 user_id, $2 app_id filter (null: every app), $3 event_data.source
with upd as (
  update oriva.notification_state s
     set status = 'read', read_at = now(), updated_at = now()
    from oriva.platform_notifications n
   where s.notification_id = n.id
     and s.user_id = $1 and s.status = 'unread' and ($2::text is null or s.app_id = $2)
     and (n.expires_at is null or n.expires_at > now())
  returning s.notification_id, s.app_id, s.user_id, n.external_id
),
ev as (
  insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
  select app_id, user_id, 'notification', 'read', 'notification', notification_id::text,
         jsonb_build_object('source', $3::text, 'notification_id', notification_id, 'external_id', external_id,
                            'status', 'read', 'previous_status', 'unread', 'bulk', true)
  from upd
  returning 1
)
select count(*)::int as updated from ev
