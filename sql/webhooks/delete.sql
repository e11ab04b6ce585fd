-- $1 id, $2 app_id
delete from oriva.app_webhooks where id = $1 and app_id = $2 returning id
