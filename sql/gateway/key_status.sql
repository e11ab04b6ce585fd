-- Re-check the API key digests $2 that app $1's open connections were admitted with: one row per
-- digest still stored. live uses the test of apps/find_by_key; is_active and is_platform let the
-- gateway name why a key stopped working (and compare the platform flag the connection was routed
-- with). revokes_in_ms: for a live key with a future revoked_at (a rotation's grace period), how
-- long it has left by the database's clock. A digest without a row was deleted.
select k.key_hash,
       k.revoked_at,
       (k.revoked_at is null or k.revoked_at > now()) and a.is_active as live,
       case when k.revoked_at > now() then (extract(epoch from k.revoked_at - now()) * 1000)::float8 end as revokes_in_ms,
       a.is_active,
       a.is_platform
from oriva.api_keys k
join oriva.apps a on a.id = k.app_id
where k.app_id = $1
  and k.key_hash = any($2::bytea[])
