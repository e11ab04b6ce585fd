-- Events an app publishes: one, or several single creates sharing a transaction
-- (server/group-commit.ts). Each event_data.source is set by the caller to the app's id. An event
-- whose user the installation rule (oriva.app_reachable_users) says the app may not reach is not written:
-- its row comes back with a null id. One row per input, in input order (ord).
with input as (
  select *
    from unnest(:user_ids::text[], :event_categories::text[], :event_types::text[], :entity_types::text[],
                :entity_ids::text[], :event_data::jsonb[], :ip_addresses::inet[], :user_agents::text[])
         with ordinality as i(user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
                              user_agent, ord)
),
reachable as (
  select input.*, row_number() over (order by ord) as n
    from input
   where user_id in (select u from oriva.app_reachable_users(:app_id, :user_ids::text[], :install_required) u)
),
-- record_events inserts in array order and seq is taken row by row as inserted: the n-th event by seq
-- is the n-th reachable input.
recorded as (
  select e.id, e.seq, e.created_at, row_number() over (order by e.seq) as n
    from oriva.record_events(array(
           select row(:app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
                      user_agent, true)::oriva.new_event
             from reachable
            order by ord)) e
)
select input.ord, recorded.id, recorded.seq, recorded.created_at
  from input
  left join reachable using (ord)
  left join recorded on recorded.n = reachable.n
 order by input.ord
