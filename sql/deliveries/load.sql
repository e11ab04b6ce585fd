-- The webhook and the event of each delivery attempt asked for (the worker loads the attempts that
-- start together in one query), with `i`, the attempt's place in the arrays. The event may already be
-- archived. app_hears_event: whether the webhook's app may hear that event now — its own, or a platform
-- app's event about a user who (still) has the app installed (oriva.event_audience_apps). An attempt
-- whose webhook no longer exists has no row.
select d.i, w.id, w.app_id, w.webhook_url, w.webhook_secret, w.previous_secret, w.previous_secret_expires_at,
       w.is_active, w.max_retries, w.retry_backoff_seconds, w.consecutive_failures, w.last_failure_at,
       ev.event,
       ev.event ->> 'app_id' = w.app_id
         or w.app_id in (select oriva.event_audience_apps(ev.event ->> 'app_id', ev.event ->> 'user_id', ev.event ->> 'event_category'))
         as app_hears_event
  from unnest(:webhook_id::uuid[], :event_id::uuid[]) with ordinality as d (webhook_id, event_id, i)
  join oriva.app_webhooks w on w.id = d.webhook_id
 cross join lateral (
   select coalesce(
            (select to_jsonb(e) from (select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id,
                                             event_data, created_at
                                        from oriva.platform_events where id = d.event_id) e),
            (select to_jsonb(a) from (select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id,
                                             event_data, created_at
                                        from oriva.platform_events_archive where id = d.event_id) a)) as event
 ) ev
