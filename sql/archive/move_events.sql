-- Move up to $2 events created before $1 out of the default partition to the archive (one batch, one
-- transaction). Month partitions are archived whole (archive/event_partition.sql); the default
-- partition holds only the rows no month partition covered when they were written, normally none.
with batch as (
  select id, created_at from oriva.platform_events_default
   where created_at < $1
   order by created_at
   limit $2
     for update skip locked
), moved as (
  delete from oriva.platform_events_default e using batch where e.id = batch.id and e.created_at = batch.created_at
  returning e.id, e.seq, e.tx_id, e.app_id, e.user_id, e.event_category, e.event_type, e.entity_type, e.entity_id,
            e.event_data, e.ip_address, e.user_agent, e.created_at, e.reaches_user
)
insert into oriva.platform_events_archive
  (id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
   user_agent, created_at, reaches_user)
select id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
       user_agent, created_at, reaches_user
  from moved
on conflict (id) do nothing
