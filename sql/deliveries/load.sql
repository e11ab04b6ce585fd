-- The webhook and the event of one delivery attempt (the event may already be archived), and whether
-- the webhook's app may hear that event now: its own, or a platform app's event about a user who
-- (still) has the app installed (oriva.event_audience_apps).
select w.id, w.app_id, w.webhook_url, w.webhook_secret, w.previous_secret, w.previous_secret_expires_at,
       w.is_active, w.max_retries, w.retry_backoff_seconds, w.consecutive_failures, w.last_failure_at,
       ev.event,
       ev.event ->> 'app_id' = w.app_id
         or w.app_id in (select oriva.event_audience_apps(ev.event ->> 'app_id', ev.event ->> 'user_id', ev.event ->> 'event_category'))
         as app_hears_event
  from oriva.app_webhooks w
 cross join lateral (
   select coalesce(
            (select to_jsonb(e) from (select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id,
                                             event_data, created_at
                                        from oriva.platform_events where id = $2) e),
            (select to_jsonb(a) from (select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id,
                                             event_data, created_at
                                        from oriva.platform_events_archive where id = $2) a)) as event
 ) ev
 where w.id = $1
