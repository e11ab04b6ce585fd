-- Register a connection on this instance for a user or (when :user_id is null) an app, unless that
-- holder already has :max_connections live connections (connections on instances silent for
-- :stale_ms do not count).
select oriva.gateway_admit(:instance_id, :connection_id, :user_id, :app_id, :max_connections, :stale_ms) as admitted
