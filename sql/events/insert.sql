-- One event an app publishes (its event_data.source set by the caller to the app's id).
select id, seq, created_at
from oriva.record_events(array[row(:app_id, :user_id, :event_category, :event_type, :entity_type, :entity_id,
                                   :event_data::jsonb, :ip_address::inet, :user_agent)::oriva.new_event])
