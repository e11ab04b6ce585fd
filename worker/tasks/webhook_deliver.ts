// webhook_deliver: one attempt of one event to one webhook — prepare → admit → call → record (success,
// or failure with the next attempt scheduled by the retry rules). An HTTP failure is a recorded
// outcome, not a job error; the job only fails when the database does (graphile-worker then runs
// the same attempt again, with the same webhook-id). An attempt that may not run now — its endpoint's
// circuit breaker is open, or its app or endpoint uses its share of the worker — is deferred: the same
// attempt is enqueued again for later and this job ends, holding no slot while it waits.
import type { Task } from 'graphile-worker';
import type { HttpOutcome } from '../../lib/webhooks/http-client.js';
import { breakerWaitMs } from '../../lib/webhooks/retry-policy.js';
import { callWebhook } from '../deliveries/call.js';
import { makeDeferBatcher } from '../deliveries/defer-batch.js';
import { makePreparer, type PreparedDelivery } from '../deliveries/prepare.js';
import { recordOutcome } from '../deliveries/record.js';
import { makeSuccessBatcher } from '../deliveries/success-batch.js';
import type { TaskDeps } from './index.js';

const unsendable = (error: string): HttpOutcome =>
  ({ ok: false, status: null, ms: 0, body: null, headers: null, error, kind: 'unsendable', retryAfter: undefined });

export function webhookDeliver({ config, pool, webhookClient, admission, metrics, log }: TaskDeps): Task<'webhook_deliver'> {
  const successes = makeSuccessBatcher(pool);
  const deferrals = makeDeferBatcher(pool);
  const prepareDelivery = makePreparer(pool, config.secrets);
  const defer = async (delivery: PreparedDelivery, delayMs: number, reason: 'breaker_open' | 'busy') => {
    metrics.deliveriesDeferred.inc({ reason });
    await deferrals.defer({ webhookId: delivery.webhook.id, eventId: delivery.eventId, attempt: delivery.job.attempt, delayMs });
    if (log.isLevelEnabled('debug')) log.debug({ deliveryId: delivery.job.delivery_id, attempt: delivery.job.attempt, reason, delayMs }, 'delivery deferred');
  };

  return async (job, helpers) => {
    const prepared = await prepareDelivery(job);
    if (prepared.ready === false) {
      log.debug({ jobId: helpers.job.id, deliveryId: job.delivery_id, reason: prepared.reason }, 'delivery skipped');
      return;
    }
    const delivery = prepared.delivery;
    let outcome: HttpOutcome;
    if (prepared.ready === 'unsendable') {
      log.error({ jobId: helpers.job.id, deliveryId: job.delivery_id, eventId: delivery.eventId, err: prepared.error }, 'delivery cannot be sent: recorded as a failed attempt');
      outcome = unsendable(prepared.error);
    } else {
      const { webhook } = delivery;
      const breakerWait = breakerWaitMs(webhook.consecutive_failures, webhook.last_failure_at);
      if (breakerWait !== null) return defer(delivery, breakerWait, 'breaker_open');
      const admitted = await admission.acquire(webhook.app_id, webhook.id);
      if ('deferMs' in admitted) return defer(delivery, admitted.deferMs, 'busy');
      try {
        outcome = await callWebhook(webhookClient, delivery);
      } finally {
        admitted.slot.release();
      }
    }
    const label = outcome.ok ? 'success' : 'failure';
    metrics.deliveries.inc({ outcome: label });
    metrics.deliverySeconds.observe({ outcome: label }, outcome.ms / 1000);
    if (!outcome.ok) {
      metrics.deliveryFailures.inc({ reason: outcome.kind === 'status' ? `http_${String(outcome.status).charAt(0)}xx` : outcome.kind });
    }
    // record.ts's log lines name the webhook and delivery themselves: no child logger per job.
    const recorded = await recordOutcome(pool, successes, delivery, outcome, log);
    if ('disabled' in recorded && recorded.disabled) metrics.webhookAlerts.inc({ alert: 'disabled' });
    if (log.isLevelEnabled('debug')) log.debug({ jobId: helpers.job.id, deliveryId: job.delivery_id, attempt: job.attempt, status: outcome.status, ms: outcome.ms, ...('decision' in recorded ? { next: recorded.decision } : {}) }, 'delivery attempt recorded');
  };
}
