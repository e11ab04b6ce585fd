-- The apps a user installed, newest first, with their branding. $1 user_id
select i.app_id, a.name as app_name, a.icon_url as app_icon, i.installed_at
from oriva.app_installations i
join oriva.apps a on a.id = i.app_id
where i.user_id = $1
order by i.installed_at desc, i.app_id
