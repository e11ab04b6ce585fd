-- Resume: the events in ($1, $2] one connection may see (user $3 across apps, or app $4, optionally
-- only user $3), oldest first; at most $5 rows (one more than that means "too far behind").
select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at
from oriva.platform_events
where seq > $1 and seq <= $2
  and ($3::text is null or user_id = $3)
  and ($4::text is null or app_id = $4)
order by seq
limit $5
