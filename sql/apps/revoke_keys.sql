-- Revoke every live key of an app, at once or after a grace period ($2 seconds).
update oriva.api_keys
set revoked_at = now() + make_interval(secs => $2)
where app_id = $1 and (revoked_at is null or revoked_at > now() + make_interval(secs => $2))
returning id
