-- Once no transaction older than the fence ($4) is running, every seq in ($1, $2] is final: read
-- them (one page of $3) in the same snapshot. A single row with settled = false means "wait".
with s as (
  select pg_snapshot_xmin(pg_current_snapshot()) >= $4::xid8 as settled
)
select s.settled, e.id, e.seq, e.app_id, e.user_id, e.event_category, e.event_type,
       e.entity_type, e.entity_id, e.event_data, e.created_at
from s
left join lateral (
  select *
  from oriva.platform_events
  where s.settled and seq > $1 and seq <= $2
  order by seq
  limit $3
) e on true
order by e.seq
