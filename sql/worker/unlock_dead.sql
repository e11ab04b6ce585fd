-- Give the jobs of workers that stopped beating back to the queue; returns their ids.
select oriva.unlock_dead_workers(make_interval(secs => $1::double precision / 1000)) as worker_ids
