-- Enqueue attempt $3 of the delivery of event $2 to webhook $1, $4 milliseconds from now
-- (the delivery id and job key are derived from webhook and event, so they stay the same).
select oriva.enqueue_webhook_delivery($1::uuid, $2::uuid, $3::int, now() + make_interval(secs => $4::double precision / 1000))
