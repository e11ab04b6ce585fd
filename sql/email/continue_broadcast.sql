-- The broadcast's email job again, from user $2 on.
select oriva.enqueue_broadcast_emails($1, $2)
