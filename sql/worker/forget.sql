-- These worker ids stopped cleanly: forget them.
delete from oriva.worker_heartbeats where worker_id = any($1::text[])
