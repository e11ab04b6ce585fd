-- Give back a key claimed by a request that failed inside a shared (group-committed) transaction:
-- alone, its rollback would have removed the claim. $1 app_id, $2 key
delete from oriva.idempotency_keys where app_id = $1 and key = $2 and response_status is null
