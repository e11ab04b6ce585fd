-- Take hits from a rate-limit window shared by every server process. $1 key, $2 window ms, $3 max, $4 cost
select remaining, (extract(epoch from reset_at) * 1000)::bigint as reset_ms
from oriva.rate_limit_take($1, $2, $3, $4)
