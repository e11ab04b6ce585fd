-- Once writers_settled says no writer older than the fence runs, every seq in ($1, $2] is final: read
-- them, one page of $3, oldest first.
select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at
from oriva.platform_events
where seq > $1 and seq <= $2
order by seq
limit $3
