--! Previous: sha1:009249e352dcac27e45843b644290639ed578108
--! Hash: sha1:c19d032b07ed027431fefb91796943372916ea39
--! Message: The installation rule for many users at once: oriva.app_reachable_users (one index scan over the users of a batch, a group of events or a topic subscription); the routing step, the event insert and topic subscriptions ask it once per statement; app_may_reach (once per item) dropped

--! split: 1-current.sql
-- The installation rule (issue 13) for many users at once. oriva.app_may_reach answered for one user
-- and the routing step asked it once per item (an index probe each, and the platform-app probe each
-- time); a batch now asks once, with one index scan over the batch's users. The grouped event
-- insert and topic subscriptions ask it the same way, so app_may_reach has no caller left and goes:
-- the rule stays written once.

-- Which of these users may this app reach? Every one when install_required is off
-- (INSTALL_REQUIRED=false) or the app is a platform app; else those who installed it.
create or replace function oriva.app_reachable_users(app_id text, user_ids text[], install_required boolean) returns setof text
  language sql stable
  as $$
    select u.user_id
      from unnest(user_ids) as u (user_id)
     where not install_required
        or exists (select 1 from oriva.apps a where a.id = app_reachable_users.app_id and a.is_platform)
        or u.user_id in (select i.user_id from oriva.app_installations i
                          where i.app_id = app_reachable_users.app_id and i.user_id = any(user_ids))
  $$;

drop function if exists oriva.app_may_reach(text, text, boolean);

create or replace function oriva.route_notifications(app_id text, user_ids text[], notification_types text[], categories text[], install_required boolean) returns SETOF oriva.route
  language sql stable
  as $$
    with recipients as (
      select r.ord, r.user_id,
             r.user_id in (select u from oriva.app_reachable_users(route_notifications.app_id, user_ids, install_required) u) as reachable
        from unnest(user_ids) with ordinality as r (user_id, ord)
    ),
    preferred as (
      select * from oriva.preference_routes(route_notifications.app_id, user_ids, notification_types, categories)
    ),
    app_webhooks as (
      select exists (select 1 from oriva.app_webhooks w
                      where w.app_id = route_notifications.app_id and w.is_active
                        and oriva.webhook_hears(w.subscribed_events, 'notification', 'created')) as heard
    )
    select r.ord, r.user_id, 'in_app',
           case when not r.reachable then 'refuse' when p.in_app_reason is not null then 'suppress' else 'deliver' end,
           case when not r.reachable then 'not_installed' else coalesce(p.in_app_reason, 'default') end
      from recipients r left join preferred p on p.ord = r.ord
    union all
    select r.ord, r.user_id, 'email',
           case when not r.reachable then 'refuse' else coalesce(p.email_decision, 'skip') end,
           case when not r.reachable then 'not_installed' else coalesce(p.email_reason, 'no_address') end
      from recipients r left join preferred p on p.ord = r.ord
    union all
    select r.ord, r.user_id, 'webhook',
           case when not r.reachable then 'refuse' when h.heard then 'deliver' else 'skip' end,
           case when not r.reachable then 'not_installed' when h.heard then 'subscribed' else 'no_subscribed_webhook' end
      from recipients r cross join app_webhooks h
  $$;
