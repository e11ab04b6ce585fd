-- Store webhook $1's secrets re-encrypted ($2 current, $3 previous), unless they changed since they
-- were read ($4, $5: the values read; a concurrent rotation wins).
update oriva.app_webhooks
   set webhook_secret = $2, previous_secret = $3
 where id = $1 and webhook_secret = $4 and previous_secret is not distinct from $5
returning id
