-- Create notifications (one or a batch) in one statement. The routing step
-- (oriva.route_notifications) decides first: a notification whose recipient it refuses (the user
-- has not installed the app) is not written at all. For the others: the rows (in item order; a
-- duplicate (app_id, external_id) is skipped); the state row where in_app is delivered (not where
-- the user's preferences suppress it: then no feed entry, no count); one notification.created event
-- each, carrying the notification and the suppressed channels with their reasons (reaching the
-- user's live connections only when in_app is delivered); an expiry job for those with expires_at;
-- a pending email and the user's digest job where the email channel delivers.
-- One array per column, in item order. Returns a row per created notification (with the reasons its
-- in_app and email channels were suppressed, if they were) and a row per refused item (by its position); an item in
-- neither is a duplicate.
with input as (
  select *
  from unnest(:external_ids::text[], :user_ids::text[], :notification_types::text[], :titles::text[],
              :bodies::text[], :action_urls::text[], :action_labels::text[], :image_urls::text[], :icon_urls::text[],
              :context_data::jsonb[], :priorities::text[], :expires_at::timestamptz[], :categories::text[])
       with ordinality as i (external_id, user_id, notification_type, title, body, action_url, action_label,
                             image_url, icon_url, context_data, priority, expires_at, category, ord)
),
routes as (
  select * from oriva.route_notifications(:app_id, :user_ids::text[], :notification_types::text[], :categories::text[],
                                      :install_required)
),
refused as (
  select ord, min(reason) as reason from routes where decision = 'refuse' group by ord
),
n as (
  insert into oriva.platform_notifications
    (app_id, external_id, user_id, notification_type, title, body, action_url, action_label,
     image_url, icon_url, context_data, priority, expires_at, category)
  select :app_id, external_id, user_id, notification_type, title, body, action_url, action_label,
         image_url, icon_url, context_data, priority, expires_at, category
  from input
  where ord not in (select ord from refused)
  order by ord
  on conflict (app_id, external_id) do nothing
  returning *
),
routed as (
  -- every item's in_app and email decision and reason, as arrays in item order (one recipient per
  -- item); and each external_id's first item (a repeat later in the batch is a duplicate), looked up
  -- by key (an object keeps the last value given for a key: hence descending)
  select array_agg(decision order by ord) filter (where channel = 'in_app') as in_app_decisions,
         array_agg(reason order by ord) filter (where channel = 'in_app') as in_app_reasons,
         array_agg(decision order by ord) filter (where channel = 'email') as email_decisions,
         array_agg(reason order by ord) filter (where channel = 'email') as email_reasons,
         (select jsonb_object_agg(external_id, ord order by ord desc) from input) as first_ords
  from routes
),
created as (
  -- each created row with its item's routes (its item: the first one with its external_id)
  select n.*, r.in_app_decisions[i.ord] = 'deliver' as in_app,
         case when r.in_app_decisions[i.ord] = 'suppress' then r.in_app_reasons[i.ord] end as suppressed,
         r.email_decisions[i.ord] = 'deliver' as emailed, r.email_decisions[i.ord] as email_decision,
         r.email_reasons[i.ord] as email_reason,
         case when r.email_decisions[i.ord] = 'suppress' then r.email_reasons[i.ord] end as email_suppressed
  from n
  cross join routed r
  cross join lateral (select (r.first_ords ->> n.external_id)::bigint as ord) i
),
s as (
  insert into oriva.notification_state (notification_id, app_id, user_id, expires_at)
  select c.id, c.app_id, c.user_id, c.expires_at
  from created c
  where c.in_app
),
e as (
  select count(*) as recorded
  from oriva.record_events(array(
    select row(n.app_id, n.user_id, 'notification', 'created', 'notification', n.id::text,
               jsonb_build_object('source', :source::text, 'notification', jsonb_build_object(
                 'id', n.id, 'app_id', n.app_id, 'app_name', a.name, 'app_icon', a.icon_url,
                 'external_id', n.external_id, 'user_id', n.user_id, 'notification_type', n.notification_type,
                 'category', n.category,
                 'title', n.title, 'body', n.body, 'action_url', n.action_url, 'action_label', n.action_label,
                 'image_url', n.image_url, 'icon_url', n.icon_url, 'context_data', n.context_data,
                 'priority', n.priority, 'status', 'unread', 'expires_at', n.expires_at, 'created_at', n.created_at),
                 'suppressed', case when n.suppressed is null then '[]'::jsonb
                                    else jsonb_build_array(jsonb_build_object('channel', 'in_app', 'reason', n.suppressed)) end
                               || case when n.email_suppressed is null then '[]'::jsonb
                                    else jsonb_build_array(jsonb_build_object('channel', 'email', 'reason', n.email_suppressed)) end,
                 'email', jsonb_build_object('decision', n.email_decision, 'reason', n.email_reason)),
               null, null, n.in_app)::oriva.new_event
    from created n cross join (select a.name, a.icon_url from oriva.apps a where a.id = :app_id) a))
),
jobs as (
  select count(*) as enqueued
  from (select oriva.enqueue_notification_expiry(n.id, n.expires_at)::text as done
        from n where n.expires_at is not null) j
),
emails as (
  -- the email channel: a pending delivery each, and the user's digest job (oriva.schedule_emails)
  select oriva.schedule_emails(array_agg(c.id), array_agg(c.app_id), array_agg(c.user_id::text),
                               array_agg(c.priority = 'urgent')) as scheduled
  from created c
  where c.emailed
)
select 'created' as outcome, n.external_id, null::bigint as ord, n.suppressed as reason, n.email_suppressed, n.id, n.created_at
from created n cross join e cross join jobs cross join emails
union all
select 'refused', null, f.ord, f.reason, null, null, null
from refused f
