-- Delete up to $2 delivery-log rows older than $1 (one batch).
with batch as (
  select id from oriva.webhook_delivery_log
   where delivered_at < $1
   order by delivered_at
   limit $2
)
delete from oriva.webhook_delivery_log l using batch where l.id = batch.id
