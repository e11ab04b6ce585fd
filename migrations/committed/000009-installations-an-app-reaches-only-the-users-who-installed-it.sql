--! Previous: sha1:8c6e58bcf96ed4b37c753c2489a2e36dcaac2925
--! Hash: sha1:0817d1ad447f81c28b5fe140443b9ff2a4867e2f
--! Message: Installations: an app reaches only the users who installed it; a platform app's events about a user reach the apps that user installed

--! split: 1-current.sql
-- Installations (issue 13): an app reaches only the users who installed it, and a platform app's
-- own events about a user reach the apps that user installed.

create table if not exists oriva.app_installations (
  user_id oriva.user_id not null,
  app_id text not null references oriva.apps (id) on delete cascade,
  installed_at timestamptz not null default now(),
  primary key (user_id, app_id)
);
create index if not exists app_installations_app_idx on oriva.app_installations (app_id, installed_at, user_id);

alter table oriva.app_installations enable row level security;
alter table oriva.app_installations force row level security;
-- The API reads the acting app's installations, the acting user's, or (platform) all; only the user
-- or a platform app installs and uninstalls.
drop policy if exists api_read on oriva.app_installations;
create policy api_read on oriva.app_installations for select to oriva_api
  using (app_id = (select oriva.acting_app_id()) or user_id::text = (select oriva.acting_user_id())
         or (select oriva.acting_as_platform()));
drop policy if exists api_install on oriva.app_installations;
create policy api_install on oriva.app_installations for insert to oriva_api
  with check (user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()));
drop policy if exists api_uninstall on oriva.app_installations;
create policy api_uninstall on oriva.app_installations for delete to oriva_api
  using (user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()));
drop policy if exists system_all on oriva.app_installations;
create policy system_all on oriva.app_installations to oriva_system using (true) with check (true);
grant select, insert, delete on oriva.app_installations to oriva_api;
grant select, insert, update, delete on oriva.app_installations to oriva_system;

-- The categories the platform itself emits (mirrors RESERVED_EVENT_CATEGORIES in lib/events.ts; an
-- app may not publish them). A platform app's event in any other category is a platform event
-- about its user, shared with the apps that user installed.
create or replace function oriva.is_reserved_category(event_category text) returns boolean
  language sql immutable
  as $$ select event_category in ('notification', 'app', 'webhook', 'broadcast', 'preferences') $$;

-- The installation rule: may this app reach this user? Platform apps always may; with
-- install_required off (INSTALL_REQUIRED=false) every app may.
create or replace function oriva.app_may_reach(app_id text, user_id text, install_required boolean) returns boolean
  language sql stable
  as $$
    select not install_required
        or exists (select 1 from oriva.apps a where a.id = app_may_reach.app_id and a.is_platform)
        or exists (select 1 from oriva.app_installations i
                    where i.user_id = app_may_reach.user_id and i.app_id = app_may_reach.app_id)
  $$;

-- The apps that hear an event besides its own app: for a platform app's event about a user, outside
-- the platform's own categories, every app that user installed.
create or replace function oriva.event_audience_apps(app_id text, user_id text, event_category text) returns setof text
  language sql stable
  as $$
    select i.app_id
      from oriva.app_installations i
      join oriva.apps publisher on publisher.id = event_audience_apps.app_id and publisher.is_platform
     where i.user_id = event_audience_apps.user_id
       and i.app_id <> event_audience_apps.app_id
       and not oriva.is_reserved_category(event_audience_apps.event_category)
  $$;

create or replace function oriva.tg_platform_events__enqueue_webhooks() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  perform oriva.enqueue_webhook_delivery(d.webhook_id, d.event_id, 1)
  from (select w.id as webhook_id, e.id as event_id
        from new_events e
        cross join lateral (select e.app_id
                            union all
                            select a from oriva.event_audience_apps(e.app_id, e.user_id, e.event_category) a) hears (app_id)
        join oriva.app_webhooks w
          on w.app_id = hears.app_id
         and w.is_active
         and oriva.webhook_hears(w.subscribed_events, e.event_category, e.event_type)
        order by e.seq, w.id) d;
  return null;
end $$;

-- The routing step, now with its first rule (installation): a recipient the app may not reach is
-- refused on every channel, and the create statement writes nothing for that notification.
drop function if exists oriva.route_notifications(text, text[]);
create or replace function oriva.route_notifications(app_id text, user_ids text[], install_required boolean)
  returns setof oriva.route
  language sql stable
  as $$
    with recipients as (
      select r.ord, r.user_id, oriva.app_may_reach(route_notifications.app_id, r.user_id, install_required) as reachable
        from unnest(user_ids) with ordinality as r (user_id, ord)
    ),
    app_webhooks as (
      select exists (select 1 from oriva.app_webhooks w
                      where w.app_id = route_notifications.app_id and w.is_active
                        and oriva.webhook_hears(w.subscribed_events, 'notification', 'created')) as heard
    )
    select r.ord, r.user_id, 'in_app',
           case when r.reachable then 'deliver' else 'refuse' end,
           case when r.reachable then 'default' else 'not_installed' end
      from recipients r
    union all
    select r.ord, r.user_id, 'webhook',
           case when not r.reachable then 'refuse' when h.heard then 'deliver' else 'skip' end,
           case when not r.reachable then 'not_installed' when h.heard then 'subscribed' else 'no_subscribed_webhook' end
      from recipients r cross join app_webhooks h
  $$;
