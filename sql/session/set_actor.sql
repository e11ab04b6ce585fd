-- The acting app, user and platform flag for this transaction only (read by row-level security).
select set_config('oriva.app_id', $1, true),
       set_config('oriva.user_id', $2, true),
       set_config('oriva.platform', $3, true)
