-- An app's events, newest first. $1 app_id, $2 category, $3 type, $4 user_id, $5 entity_id,
-- $6 start_date, $7 end_date, $8 limit (one more than the page, to know whether there is more),
-- $9 offset, $10/$11 cursor (created_at in µs since the epoch, seq) or nulls
select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at,
       (extract(epoch from created_at) * 1000000)::bigint as created_us
from oriva.platform_events
where app_id = $1
  and ($2::text is null or event_category = $2)
  and ($3::text is null or event_type = $3)
  and ($4::text is null or user_id = $4)
  and ($5::text is null or entity_id = $5)
  and ($6::timestamptz is null or created_at >= $6)
  and ($7::timestamptz is null or created_at <= $7)
  and ($10::bigint is null
       or (created_at, seq) < (timestamptz 'epoch' + $10::bigint * interval '1 microsecond', $11::bigint))
order by created_at desc, seq desc
limit $8 offset $9
