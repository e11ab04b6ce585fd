-- Webhooks whose secret (or previous secret) is not encrypted with the current key: $1 is its stored
-- prefix ('enc:v1:<key id>:'). Plaintext secrets from before encryption are among them.
select id, app_id, webhook_secret, previous_secret
from oriva.app_webhooks
where not starts_with(webhook_secret, $1)
   or (previous_secret is not null and not starts_with(previous_secret, $1))
