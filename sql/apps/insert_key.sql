insert into oriva.api_keys (app_id, key_hash, prefix)
values ($1, $2, $3)
