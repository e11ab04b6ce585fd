-- The delivery log of one webhook (every attempt), newest first; keyset pagination on
-- (delivered_at, id); cursor_at is delivered_at as text, exact to the microsecond. Filters and the
-- cursor are null when not given; :limit is one more than the page.
select id, delivery_id, event_id, event_type, delivery_attempt, success, status_code, response_time_ms,
       error_message, response_body, delivered_at, delivered_at::text as cursor_at
  from oriva.webhook_delivery_log
 where webhook_id = :webhook_id
   and (:delivery_id::text is null or delivery_id = :delivery_id)
   and (:success::boolean is null or success = :success)
   and (:cursor_at::timestamptz is null or (delivered_at, id) < (:cursor_at::timestamptz, :cursor_id::uuid))
 order by delivered_at desc, id desc
 limit :limit
