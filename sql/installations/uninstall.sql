-- Uninstall an app for a user, recording app.uninstalled (owned by the app). No row: it was not
-- installed. What the app already delivered stays; nothing new gets through.
with del as (
  delete from oriva.app_installations
   where user_id = :user_id and app_id = :app_id
  returning user_id, app_id
)
select del.app_id, ev.seq
from del
cross join oriva.record_events(array(
  select row(d.app_id, d.user_id, 'app', 'uninstalled', 'app', d.app_id,
             jsonb_build_object('source', :source::text, 'app_id', d.app_id, 'user_id', d.user_id),
             null, null, true)::oriva.new_event
  from del d)) ev
