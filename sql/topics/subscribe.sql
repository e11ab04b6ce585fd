-- Add users to an app's topic (idempotent: a current member stays as they are). With the
-- installation rule on, a user who has not installed the app is refused and nothing is written:
-- :refuse_missing. Returns the users added now and the users refused (outcome added | refused).
with input as (
  select distinct u.user_id from unnest(:user_ids::text[]) as u (user_id)
),
refused as (
  select i.user_id from input i
   where i.user_id not in (select u from oriva.app_reachable_users(:app_id, :user_ids::text[], :install_required) u)
),
added as (
  insert into oriva.topic_subscriptions (app_id, topic, user_id)
  select :app_id, :topic, i.user_id from input i
   where not exists (select 1 from refused)
   order by i.user_id
  on conflict (app_id, topic, user_id) where unsubscribed_at is null do nothing
  returning user_id
)
select 'added' as outcome, user_id::text from added
union all
select 'refused', user_id from refused
