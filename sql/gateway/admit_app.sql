-- Register app connection $2 of app $3 on instance $1 unless the app already has $4 live ones
-- (connections on instances silent for $5 ms do not count).
select oriva.gateway_admit_app($1, $2, $3, $4, $5) as admitted
