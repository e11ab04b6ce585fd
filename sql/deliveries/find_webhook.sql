-- A webhook of app $2 (null: of any app the caller may read — platform apps, for the console's
-- webhook health; row-level security limits an app to its own).
select id, app_id, is_active, disabled_reason
  from oriva.app_webhooks
 where id = $1 and ($2::text is null or app_id = $2)
