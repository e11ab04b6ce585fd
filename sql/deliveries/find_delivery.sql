-- One delivery (any attempt) of a webhook: its event, to replay it.
select event_id, delivery_id
  from oriva.webhook_delivery_log
 where webhook_id = $1 and delivery_id = $2 and event_id is not null
 limit 1
