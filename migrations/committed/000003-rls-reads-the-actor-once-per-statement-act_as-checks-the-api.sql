--! Previous: sha1:4e3b943f4abe460fea4d69d5bd1482800b7cf6e4
--! Hash: sha1:f387b47364e4fbb13bf54c8696ba14a419322f2a
--! Message: RLS reads the actor once per statement; act_as() checks the API key in every REST transaction; set-based fan-out and NOTIFY triggers; key changes announced on oriva_keys

--! split: 1-current.sql
-- 1. Row-level security reads the acting app and user once per statement, not once per row: each
--    oriva.acting_*() call in a policy is a scalar subquery, which Postgres evaluates once (an
--    InitPlan). A user's feed with 10,000 notifications counts them in about half the time.
alter policy api_tenant on oriva.platform_events
  using (app_id = (select oriva.acting_app_id()) or user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()))
  with check (app_id = (select oriva.acting_app_id()) or user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()));
alter policy api_tenant on oriva.platform_notifications
  using (app_id = (select oriva.acting_app_id()) or user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()))
  with check (app_id = (select oriva.acting_app_id()) or user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()));
alter policy api_tenant on oriva.notification_state
  using (app_id = (select oriva.acting_app_id()) or user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()))
  with check (app_id = (select oriva.acting_app_id()) or user_id::text = (select oriva.acting_user_id()) or (select oriva.acting_as_platform()));
alter policy api_tenant on oriva.app_webhooks
  using (app_id = (select oriva.acting_app_id()))
  with check (app_id = (select oriva.acting_app_id()));
alter policy api_tenant on oriva.idempotency_keys
  using (app_id = (select oriva.acting_app_id()))
  with check (app_id = (select oriva.acting_app_id()));
alter policy api_tenant on oriva.webhook_delivery_log
  using (app_id = (select oriva.acting_app_id()))
  with check (app_id = (select oriva.acting_app_id()));

-- 2. The acting app, user and platform flag for the current transaction (read by row-level security
--    through oriva.acting_*()), set at the start of every REST transaction. With an API key's
--    digest it also answers whether that key is still live, for that app, with that platform flag:
--    false when the key was revoked or the app disabled since the server identified the caller, so
--    a revoked key is refused at once even by a server that remembered it.
create or replace function oriva.act_as(p_app_id text, p_user_id text, p_platform boolean, p_key_hash bytea)
  returns boolean
  language plpgsql volatile
  set search_path = pg_catalog
as $$
begin
  perform set_config('oriva.app_id', coalesce(p_app_id, ''), true),
          set_config('oriva.user_id', coalesce(p_user_id, ''), true),
          set_config('oriva.platform', case when p_platform then 'on' else 'off' end, true);
  return p_key_hash is null or exists (
    select 1
    from oriva.api_keys k
    join oriva.apps a on a.id = k.app_id
    where k.key_hash = p_key_hash
      and k.app_id = p_app_id
      and (k.revoked_at is null or k.revoked_at > now())
      and a.is_active
      and a.is_platform = p_platform);
end $$;
revoke all on function oriva.act_as(text, text, boolean, bytea) from public;
grant execute on function oriva.act_as(text, text, boolean, bytea) to oriva_api;

-- 3. (user_id, status) is the prefix of notification_state_counts_idx; the shorter index only cost
--    an extra insert per notification.
drop index if exists oriva.notification_state_user_status_idx;

-- 4. Fan-out and real-time announcements run once per statement over the inserted events (a
--    transition table) instead of once per row: a batch of 100 notifications runs two set-based
--    statements, not 200 trigger calls. Same results, in seq order: one job per matching active
--    webhook, one NOTIFY per event on 'oriva_events' (the event, or a reference when it does not
--    fit in NOTIFY's 8000 bytes).
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
         and w.subscribed_events && array['*', e.event_category || '.*', e.event_category || '.' || e.event_type]
        order by e.seq, w.id) d;
  return null;
end $$;
drop trigger if exists _500_enqueue_webhooks on oriva.platform_events;
create trigger _500_enqueue_webhooks after insert on oriva.platform_events
  referencing new table as new_events
  for each statement execute function oriva.tg_platform_events__enqueue_webhooks();

create or replace function oriva.tg_platform_events__notify() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  perform pg_notify('oriva_events',
           case when octet_length(e.payload) < 7900 then e.payload
                else json_build_object('seq', e.seq, 'tx_id', e.tx_id::text, 'app_id', e.app_id,
                                       'user_id', e.user_id, 'ref', true)::text end)
  from (select n.seq, n.tx_id, n.app_id, n.user_id,
               json_build_object(
                 'seq', n.seq, 'tx_id', n.tx_id::text, 'id', n.id, 'app_id', n.app_id, 'user_id', n.user_id,
                 'event_category', n.event_category, 'event_type', n.event_type,
                 'entity_type', n.entity_type, 'entity_id', n.entity_id,
                 'event_data', n.event_data, 'created_at', n.created_at)::text as payload
        from new_events n
        order by n.seq) e;
  return null;
end $$;
drop trigger if exists _900_notify on oriva.platform_events;
create trigger _900_notify after insert on oriva.platform_events
  referencing new table as new_events
  for each statement execute function oriva.tg_platform_events__notify();

-- 5. A change to an app's keys (revoked, rotated, deleted) or to the app itself (disabled, platform
--    flag) is announced on channel 'oriva_keys' with the app id as payload, so gateways close that
--    app's open connections whose key stopped working, at once.
create or replace function oriva.tg_announce_key_change() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  changed jsonb := to_jsonb(coalesce(new, old));
begin
  perform pg_notify('oriva_keys', coalesce(changed ->> 'app_id', changed ->> 'id'));
  return null;
end $$;
drop trigger if exists _900_announce_key_change on oriva.api_keys;
create trigger _900_announce_key_change after update of revoked_at or delete on oriva.api_keys
  for each row execute function oriva.tg_announce_key_change();
drop trigger if exists _900_announce_key_change on oriva.apps;
create trigger _900_announce_key_change after update of is_active, is_platform or delete on oriva.apps
  for each row execute function oriva.tg_announce_key_change();
