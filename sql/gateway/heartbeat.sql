-- Register or refresh this gateway instance; inserted = true when its row was gone (first beat, or
-- another instance expired it while this one could not reach the database).
insert into oriva.gateway_instances as i (id) values ($1)
on conflict (id) do update set heartbeat_at = now()
returning (i.xmax = 0) as inserted
