--! Previous: sha1:0817d1ad447f81c28b5fe140443b9ff2a4867e2f
--! Hash: sha1:a093e90e2764f9e4aca46366e844609cd2a1288e
--! Message: The write path's statements cost what they did before: record_events in PL/pgSQL (its plan prepared once per session), the fan-out trigger's second audience only for events outside the platform's categories

--! split: 1-current.sql
-- The webhook fan-out trigger in two plain steps: the event's own app's webhooks (the hot path:
-- every notification event), then — only for events outside the platform's own categories — the
-- webhooks of the apps a platform event's user installed. One query with both audiences joined per
-- event cost every notification create a lateral subquery for nothing.
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

-- The one way to record platform events, in PL/pgSQL: its insert's plan is prepared once per
-- session. As a SQL function it was planned and set up on every call, which cost a single
-- notification create about 8% of its throughput.
create or replace function oriva.record_events(events oriva.new_event[]) returns setof oriva.platform_events
  language plpgsql volatile
  as $$
begin
  return query
    with recorded as (
      insert into oriva.platform_events
        (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address, user_agent)
      select e.app_id, e.user_id, e.event_category, e.event_type, e.entity_type, e.entity_id, e.event_data,
             e.ip_address, e.user_agent
        from unnest(events) with ordinality as e
       order by e.ordinality
      returning *
    )
    select * from recorded;
end $$;
