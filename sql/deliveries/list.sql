-- The delivery log of one webhook (every attempt), newest first; keyset pagination on
-- (delivered_at, id); cursor_at is delivered_at as text, exact to the microsecond.
select id, delivery_id, event_id, event_type, delivery_attempt, success, status_code, response_time_ms,
       error_message, response_body, delivered_at, delivered_at::text as cursor_at
  from oriva.webhook_delivery_log
 where webhook_id = $1
   and ($2::text is null or delivery_id = $2)
   and ($3::boolean is null or success = $3)
   and ($4::timestamptz is null or (delivered_at, id) < ($4::timestamptz, $5::uuid))
 order by delivered_at desc, id desc
 limit $6
