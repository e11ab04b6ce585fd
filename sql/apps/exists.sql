select 1 from oriva.apps where id = $1
