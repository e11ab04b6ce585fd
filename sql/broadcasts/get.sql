-- One broadcast of the app with its delivery figures, counted now (oriva.broadcast_audience):
-- recipients (its audience when it was sent), suppressed (recipients whose preferences keep it out of
-- their feed), delivered (the rest); and from the recipients' own state rows: read (read or
-- clicked), clicked, dismissed.
select n.id, n.external_id, b.topic, b.sent_at, n.notification_type, n.category, n.title, n.body, n.priority,
       n.action_url, n.action_label, n.image_url, n.icon_url, n.context_data, n.expires_at,
       f.recipients, f.suppressed, s.read, s.clicked, s.dismissed
  from oriva.broadcasts b
  join oriva.platform_notifications n on n.id = b.id
  cross join lateral oriva.broadcast_audience(b.app_id, b.topic, b.sent_at, n.notification_type, n.category) f
  cross join lateral (
    select count(*) filter (where st.status in ('read', 'clicked'))::int as read,
           count(*) filter (where st.status = 'clicked')::int as clicked,
           count(*) filter (where st.status = 'dismissed')::int as dismissed
      from oriva.notification_state st where st.notification_id = b.id
  ) s
 where b.id = :id and b.app_id = :app_id
