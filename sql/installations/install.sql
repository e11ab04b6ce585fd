-- Install an app for a user (nothing changes when it already is). When the installation is new,
-- records app.installed, owned by the app (its webhooks hear it; the user's connections get it).
-- No row: the app is unknown or inactive. created: whether this call installed it.
with app as (
  select id, name, icon_url from oriva.apps where id = :app_id and is_active
),
ins as (
  insert into oriva.app_installations (user_id, app_id)
  select :user_id, id from app
  on conflict (user_id, app_id) do nothing
  returning user_id, app_id, installed_at
),
ev as (
  select count(*) as recorded
  from oriva.record_events(array(
    select row(i.app_id, i.user_id, 'app', 'installed', 'app', i.app_id,
               jsonb_build_object('source', :source::text, 'app_id', i.app_id, 'user_id', i.user_id,
                                  'installed_at', i.installed_at),
               null, null, true)::oriva.new_event
    from ins i))
)
select a.id as app_id, a.name as app_name, a.icon_url as app_icon,
       coalesce(ins.installed_at, existing.installed_at) as installed_at,
       ins.user_id is not null as created
from app a
cross join ev
left join ins on true
left join oriva.app_installations existing on existing.user_id = :user_id and existing.app_id = a.id
