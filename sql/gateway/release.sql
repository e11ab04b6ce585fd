delete from oriva.gateway_connections where id = $1
