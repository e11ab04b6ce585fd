-- This process is alive: refresh the heartbeat of each of its graphile-worker ids.
insert into oriva.worker_heartbeats (worker_id, hostname, pid)
select unnest($1::text[]), $2, $3
on conflict (worker_id) do update set beat_at = now()
