--! Previous: sha1:15d7b4e3854c1f8c929863dbacdd3df22c465c84
--! Hash: sha1:8c6e58bcf96ed4b37c753c2489a2e36dcaac2925
--! Message: States, transitions and unread defined once; one function records platform events; job names in enqueue functions; the routing step (oriva.route_notifications)

--! split: 1-current.sql
-- One definition of each domain word, one way to record a platform event, and the routing step
-- (issue 12). lib/notification-states.ts, lib/jobs.ts and lib/routing.ts mirror these; the tests
-- in test/db/definitions.test.ts fail when either side drifts.

-- Notification states, and the moves between them. The REST API asks for the user's moves; the
-- worker makes the expiry ones.
create domain oriva.notification_status as text
  check (value in ('unread', 'read', 'clicked', 'dismissed', 'expired'));

alter table oriva.notification_state drop constraint notification_state_status_check;
alter table oriva.notification_state alter column status type oriva.notification_status;

create table oriva.notification_transitions (
  from_status oriva.notification_status not null,
  to_status oriva.notification_status not null,
  primary key (from_status, to_status)
);
insert into oriva.notification_transitions (from_status, to_status) values
  ('unread', 'read'), ('read', 'unread'),
  ('unread', 'clicked'), ('read', 'clicked'),
  ('unread', 'dismissed'), ('read', 'dismissed'), ('clicked', 'dismissed'),
  ('unread', 'expired'), ('read', 'expired'), ('clicked', 'expired'), ('dismissed', 'expired');
grant select on oriva.notification_transitions to oriva_api, oriva_system;

-- "Unread": unread and not past its expiry. "In the feed" (what GET /notifications shows unless
-- a status is asked for): unread, read or clicked, and not past its expiry. Plain SQL functions,
-- so the planner inlines them and the indexes on status still apply.
create function oriva.is_unread(status text, expires_at timestamptz) returns boolean
  language sql stable
  as $$ select status = 'unread' and (expires_at is null or expires_at > now()) $$;

create function oriva.in_feed(status text, expires_at timestamptz) returns boolean
  language sql stable
  as $$ select status in ('unread', 'read', 'clicked') and (expires_at is null or expires_at > now()) $$;

-- Recording platform events: every writer passes its events to oriva.record_events, built with
-- oriva.new_event (any event) or oriva.state_change_event (a notification changed state).
create type oriva.new_event as (
  app_id text,
  user_id text,
  event_category text,
  event_type text,
  entity_type text,
  entity_id text,
  event_data jsonb,
  ip_address inet,
  user_agent text
);

create function oriva.record_events(events oriva.new_event[]) returns setof oriva.platform_events
  language sql volatile
  as $$
    insert into oriva.platform_events
      (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address, user_agent)
    select e.app_id, e.user_id, e.event_category, e.event_type, e.entity_type, e.entity_id, e.event_data,
           e.ip_address, e.user_agent
      from unnest(events) with ordinality as e
     order by e.ordinality
    returning *
  $$;

-- notification.<status>: one notification's state changed for its user. extra adds fields
-- (bulk, sweep, dismissed_from, click_action); nulls in it are left out.
create function oriva.state_change_event(app_id text, user_id text, notification_id uuid, external_id text,
                                         status text, previous_status text, source text,
                                         extra jsonb default '{}') returns oriva.new_event
  language sql immutable
  as $$
    select row(app_id, user_id, 'notification', status, 'notification', notification_id::text,
               jsonb_build_object('source', source, 'notification_id', notification_id, 'external_id', external_id,
                                  'status', status, 'previous_status', previous_status)
                 || jsonb_strip_nulls(extra),
               null, null)::oriva.new_event
  $$;

-- Job names live in the functions that enqueue them (and in worker/crontab for the cron tasks).
create function oriva.enqueue_notification_expiry(notification_id uuid, run_at timestamptz) returns void
  language sql volatile
  set search_path = pg_catalog
  as $$
    select oriva.add_job('notification_expire', json_build_object('notification_id', notification_id), run_at,
                         'expire:' || notification_id::text)
  $$;
revoke all on function oriva.enqueue_notification_expiry(uuid, timestamptz) from public;
grant execute on function oriva.enqueue_notification_expiry(uuid, timestamptz) to oriva_api, oriva_system;

-- Which webhooks hear an event: one definition for the fan-out trigger and the routing step.
create function oriva.webhook_hears(subscribed_events text[], event_category text, event_type text) returns boolean
  language sql immutable
  as $$ select subscribed_events && array['*', event_category || '.*', event_category || '.' || event_type] $$;

create or replace function oriva.tg_platform_events__enqueue_webhooks() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  perform oriva.enqueue_webhook_delivery(d.webhook_id, d.event_id, 1)
  from (select w.id as webhook_id, e.id as event_id
        from new_events e
        join oriva.app_webhooks w
          on w.app_id = e.app_id
         and w.is_active
         and oriva.webhook_hears(w.subscribed_events, e.event_category, e.event_type)
        order by e.seq, w.id) d;
  return null;
end $$;

-- The routing step: where written notifications become deliveries. One row per notification (by
-- its position in the statement), recipient and channel, with the decision and why.
--   recipients: the notification's own user;
--   channels:   in_app  — the feed and unread count (the create statement writes the state row
--                         only when in_app is delivered) and the stream (the gateway sends the
--                         user the notification.created event);
--               webhook — the owner app's webhooks that hear notification.created (the fan-out
--                         trigger enqueues them from the event);
--   rules:      none refuses anything yet.
-- Part two adds recipients (topics, everyone), channels (email) and rules (installation,
-- preferences, quiet hours) here, each as a function with a typed outcome.
create type oriva.route as (
  ord bigint,
  user_id text,
  channel text,
  decision text,
  reason text
);

create function oriva.route_notifications(app_id text, user_ids text[]) returns setof oriva.route
  language sql stable
  as $$
    with recipients as (
      select r.ord, r.user_id from unnest(user_ids) with ordinality as r (user_id, ord)
    ),
    app_webhooks as (
      select exists (select 1 from oriva.app_webhooks w
                      where w.app_id = route_notifications.app_id and w.is_active
                        and oriva.webhook_hears(w.subscribed_events, 'notification', 'created')) as heard
    )
    select r.ord, r.user_id, 'in_app', 'deliver', 'default'
      from recipients r
    union all
    select r.ord, r.user_id, 'webhook',
           case when h.heard then 'deliver' else 'skip' end,
           case when h.heard then 'subscribed' else 'no_subscribed_webhook' end
      from recipients r cross join app_webhooks h
  $$;
