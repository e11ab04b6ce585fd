-- Stop delivering to a webhook (410 Gone, or too many failures in a row).
update oriva.app_webhooks
   set is_active = false, disabled_reason = $2, updated_at = now()
 where id = $1 and is_active
returning id
