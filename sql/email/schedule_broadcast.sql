-- One page of a broadcast's email deliveries: users after $2, at most $3 (oriva.schedule_broadcast_emails).
-- Returns the page's last user (null: no user left).
select oriva.schedule_broadcast_emails($1, $2, $3) as last_user
