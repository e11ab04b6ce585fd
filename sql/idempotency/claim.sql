-- Claim an Idempotency-Key for this request (in the write's transaction), forgetting the app's other
-- keys older than 24 hours on the way. Returns claimed = true, or the stored request hash and
-- response (none while the first request with this key is still running).
-- $1 app_id, $2 key, $3 request hash
with expired as (
  delete from oriva.idempotency_keys
   where app_id = $1 and key <> $2 and created_at < now() - interval '24 hours'
),
claim as (
  insert into oriva.idempotency_keys (app_id, key, request_hash)
  values ($1, $2, $3)
  on conflict (app_id, key) do update
    set request_hash = excluded.request_hash, response_status = null, response_body = null, created_at = now()
    where oriva.idempotency_keys.created_at < now() - interval '24 hours'
  returning true as claimed
)
select coalesce((select claimed from claim), false) as claimed,
       k.request_hash, k.response_status, k.response_body
from (select 1) one
left join oriva.idempotency_keys k on k.app_id = $1 and k.key = $2 and not exists (select 1 from claim)
