-- The new secret signs from now on; the current one keeps signing (a second signature) for 24 hours.
-- $1 id, $2 app_id, $3 new secret
update oriva.app_webhooks
   set previous_secret = webhook_secret,
       previous_secret_expires_at = now() + interval '24 hours',
       webhook_secret = $3,
       updated_at = now()
 where id = $1 and app_id = $2
returning id, previous_secret_expires_at, updated_at
