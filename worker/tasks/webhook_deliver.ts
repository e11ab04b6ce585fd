// webhook_deliver: one attempt of one event to one webhook — prepare → call → record (success, or
// failure with the next attempt scheduled by the retry rules). An HTTP failure is a recorded
// outcome, not a job error; the job only fails when the database does (graphile-worker then runs
// the same attempt again, with the same webhook-id).
import type { Task } from 'graphile-worker';
import type { WebhookDeliverPayload } from '../../lib/jobs.js';
import { callWebhook } from '../deliveries/call.js';
import { prepareDelivery } from '../deliveries/prepare.js';
import { recordOutcome } from '../deliveries/record.js';
import { makeSuccessBatcher } from '../deliveries/success-batch.js';
import type { TaskDeps } from './index.js';

export function webhookDeliver({ pool, webhookClient, metrics, log }: TaskDeps): Task {
  const successes = makeSuccessBatcher(pool);
  return async (payload, helpers) => {
    const job = payload as WebhookDeliverPayload;
    const prepared = await prepareDelivery(pool, job);
    if (!prepared.ready) {
      log.debug({ jobId: helpers.job.id, deliveryId: job.delivery_id, reason: prepared.reason }, 'delivery skipped');
      return;
    }
    const outcome = await callWebhook(webhookClient, prepared.delivery);
    const label = outcome.ok ? 'success' : 'failure';
    metrics.deliveries.inc({ outcome: label });
    metrics.deliverySeconds.observe({ outcome: label }, outcome.ms / 1000);
    if (!outcome.ok) {
      metrics.deliveryFailures.inc({ reason: outcome.kind === 'status' ? `http_${String(outcome.status).charAt(0)}xx` : outcome.kind });
    }
    // record.ts's log lines name the webhook and delivery themselves: no child logger per job.
    const recorded = await recordOutcome(pool, successes, prepared.delivery, outcome, log);
    if (log.isLevelEnabled('debug')) log.debug({ jobId: helpers.job.id, deliveryId: job.delivery_id, attempt: job.attempt, status: outcome.status, ms: outcome.ms, ...('decision' in recorded ? { next: recorded.decision } : {}) }, 'delivery attempt recorded');
  };
}
