-- Once writers_settled says no writer older than the fence runs, every seq in ($1, $2] is final: read
-- them, one page of $3, oldest first, each with the other apps that hear it (a platform app's event
-- about a user reaches the apps that user installed: oriva.event_audience_apps).
select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at, reaches_user,
       array(select oriva.event_audience_apps(app_id, user_id, event_category)) as audience_apps
from oriva.platform_events
where seq > $1 and seq <= $2
order by seq
limit $3
