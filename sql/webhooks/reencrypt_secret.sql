-- Store a webhook's secrets re-encrypted, unless they changed since they were read (:read_secret,
-- :read_previous_secret: the values read; a concurrent rotation wins).
update oriva.app_webhooks
   set webhook_secret = :webhook_secret, previous_secret = :previous_secret
 where id = :id and webhook_secret = :read_secret and previous_secret is not distinct from :read_previous_secret
returning id
