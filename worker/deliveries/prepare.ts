// Step 1 of a delivery attempt: load the webhook and the event, and build the body every attempt
// of this delivery sends (Standard Webhooks envelope: {type, timestamp, data}; data is the event in
// the one shape every transport uses). The attempts that start while a load runs are loaded together
// next, in one query (lib/coalesce.ts): one load in flight per worker process.
import { Coalescer } from '../../lib/coalesce.js';
import { run, type Pool } from '../../lib/db.js';
import { eventTypeOf, toEventMessage, type EventRow } from '../../lib/events.js';
import type { WebhookDeliverPayload } from '../../lib/jobs.js';
import { remembering, SecretsKeyError, type Keyring } from '../../lib/secrets.js';
import { sqlStatement } from '../../lib/sql.js';

type LoadedRow = WebhookRow & { i: string; event: EventRow | null; app_hears_event: boolean | null };

const loadDeliveries = sqlStatement<{ webhook_id: string[]; event_id: string[] }, LoadedRow>('deliveries/load');

export interface WebhookRow {
  id: string;
  app_id: string;
  webhook_url: string;
  /** Encrypted as stored (lib/secrets.ts); in a prepared delivery, the plaintext. */
  webhook_secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  is_active: boolean;
  max_retries: number;
  retry_backoff_seconds: number;
  /** The circuit breaker's state (lib/webhooks/retry-policy.ts breakerWaitMs). */
  consecutive_failures: number;
  last_failure_at: Date | null;
}

export interface PreparedDelivery {
  job: WebhookDeliverPayload;
  webhook: WebhookRow;
  eventType: string;
  eventId: string;
  body: string;
}

/**
 * ready: send it. skipped: nothing to send any more (not an attempt). unsendable: the request cannot
 * be built — the event cannot be serialised (event_data nested deeper than the stack allows, written
 * before the API bounded app JSON or by SQL), or the webhook's secret cannot be decrypted with the
 * configured SECRETS_KEY: recorded as a failed attempt with the reason, never retried, replayable once fixed.
 */
export type Prepared =
  | { ready: true; delivery: PreparedDelivery }
  | { ready: false; reason: string }
  | { ready: 'unsendable'; delivery: PreparedDelivery; error: string };

export function webhookBody(event: EventRow, omitted?: string): string {
  const message = toEventMessage(omitted ? { ...event, event_data: {} } : event);
  const data = omitted ? { ...message, event_data_omitted: omitted } : message;
  return JSON.stringify({ type: eventTypeOf(event), timestamp: message.timestamp, data });
}

/** Prepares attempts: loads them (together when they start together) and decrypts their signing secrets. */
export function makePreparer(pool: Pool, secrets: Keyring): (job: WebhookDeliverPayload) => Promise<Prepared> {
  const loads = new Coalescer<WebhookDeliverPayload, LoadedRow | undefined>(async (_key, jobs) => {
    const rows = await run(pool, loadDeliveries, { webhook_id: jobs.map((j) => j.webhook_id), event_id: jobs.map((j) => j.event_id) });
    const byPlace = new Map(rows.map((row) => [Number(row.i), row]));
    return jobs.map((_job, n) => byPlace.get(n + 1));
  });
  const decrypt = remembering(secrets);
  return async (job) => prepare(job, await loads.add('load', job));

  function prepare(job: WebhookDeliverPayload, row: LoadedRow | undefined): Prepared {
    if (!row) return { ready: false, reason: 'webhook no longer exists' };
    if (!row.is_active) return { ready: false, reason: 'webhook is disabled' };
    if (!row.event) return { ready: false, reason: 'event no longer exists' };
    if (!row.app_hears_event) return { ready: false, reason: 'event belongs to another app' };
    const { event, app_hears_event: _hears, i: _i, ...stored } = row;
    const delivery = { job, webhook: stored, eventType: eventTypeOf(event), eventId: event.id };
    let body: string;
    try {
      body = webhookBody(event);
    } catch (err) {
      // The log row keeps the envelope without event_data.
      const error = `the event cannot be serialised: ${(err as Error).message}`;
      return { ready: 'unsendable', delivery: { ...delivery, body: webhookBody(event, error) }, error };
    }
    try {
      // The signing secrets, decrypted once per worker process (lib/secrets.ts remembering).
      const webhook = {
        ...stored,
        webhook_secret: decrypt(stored.webhook_secret, stored.app_id),
        previous_secret: stored.previous_secret === null ? null : decrypt(stored.previous_secret, stored.app_id),
      };
      return { ready: true, delivery: { ...delivery, webhook, body } };
    } catch (err) {
      if (!(err instanceof SecretsKeyError)) throw err;
      return { ready: 'unsendable', delivery: { ...delivery, body }, error: `cannot sign: ${err.message}` };
    }
  }
}
