insert into oriva.apps (id, name, icon_url, is_platform)
values ($1, $2, $3, $4)
returning id
