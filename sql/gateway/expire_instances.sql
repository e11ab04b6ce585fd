-- Forget instances (and their connections) whose heartbeat is older than $1 ms: crashed gateways.
delete from oriva.gateway_instances where heartbeat_at < now() - make_interval(secs => $1 / 1000.0)
