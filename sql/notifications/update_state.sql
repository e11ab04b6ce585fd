-- Change one notification's state along the state machine, and record the platform event, in one
-- statement. Scope: $2 the owner app (null: any), $3 the user (null: any).
-- $1 id, $4 new status, $5 dismissed_from, $6 click_action, $7 event_data.source
-- Returns nothing when the caller may not see the notification; else outcome changed | unchanged |
-- invalid (the transition is not allowed) | expired.
with cur as (
  select s.id as state_id, s.status, s.updated_at, n.id, n.app_id, n.user_id, n.external_id, n.expires_at
  from oriva.platform_notifications n
  join oriva.notification_state s on s.notification_id = n.id
  where n.id = $1 and ($2::text is null or n.app_id = $2) and ($3::text is null or n.user_id = $3)
  for update of s
),
decision as (
  select cur.*,
         case
           when cur.status = 'expired' or (cur.expires_at is not null and cur.expires_at <= now()) then 'expired'
           when cur.status = $4::text then 'unchanged'
           when ($4 = 'read' and cur.status = 'unread')
             or ($4 = 'clicked' and cur.status in ('unread', 'read'))
             or ($4 = 'dismissed' and cur.status in ('unread', 'read', 'clicked'))
             or ($4 = 'unread' and cur.status = 'read') then 'changed'
           else 'invalid'
         end as outcome
  from cur
),
upd as (
  update oriva.notification_state s
     set status = $4,
         updated_at = now(),
         read_at = case when $4 = 'read' then now() when $4 = 'unread' then null else s.read_at end,
         clicked_at = case when $4 = 'clicked' then now() else s.clicked_at end,
         dismissed_at = case when $4 = 'dismissed' then now() else s.dismissed_at end,
         dismissed_from = case when $4 = 'dismissed' then $5::text else s.dismissed_from end,
         click_action = case when $4 = 'clicked' then $6::text else s.click_action end
    from decision d
   where s.id = d.state_id and d.outcome = 'changed'
  returning s.status, s.updated_at
),
ev as (
  insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
  select d.app_id, d.user_id, 'notification', $4, 'notification', d.id::text,
         jsonb_strip_nulls(jsonb_build_object(
           'source', $7::text, 'notification_id', d.id, 'external_id', d.external_id,
           'status', $4::text, 'previous_status', d.status,
           'dismissed_from', case when $4 = 'dismissed' then $5::text end,
           'click_action', case when $4 = 'clicked' then $6::text end))
  from decision d
  where d.outcome = 'changed'
  returning id, seq
)
select d.id, d.outcome, d.status as previous_status,
       coalesce(upd.status, d.status) as status,
       coalesce(upd.updated_at, d.updated_at) as updated_at,
       ev.id as event_id, ev.seq
from decision d
left join upd on true
left join ev on true
