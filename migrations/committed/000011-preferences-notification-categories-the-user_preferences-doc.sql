--! Previous: sha1:a093e90e2764f9e4aca46366e844609cd2a1288e
--! Hash: sha1:d46b1d1bdc615aa7266f4145cdf333f86a5bd0df
--! Message: Preferences: notification categories, the user_preferences document (RLS, announced on oriva_preferences), the preference rule in the routing step, reaches_user on events, quiet hours

--! split: 1-current.sql
-- Preferences (issue 14, DESIGN §9): a notification has a category; each user has one preference
-- document; the routing step applies it in the create transaction. A notification whose in_app
-- channel is suppressed is stored (its external_id still dedupes) but gets no state row (no feed, no
-- count) and its notification.created event does not reach the user's live connections.

-- The categories (mirrors NOTIFICATION_CATEGORIES in lib/schemas/notifications.ts).
do $$ begin
  create domain oriva.notification_category as text
    check (value in ('security', 'system', 'social', 'task'));
exception when duplicate_object then null; end $$;

alter table oriva.platform_notifications
  add column if not exists category oriva.notification_category not null default 'system';
alter table oriva.platform_notifications_archive
  add column if not exists category text not null default 'system';

-- The stream gate: false for an event the user's live connections must not see (the creation of a
-- notification whose in_app channel was suppressed). The owner app still gets it.
alter table oriva.platform_events add column if not exists reaches_user boolean not null default true;
alter table oriva.platform_events_archive add column if not exists reaches_user boolean not null default true;

-- Events are built as oriva.new_event; reaches_user is its last attribute (null means true).
do $$ begin
  alter type oriva.new_event add attribute reaches_user boolean;
exception when duplicate_column then null; end $$;

create or replace function oriva.record_events(events oriva.new_event[]) returns setof oriva.platform_events
  language plpgsql volatile
  as $$
begin
  return query
    with recorded as (
      insert into oriva.platform_events
        (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address, user_agent,
         reaches_user)
      select e.app_id, e.user_id, e.event_category, e.event_type, e.entity_type, e.entity_id, e.event_data,
             e.ip_address, e.user_agent, coalesce(e.reaches_user, true)
        from unnest(events) with ordinality as e
       order by e.ordinality
      returning *
    )
    select * from recorded;
end $$;

create or replace function oriva.state_change_event(app_id text, user_id text, notification_id uuid, external_id text,
                                                    status text, previous_status text, source text,
                                                    extra jsonb default '{}') returns oriva.new_event
  language sql immutable
  as $$
    select row(app_id, user_id, 'notification', status, 'notification', notification_id::text,
               jsonb_build_object('source', source, 'notification_id', notification_id, 'external_id', external_id,
                                  'status', status, 'previous_status', previous_status)
                 || jsonb_strip_nulls(extra),
               null, null, true)::oriva.new_event
  $$;

-- One preference document per user: what they set, normalised (lib/preferences.ts fills the
-- defaults and validates before anything is written). revision counts the writes: the API's ETag,
-- so a stale If-Match is refused instead of overwriting another tab's change.
create table if not exists oriva.user_preferences (
  user_id oriva.user_id primary key,
  document jsonb not null,
  revision bigint not null default 1,
  updated_at timestamptz not null default now()
);

-- Only the user or a platform app reads or writes them; an app never (the routing step asks
-- oriva.in_app_suppressions, which answers with decisions, not documents).
alter table oriva.user_preferences enable row level security;
alter table oriva.user_preferences force row level security;
drop policy if exists api_own on oriva.user_preferences;
create policy api_own on oriva.user_preferences for all to oriva_api
  using (user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()))
  with check (user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()));
drop policy if exists system_all on oriva.user_preferences;
create policy system_all on oriva.user_preferences to oriva_system using (true) with check (true);
grant select, insert, update on oriva.user_preferences to oriva_api;
grant select, insert, update, delete on oriva.user_preferences to oriva_system;

-- Announce every change to the gateways (channel oriva_preferences): they push preferences.updated
-- to the user's live connections. Payload: {"user_id", "revision", "updated_at"}.
create or replace function oriva.tg_user_preferences__announce() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  perform pg_notify('oriva_preferences', json_build_object('user_id', new.user_id, 'revision', new.revision,
                                                             'updated_at', new.updated_at)::text);
  return null;
end $$;
drop trigger if exists _900_announce on oriva.user_preferences;
create trigger _900_announce after insert or update on oriva.user_preferences
  for each row execute function oriva.tg_user_preferences__announce();

-- The preference rule for one channel of one notification: why the user's document switches it off
-- (muted_app, type_off, category_off, channel_off — the most specific first), or null. A channel
-- delivers unless switched off at some level. security cannot be switched off for in_app by a
-- category or channel switch; muting an app (or one of its types) still holds, so an app cannot
-- escape a mute by calling its notifications security. Mirrors SUPPRESSION_REASONS in lib/routing.ts.
create or replace function oriva.preference_suppression(document jsonb, app_id text, notification_type text,
                                                        category text, channel text) returns text
  language sql immutable
  as $$
    select case
      when document is null then null
      when document #> array['apps', app_id, 'muted'] = 'true' then 'muted_app'
      when document #> array['apps', app_id, 'types', notification_type, channel] = 'false' then 'type_off'
      when category = 'security' and channel = 'in_app' then null
      when document #> array['categories', category, channel] = 'false' then 'category_off'
      when document #> array['channels', channel] = 'false' then 'channel_off'
    end
  $$;

-- The in_app decisions of the preference rule for a create (one row per item whose user has a
-- document and switched in_app off for it). Security definer: the acting app may not read
-- preferences, only learn what they decide for its own notifications.
create or replace function oriva.in_app_suppressions(app_id text, user_ids text[], notification_types text[],
                                                     categories text[])
  returns table (ord bigint, reason text)
  language sql stable security definer
  set search_path = pg_catalog
  as $$
    select r.ord, s.reason
      from unnest(user_ids, notification_types, categories) with ordinality as r (user_id, notification_type, category, ord)
      join oriva.user_preferences p on p.user_id = r.user_id
      cross join lateral (select oriva.preference_suppression(p.document, in_app_suppressions.app_id, r.notification_type,
                                                              r.category, 'in_app') as reason) s
     where s.reason is not null
  $$;
revoke all on function oriva.in_app_suppressions(text, text[], text[], text[]) from public;
grant execute on function oriva.in_app_suppressions(text, text[], text[], text[]) to oriva_api, oriva_system;

-- The routing step with its second rule (preferences): in_app is refused (installation), suppressed
-- (the user's preferences, with the reason) or delivered; the owner app's webhook channel does not
-- depend on the user's preferences (it is how the app learns what was suppressed).
drop function if exists oriva.route_notifications(text, text[], boolean);
create or replace function oriva.route_notifications(app_id text, user_ids text[], notification_types text[],
                                                     categories text[], install_required boolean)
  returns setof oriva.route
  language sql stable
  as $$
    with recipients as (
      select r.ord, r.user_id, oriva.app_may_reach(route_notifications.app_id, r.user_id, install_required) as reachable
        from unnest(user_ids) with ordinality as r (user_id, ord)
    ),
    suppressed as (
      select * from oriva.in_app_suppressions(route_notifications.app_id, user_ids, notification_types, categories)
    ),
    app_webhooks as (
      select exists (select 1 from oriva.app_webhooks w
                      where w.app_id = route_notifications.app_id and w.is_active
                        and oriva.webhook_hears(w.subscribed_events, 'notification', 'created')) as heard
    )
    select r.ord, r.user_id, 'in_app',
           case when not r.reachable then 'refuse' when s.reason is not null then 'suppress' else 'deliver' end,
           case when not r.reachable then 'not_installed' else coalesce(s.reason, 'default') end
      from recipients r left join suppressed s on s.ord = r.ord
    union all
    select r.ord, r.user_id, 'webhook',
           case when not r.reachable then 'refuse' when h.heard then 'deliver' else 'skip' end,
           case when not r.reachable then 'not_installed' when h.heard then 'subscribed' else 'no_subscribed_webhook' end
      from recipients r cross join app_webhooks h
  $$;

-- Quiet hours (DESIGN §9, asked by the email channel of §10): is this document's window open at
-- `at`, and until when? The window is wall-clock time in the document's zone ({"start":"22:00",
-- "end":"07:00","timezone":"Europe/Berlin"}); it crosses midnight when end <= start, and start = end
-- means no window. Each local bound becomes an instant in its own day's offset, so a window across a
-- DST change is an hour shorter or longer. A bound in the hour that does not exist (spring forward)
-- is read in the offset before the change (02:30 Berlin on the change day = 03:30 CEST); a bound in
-- the hour that occurs twice (fall back) is the later, standard-time one — PostgreSQL's rules for
-- `timestamp at time zone`. Always one row: (false, null) outside a window or with no quiet hours.
create or replace function oriva.quiet_hours_at(quiet_hours jsonb, at timestamptz)
  returns table (in_quiet boolean, quiet_until timestamptz)
  language sql stable
  set search_path = pg_catalog
  as $$
  with q as (
    select (quiet_hours->>'start')::time as starts, (quiet_hours->>'end')::time as ends, quiet_hours->>'timezone' as zone
    where jsonb_typeof(quiet_hours) = 'object'
  ),
  windows as (
    -- the windows that start on the local day of `at` and on the day before (one may still be open)
    select (day + q.starts) at time zone q.zone as opens,
           (day + case when q.ends > q.starts then 0 else 1 end + q.ends) at time zone q.zone as closes
    from q, lateral (values ((at at time zone q.zone)::date - 1), ((at at time zone q.zone)::date)) as d (day)
    where q.starts <> q.ends
  )
  select count(*) > 0, max(closes) from windows where opens <= at and at < closes
$$;

-- The same question for a user: their stored document's quiet hours at `at`.
create or replace function oriva.user_quiet_hours_at(user_id text, at timestamptz)
  returns table (in_quiet boolean, quiet_until timestamptz)
  language sql stable
  set search_path = pg_catalog
  as $$
  select w.in_quiet, w.quiet_until
  from (select (select p.document->'quiet_hours' from oriva.user_preferences p where p.user_id = user_quiet_hours_at.user_id) as doc) u,
       oriva.quiet_hours_at(u.doc, at) w
$$;
