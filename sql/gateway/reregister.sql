-- Re-register this instance ($1) open connections after its instance row was expired: ids $2, each
-- held by user $3[i] or (user null) app $4[i].
insert into oriva.gateway_connections (id, instance_id, user_id, app_id)
select c.id, $1, c.user_id, c.app_id
from unnest($2::uuid[], $3::text[], $4::text[]) as c(id, user_id, app_id)
on conflict (id) do nothing
