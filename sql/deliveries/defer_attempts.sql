-- Attempts the worker deferred at about the same time (an app or endpoint at its share, or its circuit
-- breaker open), enqueued again together in one statement and one commit: attempt attempts[i] of the
-- delivery of event event_ids[i] to webhook webhook_ids[i], delays_ms[i] milliseconds from now (the
-- delivery id and job key are derived from webhook and event, so they stay the same).
select oriva.enqueue_webhook_attempts(:webhook_ids::uuid[], :event_ids::uuid[], :attempts::int[],
                                      array(select now() + make_interval(secs => d.delay_ms / 1000)
                                              from unnest(:delays_ms::double precision[]) with ordinality as d (delay_ms, i)
                                             order by d.i))
