-- The response to replay for this key. $1 app_id, $2 key, $3 status, $4 body
update oriva.idempotency_keys set response_status = $3, response_body = $4 where app_id = $1 and key = $2
