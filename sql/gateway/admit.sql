-- Register connection $2 of user $3 on instance $1 unless the user already has $4 live ones.
select oriva.gateway_admit($1, $2, $3, $4, $5) as admitted
