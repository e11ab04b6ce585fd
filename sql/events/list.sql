-- An app's events, newest first. Filters are null when not asked for; :limit is one more than the
-- page (to know whether there is more); the cursor (:cursor_created_us, created_at in µs since the
-- epoch, and :cursor_seq) is null on the first page.
select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at,
       (extract(epoch from created_at) * 1000000)::bigint as created_us
from oriva.platform_events
where app_id = :app_id
  and (:event_category::text is null or event_category = :event_category)
  and (:event_type::text is null or event_type = :event_type)
  and (:user_id::text is null or user_id = :user_id)
  and (:entity_id::text is null or entity_id = :entity_id)
  and (:start_date::timestamptz is null or created_at >= :start_date)
  and (:end_date::timestamptz is null or created_at <= :end_date)
  and (:cursor_created_us::bigint is null
       or (created_at, seq) < (timestamptz 'epoch' + :cursor_created_us::bigint * interval '1 microsecond', :cursor_seq::bigint))
order by created_at desc, seq desc
limit :limit offset :offset
