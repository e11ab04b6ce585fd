-- Re-register this instance's open user connections after its instance row was expired.
insert into oriva.gateway_connections (id, instance_id, user_id)
select c.id, $1, c.user_id
from unnest($2::uuid[], $3::text[]) as c(id, user_id)
on conflict (id) do nothing
