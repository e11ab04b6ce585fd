// Step 3: record the attempt (log row + webhook counters) and, for a failure, apply the retry
// rules (lib/webhooks/retry-policy.ts): schedule the next attempt, give up, or disable the webhook.
// Everything for one attempt commits together.
import { run, transaction, type Pool } from '../../lib/db.js';
import type { Logger } from '../../lib/log.js';
import { sqlFile } from '../../lib/sql.js';
import type { HttpOutcome } from '../../lib/webhooks/http-client.js';
import { urlForLog } from '../../lib/webhooks/log-url.js';
import { afterFailure, parseRetryAfter, type FailureDecision } from '../../lib/webhooks/retry-policy.js';
import type { PreparedDelivery } from './prepare.js';
import type { SuccessBatcher, SuccessRow } from './success-batch.js';

const recordAttempt = sqlFile('deliveries/record_attempt');
const disableWebhook = sqlFile('deliveries/disable_webhook');
const scheduleAttempt = sqlFile('deliveries/schedule_attempt');

/** webhookDeleted: the webhook was deleted while the attempt was in flight, so nothing was recorded. */
export type Recorded = { success: true } | { success: false; decision: FailureDecision } | { webhookDeleted: true };

// Postgres text cannot hold NUL.
// eslint-disable-next-line no-control-regex -- NUL is exactly the character to remove
const storable = (text: string | null) => (text === null ? null : text.replace(/\u0000/g, ''));

function attemptValues(delivery: PreparedDelivery, outcome: HttpOutcome): unknown[] {
  const { job, webhook } = delivery;
  return [
    webhook.id,
    webhook.app_id,
    delivery.eventId,
    job.delivery_id,
    delivery.eventType,
    delivery.body,
    outcome.status,
    storable(outcome.body),
    outcome.headers === null ? null : JSON.stringify(outcome.headers),
    job.attempt,
    outcome.ms,
    outcome.ok,
    outcome.ok ? null : storable(outcome.error),
  ];
}

export async function recordOutcome(pool: Pool, successes: SuccessBatcher, delivery: PreparedDelivery, outcome: HttpOutcome, log: Logger): Promise<Recorded> {
  const { job, webhook } = delivery;
  // An expected race, not an error: the app deleted the webhook while this attempt was in flight.
  const deleted = (): Recorded => {
    log.info({ appId: webhook.app_id, webhookId: webhook.id, deliveryId: job.delivery_id, attempt: job.attempt }, 'webhook deleted while its delivery was in flight; attempt not recorded');
    return { webhookDeleted: true };
  };
  if (outcome.ok) {
    const recorded = await successes.record(attemptValues(delivery, outcome).slice(0, 11) as SuccessRow);
    return recorded ? { success: true } : deleted();
  }
  return transaction(pool, async (client) => {
    const [counts] = await run<{ consecutive_failures: number }>(client, recordAttempt, attemptValues(delivery, outcome));
    if (!counts) return deleted();
    const decision = afterFailure(
      { attempt: job.attempt, status: outcome.status, retryAfterMs: parseRetryAfter(outcome.retryAfter), unsendable: outcome.kind === 'unsendable' },
      webhook,
      counts.consecutive_failures,
    );
    if (decision.action === 'disable') {
      const disabled = await run(client, disableWebhook, [webhook.id, decision.reason]);
      if (disabled.length > 0) {
        log.error({ appId: webhook.app_id, webhookId: webhook.id, url: urlForLog(webhook.webhook_url), reason: decision.reason }, 'webhook disabled');
      }
    } else if (decision.action === 'retry') {
      await run(client, scheduleAttempt, [webhook.id, delivery.eventId, job.attempt + 1, decision.delayMs]);
    } else {
      log.warn({ appId: webhook.app_id, webhookId: webhook.id, deliveryId: job.delivery_id, attempts: job.attempt }, 'webhook delivery failed after its last retry');
    }
    return { success: false, decision };
  });
}
