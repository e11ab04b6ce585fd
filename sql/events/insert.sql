-- One generic event. $1 app_id, $2 user_id, $3 category, $4 type, $5 entity_type, $6 entity_id,
-- $7 event_data, $8 ip_address, $9 user_agent
insert into oriva.platform_events
  (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address, user_agent)
values ($1, $2, $3, $4, $5, $6, $7, $8::inet, $9)
returning id, seq, created_at
