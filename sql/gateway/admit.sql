-- Register connection $2 on instance $1 for user $3 or (when $3 is null) app $4, unless that holder
-- already has $5 live connections (connections on instances silent for $6 ms do not count).
select oriva.gateway_admit($1, $2, $3, $4, $5, $6) as admitted
