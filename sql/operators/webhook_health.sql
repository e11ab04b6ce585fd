-- Webhooks that need an operator's eye (platform apps): failing now, disabled, or with a failed
-- attempt in the last 24 hours — each with its last 15 minutes of attempts and its last three
-- errors. Failing first, then disabled, then the most recent failure. At most 200.
select w.id as webhook_id, w.app_id, a.name as app_name, w.webhook_url as url, w.is_active, w.disabled_reason,
       w.failing_since, w.last_success_at, w.last_failure_at, w.consecutive_failures,
       r.attempts, r.failed, coalesce(e.errors, '[]'::jsonb) as last_errors
from oriva.app_webhooks w
join oriva.apps a on a.id = w.app_id
cross join lateral (
  select count(*)::int as attempts, count(*) filter (where not l.success)::int as failed
    from oriva.webhook_delivery_log l
   where l.webhook_id = w.id and l.delivered_at > now() - interval '15 minutes') r
cross join lateral (
  select jsonb_agg(jsonb_build_object('delivery_id', x.delivery_id, 'at', x.delivered_at, 'status_code', x.status_code,
                                      'error', coalesce(x.error_message, 'HTTP ' || x.status_code)) order by x.delivered_at desc) as errors
    from (select l.delivery_id, l.delivered_at, l.status_code, l.error_message
            from oriva.webhook_delivery_log l
           where l.webhook_id = w.id and not l.success
           order by l.delivered_at desc
           limit 3) x) e
where w.failing_since is not null or not w.is_active or w.last_failure_at > now() - interval '24 hours'
order by (w.failing_since is not null) desc, w.is_active, w.last_failure_at desc nulls last, w.id
limit 200
