-- Change one notification's state along the state machine (oriva.notification_transitions), and
-- record notification.<status>, in one statement. Scope: :app_id the owner app (null: any), :user_id
-- the user (null: any). A broadcast's state is its recipient's own row (sql/broadcasts/touch.sql
-- writes it first), so a broadcast is changed only with a :user_id. Returns nothing when the caller may not see the notification; else outcome
-- changed | unchanged | invalid (the move is not allowed) | expired.
with cur as (
  select s.id as state_id, s.status, s.updated_at, n.id, n.app_id, s.user_id, n.external_id, n.expires_at
  from oriva.platform_notifications n
  join oriva.notification_state s on s.notification_id = n.id and s.user_id = coalesce(n.user_id::text, :user_id::text)
  where n.id = :id and (:app_id::text is null or n.app_id = :app_id) and (:user_id::text is null or s.user_id = :user_id)
  for update of s
),
decision as (
  select cur.*,
         case
           when cur.status = 'expired' or (cur.expires_at is not null and cur.expires_at <= now()) then 'expired'
           when cur.status = :status::text then 'unchanged'
           when exists (select 1 from oriva.notification_transitions t
                         where t.from_status = cur.status and t.to_status = :status::text) then 'changed'
           else 'invalid'
         end as outcome
  from cur
),
upd as (
  update oriva.notification_state s
     set status = :status::text,
         updated_at = now(),
         read_at = case when :status = 'read' then now() when :status = 'unread' then null else s.read_at end,
         clicked_at = case when :status = 'clicked' then now() else s.clicked_at end,
         dismissed_at = case when :status = 'dismissed' then now() else s.dismissed_at end,
         dismissed_from = case when :status = 'dismissed' then :dismissed_from::text else s.dismissed_from end,
         click_action = case when :status = 'clicked' then :click_action::text else s.click_action end
    from decision d
   where s.id = d.state_id and d.outcome = 'changed'
  returning s.status, s.updated_at
),
ev as (
  select id, seq
  from oriva.record_events(array(
    select oriva.state_change_event(d.app_id, d.user_id, d.id, d.external_id, :status::text, d.status, :source::text,
             jsonb_build_object('dismissed_from', case when :status = 'dismissed' then :dismissed_from::text end,
                                'click_action', case when :status = 'clicked' then :click_action::text end))
    from decision d
    where d.outcome = 'changed'))
)
select d.id, d.outcome, d.status as previous_status,
       coalesce(upd.status, d.status) as status,
       coalesce(upd.updated_at, d.updated_at) as updated_at,
       ev.id as event_id, ev.seq
from decision d
left join upd on true
left join ev on true
