delete from oriva.gateway_instances where id = $1
