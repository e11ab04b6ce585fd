// Step 3: record the attempt (log row + webhook counters) and, for a failure, apply the retry
// rules (lib/webhooks/retry-policy.ts): schedule the next attempt, give up, or disable the webhook.
// Everything for one attempt commits together.
import { run, transaction, type Pool } from '../../lib/db.js';
import type { Logger } from '../../lib/log.js';
import { sqlFile, sqlStatement } from '../../lib/sql.js';
import type { HttpOutcome } from '../../lib/webhooks/http-client.js';
import { urlForLog } from '../../lib/webhooks/log-url.js';
import { afterFailure, parseRetryAfter, type FailureDecision } from '../../lib/webhooks/retry-policy.js';
import type { PreparedDelivery } from './prepare.js';
import type { AttemptRow, SuccessBatcher } from './success-batch.js';

const recordAttempt = sqlStatement<AttemptRow & { success: boolean; error_message: string | null }, { consecutive_failures: number }>('deliveries/record_attempt');
const disableWebhook = sqlFile('deliveries/disable_webhook');
const scheduleAttempt = sqlFile('deliveries/schedule_attempt');

/** webhookDeleted: the webhook was deleted while the attempt was in flight, so nothing was recorded. */
/** disabled: this attempt disabled the webhook (webhook.disabled was recorded with it). */
export type Recorded = { success: true } | { success: false; decision: FailureDecision; disabled: boolean } | { webhookDeleted: true };

// Postgres text cannot hold NUL.
// eslint-disable-next-line no-control-regex -- NUL is exactly the character to remove
const storable = (text: string | null) => (text === null ? null : text.replace(/\u0000/g, ''));

function attemptRow(delivery: PreparedDelivery, outcome: HttpOutcome): AttemptRow {
  const { job, webhook } = delivery;
  return {
    webhook_id: webhook.id,
    app_id: webhook.app_id,
    event_id: delivery.eventId,
    delivery_id: job.delivery_id,
    event_type: delivery.eventType,
    payload: delivery.body,
    status_code: outcome.status,
    response_body: storable(outcome.body),
    response_headers: outcome.headers === null ? null : JSON.stringify(outcome.headers),
    delivery_attempt: job.attempt,
    response_time_ms: outcome.ms,
  };
}

export async function recordOutcome(pool: Pool, successes: SuccessBatcher, delivery: PreparedDelivery, outcome: HttpOutcome, log: Logger): Promise<Recorded> {
  const { job, webhook } = delivery;
  // An expected race, not an error: the app deleted the webhook while this attempt was in flight.
  const deleted = (): Recorded => {
    log.info({ appId: webhook.app_id, webhookId: webhook.id, deliveryId: job.delivery_id, attempt: job.attempt }, 'webhook deleted while its delivery was in flight; attempt not recorded');
    return { webhookDeleted: true };
  };
  if (outcome.ok) {
    const recorded = await successes.record(attemptRow(delivery, outcome));
    return recorded ? { success: true } : deleted();
  }
  return transaction(pool, async (client) => {
    const [counts] = await run(client, recordAttempt, { ...attemptRow(delivery, outcome), success: false, error_message: storable(outcome.error) });
    if (!counts) return deleted();
    const decision = afterFailure(
      { attempt: job.attempt, status: outcome.status, retryAfterMs: parseRetryAfter(outcome.retryAfter), unsendable: outcome.kind === 'unsendable' },
      webhook,
      counts.consecutive_failures,
    );
    let disabled = false;
    if (decision.action === 'disable') {
      disabled = (await run(client, disableWebhook, [webhook.id, decision.reason])).length > 0;
      if (disabled) {
        log.error({ appId: webhook.app_id, webhookId: webhook.id, url: urlForLog(webhook.webhook_url), reason: decision.reason }, 'webhook disabled');
      }
    } else if (decision.action === 'retry') {
      await run(client, scheduleAttempt, [webhook.id, delivery.eventId, job.attempt + 1, decision.delayMs]);
    } else {
      log.warn({ appId: webhook.app_id, webhookId: webhook.id, deliveryId: job.delivery_id, attempts: job.attempt }, 'webhook delivery failed after its last retry');
    }
    return { success: false, decision, disabled };
  });
}
