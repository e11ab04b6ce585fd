-- Enqueue a fresh attempt for every delivery of webhook $1 that was attempted since $2 and whose
-- latest attempt failed. Returns the delivery ids that were enqueued.
with latest as (
  select distinct on (delivery_id) delivery_id, event_id, success
    from oriva.webhook_delivery_log
   where webhook_id = $1 and delivered_at >= $2 and event_id is not null
   order by delivery_id, delivered_at desc, delivery_attempt desc
)
select l.delivery_id, oriva.enqueue_webhook_delivery($1::uuid, l.event_id, 1) is not null as enqueued
  from latest l
 where not l.success
   -- a delivery that succeeded at some point is done, whatever failed around it
   and not exists (select 1 from oriva.webhook_delivery_log s
                    where s.webhook_id = $1 and s.delivery_id = l.delivery_id and s.success)
