-- The active app a live API key belongs to.
select a.id, a.name, a.icon_url, a.is_platform
from oriva.api_keys k
join oriva.apps a on a.id = k.app_id
where k.key_hash = $1
  and (k.revoked_at is null or k.revoked_at > now())
  and a.is_active
