-- One event an app publishes (its event_data.source set by the caller to the app's id), unless the
-- installation rule (oriva.app_may_reach) says the app may not reach its user: then nothing is
-- written and no row returned.
select id, seq, created_at
from oriva.record_events(array(
  select row(:app_id, :user_id, :event_category, :event_type, :entity_type, :entity_id,
             :event_data::jsonb, :ip_address::inet, :user_agent, true)::oriva.new_event
  where oriva.app_may_reach(:app_id, :user_id, :install_required)))
