-- Attempts the worker deferred at about the same time (an app or endpoint at its share, or its circuit
-- breaker open), enqueued again together in one statement and one commit: attempt attempts[i] of the
-- delivery of event event_ids[i] to webhook webhook_ids[i], delays_ms[i] milliseconds from now (the
-- delivery id and job key are derived from webhook and event, so they stay the same).
select oriva.enqueue_webhook_delivery(d.webhook_id, d.event_id, d.attempt,
                                      now() + make_interval(secs => d.delay_ms / 1000))
  from unnest(:webhook_ids::uuid[], :event_ids::uuid[], :attempts::int[], :delays_ms::double precision[])
    as d (webhook_id, event_id, attempt, delay_ms)
