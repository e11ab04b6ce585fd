--! Previous: sha1:0ec92900113d73c21babfd5c68af359ea33dca67
--! Hash: sha1:f065b2cab7dd0339d7fef666237957e12cdcf9b6
--! Message: Insight: hourly stats rollups (first_read_at, log histograms, oriva.stats_roll_up, email and webhook counting triggers), webhook health episodes, full-text search index, platform read of webhooks

--! split: 1-current.sql
-- Insight (DESIGN §12): hourly rollups the stats endpoints read instead of the event log, and
-- webhook health alerts.
--
-- Counts are of notifications created in the hour (a cohort): what later happens to a notification
-- (read, clicked, dismissed, expired, emailed) is added to the hour it was created in. Three writers
-- keep them, none on the create path:
--   - oriva.stats_roll_up: the worker's stats_rollup cron reads settled events by seq (created,
--     delivered, suppressed, broadcasts, and what recipients did) — a trigger on platform_events
--     would make every create of an app wait on its hour's row;
--   - the email channel's status changes (trigger on oriva.email_deliveries, already batched);
--   - webhook attempts (trigger on oriva.webhook_delivery_log, already batched), per app and hour.
-- All times are UTC hours.

-- "Read" in the stats is the first time a recipient read or clicked a notification; reading it again
-- after marking it unread is not a second read. Kept by one trigger for every writer of state rows.
alter table oriva.notification_state add column if not exists first_read_at timestamptz;
update oriva.notification_state
   set first_read_at = least(read_at, clicked_at)
 where first_read_at is null and (read_at is not null or clicked_at is not null);

create or replace function oriva.tg_notification_state__first_read() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  new.first_read_at := now();
  return new;
end $$;

drop trigger if exists _100_first_read on oriva.notification_state;
create trigger _100_first_read before insert or update of status on oriva.notification_state
  for each row when (new.status in ('read', 'clicked') and new.first_read_at is null)
  execute function oriva.tg_notification_state__first_read();

-- Durations (time to read, webhook latency) are kept as log histograms, {"<bin>": count}: bin b
-- holds durations in (1.1^(b-1), 1.1^b] ms, bin 0 those of at most 1 ms. A percentile read from
-- them (the upper bound of its bin) is at most 10% above the true value; they add up exactly
-- across hours, apps and types.
create or replace function oriva.log_bin(ms double precision) returns integer
  language sql immutable
  as $$ select case when ms <= 1 then 0 else ceil(ln(ms) / ln(1.1))::integer end $$;

create or replace function oriva.histogram_add(a jsonb, b jsonb) returns jsonb
  language sql immutable
  as $$
    select coalesce(jsonb_object_agg(bin, n), '{}'::jsonb)
      from (select bin, sum(n::bigint) as n
              from (select * from jsonb_each_text(coalesce(a, '{}'::jsonb))
                    union all
                    select * from jsonb_each_text(coalesce(b, '{}'::jsonb))) both_ (bin, n)
             group by bin) s
  $$;


create table if not exists oriva.notification_stats_hourly (
  app_id text not null references oriva.apps(id) on delete cascade,
  hour timestamptz not null,
  notification_type text not null,
  category text not null,
  created bigint not null default 0,
  suppressed bigint not null default 0,
  delivered bigint not null default 0,
  read bigint not null default 0,
  clicked bigint not null default 0,
  dismissed bigint not null default 0,
  expired bigint not null default 0,
  emails_sent bigint not null default 0,
  emails_failed bigint not null default 0,
  time_to_read jsonb not null default '{}'::jsonb,
  primary key (app_id, hour, notification_type, category)
);
create index if not exists notification_stats_hourly_hour_idx on oriva.notification_stats_hourly (hour);

create table if not exists oriva.webhook_stats_hourly (
  app_id text not null references oriva.apps(id) on delete cascade,
  hour timestamptz not null,
  ok bigint not null default 0,
  failed bigint not null default 0,
  latency jsonb not null default '{}'::jsonb,
  primary key (app_id, hour)
);
create index if not exists webhook_stats_hourly_hour_idx on oriva.webhook_stats_hourly (hour);

-- How far the event log has been rolled up: every event with seq <= rolled_up_seq is counted.
create table if not exists oriva.stats_progress (
  singleton boolean primary key default true constraint stats_progress_singleton check (singleton),
  rolled_up_seq bigint not null default 0,
  rolled_up_at timestamptz
);
insert into oriva.stats_progress (singleton) values (true) on conflict do nothing;

alter table oriva.notification_stats_hourly enable row level security;
alter table oriva.notification_stats_hourly force row level security;
alter table oriva.webhook_stats_hourly enable row level security;
alter table oriva.webhook_stats_hourly force row level security;
alter table oriva.stats_progress enable row level security;
alter table oriva.stats_progress force row level security;
drop policy if exists api_read on oriva.notification_stats_hourly;
create policy api_read on oriva.notification_stats_hourly for select to oriva_api
  using (app_id = (select oriva.acting_app_id()) or (select oriva.acting_as_platform()));
drop policy if exists system_all on oriva.notification_stats_hourly;
create policy system_all on oriva.notification_stats_hourly to oriva_system using (true) with check (true);
drop policy if exists api_read on oriva.webhook_stats_hourly;
create policy api_read on oriva.webhook_stats_hourly for select to oriva_api
  using (app_id = (select oriva.acting_app_id()) or (select oriva.acting_as_platform()));
drop policy if exists system_all on oriva.webhook_stats_hourly;
create policy system_all on oriva.webhook_stats_hourly to oriva_system using (true) with check (true);
drop policy if exists api_read on oriva.stats_progress;
create policy api_read on oriva.stats_progress for select to oriva_api using (true);
drop policy if exists system_all on oriva.stats_progress;
create policy system_all on oriva.stats_progress to oriva_system using (true) with check (true);
grant select on oriva.notification_stats_hourly, oriva.webhook_stats_hourly, oriva.stats_progress to oriva_api;
grant select, insert, update, delete on oriva.notification_stats_hourly, oriva.webhook_stats_hourly, oriva.stats_progress to oriva_system;

-- Add the events with seq in (p_after, p_upto] — all settled — to the hourly rollup. The caller
-- (worker/stats/rollup.ts) holds stats_progress's row and moves it in the same transaction.
--   notification.created: created, and delivered (it reached the user's feed) or suppressed;
--   broadcast.sent: created, and its audience when sent, delivered or suppressed (oriva.broadcast_audience);
--   notification.read / clicked: read when it is the recipient's first read (first_read_at), with the
--     time since the notification was created; clicked; notification.dismissed; notification.expired.
-- A notification deleted before its events are rolled up (within a minute) is not counted further.
create or replace function oriva.stats_roll_up(p_after bigint, p_upto bigint) returns void
  language sql volatile security definer
  set search_path = pg_catalog
  set timezone = 'UTC'
  as $$
    with e as materialized (
      select seq, app_id, user_id, event_category, event_type, entity_id, event_data, created_at, reaches_user
        from oriva.platform_events
       where seq > p_after and seq <= p_upto
         and event_category in ('notification', 'broadcast')
         and event_type in ('created', 'sent', 'read', 'clicked', 'dismissed', 'expired')
    ),
    facts (app_id, created_at, notification_type, category, created, suppressed, delivered,
           read, clicked, dismissed, expired, read_ms) as (
      select e.app_id, e.created_at, e.event_data #>> '{notification,notification_type}',
             e.event_data #>> '{notification,category}',
             1, (not e.reaches_user)::int, e.reaches_user::int, 0, 0, 0, 0, null::double precision
        from e
       where e.event_category = 'notification' and e.event_type = 'created'
      union all
      select e.app_id, e.created_at, e.event_data #>> '{notification,notification_type}',
             e.event_data #>> '{notification,category}',
             1, a.suppressed, a.recipients - a.suppressed, 0, 0, 0, 0, null
        from e
       cross join lateral oriva.broadcast_audience(e.app_id, e.event_data #>> '{broadcast,audience,topic}',
                                                    (e.event_data #>> '{broadcast,sent_at}')::timestamptz,
                                                    e.event_data #>> '{notification,notification_type}',
                                                    e.event_data #>> '{notification,category}') a
       where e.event_category = 'broadcast' and e.event_type = 'sent'
      union all
      select n.app_id, n.created_at, n.notification_type, n.category, 0, 0, 0,
             (s.first_read_at = e.created_at)::int,
             (e.event_type = 'clicked')::int,
             (e.event_type = 'dismissed')::int,
             (e.event_type = 'expired')::int,
             case when s.first_read_at = e.created_at
                  then greatest(extract(epoch from e.created_at - n.created_at) * 1000, 0) end
        from e
        join oriva.platform_notifications n
          on n.id = case when e.event_category = 'notification' then e.entity_id::uuid end
        left join oriva.notification_state s on s.notification_id = n.id and s.user_id = e.user_id
       where e.event_category = 'notification' and e.event_type in ('read', 'clicked', 'dismissed', 'expired')
    ),
    binned as (
      select app_id, date_trunc('hour', created_at) as hour, notification_type, category, oriva.log_bin(read_ms) as bin,
             sum(created) as created, sum(suppressed) as suppressed, sum(delivered) as delivered, sum(read) as read,
             sum(clicked) as clicked, sum(dismissed) as dismissed, sum(expired) as expired, count(read_ms) as timed
        from facts
       group by 1, 2, 3, 4, 5
    )
    insert into oriva.notification_stats_hourly as s
      (app_id, hour, notification_type, category, created, suppressed, delivered, read, clicked, dismissed, expired,
       time_to_read)
    select app_id, hour, notification_type, category, sum(created), sum(suppressed), sum(delivered), sum(read),
           sum(clicked), sum(dismissed), sum(expired),
           coalesce(jsonb_object_agg(bin, timed) filter (where bin is not null), '{}'::jsonb)
      from binned
     group by app_id, hour, notification_type, category
     order by app_id, hour, notification_type, category
    on conflict (app_id, hour, notification_type, category) do update
       set created = s.created + excluded.created,
           suppressed = s.suppressed + excluded.suppressed,
           delivered = s.delivered + excluded.delivered,
           read = s.read + excluded.read,
           clicked = s.clicked + excluded.clicked,
           dismissed = s.dismissed + excluded.dismissed,
           expired = s.expired + excluded.expired,
           time_to_read = oriva.histogram_add(s.time_to_read, excluded.time_to_read)
  $$;

-- Emails: a notification's email delivery reaching sent, or failed / bouncing, counts once.
create or replace function oriva.tg_email_deliveries__count() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  set timezone = 'UTC'
  as $$
begin
  insert into oriva.notification_stats_hourly as s
    (app_id, hour, notification_type, category, emails_sent, emails_failed)
  select n.app_id, date_trunc('hour', n.created_at), n.notification_type, n.category,
         count(*) filter (where d.status = 'sent'), count(*) filter (where d.status <> 'sent')
    from new_rows d
    join old_rows o on o.notification_id = d.notification_id and o.user_id = d.user_id
    join oriva.platform_notifications n on n.id = d.notification_id
   where d.status in ('sent', 'failed', 'bouncing') and o.status not in ('sent', 'failed', 'bouncing')
   group by 1, 2, 3, 4
   order by 1, 2, 3, 4
  on conflict (app_id, hour, notification_type, category) do update
     set emails_sent = s.emails_sent + excluded.emails_sent,
         emails_failed = s.emails_failed + excluded.emails_failed;
  return null;
end $$;

drop trigger if exists _800_count on oriva.email_deliveries;
create trigger _800_count after update on oriva.email_deliveries
  referencing old table as old_rows new table as new_rows
  for each statement execute function oriva.tg_email_deliveries__count();

-- Webhook attempts per app and hour of the attempt: ok, failed, and their latency.
create or replace function oriva.tg_webhook_delivery_log__count() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  set timezone = 'UTC'
  as $$
begin
  insert into oriva.webhook_stats_hourly as s (app_id, hour, ok, failed, latency)
  select app_id, hour, sum(ok), sum(failed), coalesce(jsonb_object_agg(bin, timed) filter (where bin is not null), '{}'::jsonb)
    from (select app_id, date_trunc('hour', delivered_at) as hour, oriva.log_bin(response_time_ms) as bin,
                 count(*) filter (where success) as ok, count(*) filter (where not success) as failed,
                 count(response_time_ms) as timed
            from new_rows
           group by 1, 2, 3) b
   group by app_id, hour
   order by app_id, hour
  on conflict (app_id, hour) do update
     set ok = s.ok + excluded.ok,
         failed = s.failed + excluded.failed,
         latency = oriva.histogram_add(s.latency, excluded.latency);
  return null;
end $$;

drop trigger if exists _800_count on oriva.webhook_delivery_log;
create trigger _800_count after insert on oriva.webhook_delivery_log
  referencing new table as new_rows
  for each statement execute function oriva.tg_webhook_delivery_log__count();

-- Webhook health. An episode starts when a webhook fails more than p_max_failure_rate of at least
-- p_min_attempts attempts in the window (failing_since set), and ends when its window is healthy
-- again — at most that rate over at least p_min_attempts attempts, or only successes. The caller
-- (sql/stats/webhook_health.sql) records webhook.failing / webhook.recovered in the same statement. Disabling a webhook records webhook.disabled (sql/deliveries/disable_webhook.sql).
-- The events are the owning app's (user_id null): its event log, its app connections, and its
-- webhooks subscribed to them — except the webhook the event is about.
alter table oriva.app_webhooks add column if not exists failing_since timestamptz;

create or replace function oriva.webhook_health_check(p_window interval, p_min_attempts integer, p_max_failure_rate numeric)
  returns table (webhook_id uuid, app_id text, url text, alert text, attempts bigint, failed bigint, last_error text)
  language sql volatile security definer
  set search_path = pg_catalog
  as $$
    with health as (
      select l.webhook_id, count(*) as attempts, count(*) filter (where not l.success) as failed,
             (array_agg(coalesce(l.error_message, 'HTTP ' || l.status_code) order by l.delivered_at desc)
                filter (where not l.success))[1] as last_error
        from oriva.webhook_delivery_log l
       where l.delivered_at > now() - p_window
       group by l.webhook_id
    ),
    failing as (
      update oriva.app_webhooks w set failing_since = now()
        from health h
       where w.id = h.webhook_id and w.failing_since is null and w.is_active
         and h.attempts >= p_min_attempts and h.failed > h.attempts * p_max_failure_rate
      returning w.id, w.app_id, w.webhook_url, 'failing' as alert, h.attempts, h.failed, h.last_error
    ),
    recovered as (
      update oriva.app_webhooks w set failing_since = null
        from health h
       where w.id = h.webhook_id and w.failing_since is not null
         and (h.failed = 0 or (h.attempts >= p_min_attempts and h.failed <= h.attempts * p_max_failure_rate))
      returning w.id, w.app_id, w.webhook_url, 'recovered' as alert, h.attempts, h.failed, h.last_error
    )
    select * from failing union all select * from recovered
  $$;

-- Fan-out to the app's webhooks, as before, except that a webhook.* event never goes to the webhook
-- it is about (a failing endpoint would only fail it again).
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
         and not (e.event_category = 'webhook' and e.entity_id = w.id::text)
        order by e.seq, w.id) d;
  if not exists (select 1 from new_events e where not oriva.is_reserved_category(e.event_category)) then
    return null;
  end if;
  perform oriva.enqueue_webhook_delivery(d.webhook_id, d.event_id, 1)
  from (select w.id as webhook_id, e.id as event_id
        from new_events e
        cross join lateral oriva.event_audience_apps(e.app_id, e.user_id, e.event_category) as hears (app_id)
        join oriva.app_webhooks w
          on w.app_id = hears.app_id
         and w.is_active
         and oriva.webhook_hears(w.subscribed_events, e.event_category, e.event_type)
        where not oriva.is_reserved_category(e.event_category)
        order by e.seq, w.id) d;
  return null;
end $$;

revoke all on function oriva.stats_roll_up(bigint, bigint) from public;
grant execute on function oriva.stats_roll_up(bigint, bigint) to oriva_system;
revoke all on function oriva.webhook_health_check(interval, integer, numeric) from public;
grant execute on function oriva.webhook_health_check(interval, integer, numeric) to oriva_system;

-- The admin console (DESIGN §12). Notification search by words of the title or body: a full-text
-- index with the 'simple' configuration (no stemming or stop words, so any language and any word an
-- operator remembers). Queries must use the same expression (sql/operators/search_notifications.sql).
create index if not exists platform_notifications_text_idx on oriva.platform_notifications
  using gin (to_tsvector('simple'::regconfig, title || ' ' || body));

-- Webhook health across apps: platform apps may read every app's webhooks and delivery log (the
-- console never selects the secrets, which are encrypted at rest anyway); writes stay the app's own.
drop policy if exists platform_read on oriva.app_webhooks;
create policy platform_read on oriva.app_webhooks for select to oriva_api using ((select oriva.acting_as_platform()));
drop policy if exists platform_read on oriva.webhook_delivery_log;
create policy platform_read on oriva.webhook_delivery_log for select to oriva_api using ((select oriva.acting_as_platform()));
