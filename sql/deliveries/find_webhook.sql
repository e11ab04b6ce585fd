-- A webhook of the acting app (row-level security limits it to the app).
select id, app_id, is_active, disabled_reason
  from oriva.app_webhooks
 where id = $1 and app_id = $2
