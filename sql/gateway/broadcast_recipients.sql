-- The connected users ($3) a broadcast.* event ($1 its app, $2 its event_data) reaches: its audience
-- when it was sent, less those whose preferences keep it out of their feed (oriva.broadcast_event_reaches).
select u.user_id
from unnest($3::text[]) as u (user_id)
where oriva.broadcast_event_reaches($1, $2::jsonb, u.user_id)
