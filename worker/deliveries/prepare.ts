// Step 1 of a delivery attempt: load the webhook and the event, and build the body every attempt
// of this delivery sends (Standard Webhooks envelope: {type, timestamp, data}; data is the event in
// the one shape every transport uses).
import { run, type Pool } from '../../lib/db.js';
import { eventTypeOf, toEventMessage, type EventRow } from '../../lib/events.js';
import type { WebhookDeliverPayload } from '../../lib/jobs.js';
import { sqlFile } from '../../lib/sql.js';

const loadDelivery = sqlFile('deliveries/load');

export interface WebhookRow {
  id: string;
  app_id: string;
  webhook_url: string;
  webhook_secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  is_active: boolean;
  max_retries: number;
  retry_backoff_seconds: number;
}

export interface PreparedDelivery {
  job: WebhookDeliverPayload;
  webhook: WebhookRow;
  eventType: string;
  eventId: string;
  body: string;
}

export type Prepared = { ready: true; delivery: PreparedDelivery } | { ready: false; reason: string };

export function webhookBody(event: EventRow): string {
  const message = toEventMessage(event);
  return JSON.stringify({ type: eventTypeOf(event), timestamp: message.timestamp, data: message });
}

export async function prepareDelivery(pool: Pool, job: WebhookDeliverPayload): Promise<Prepared> {
  const [row] = await run<WebhookRow & { event: EventRow | null }>(pool, loadDelivery, [job.webhook_id, job.event_id]);
  if (!row) return { ready: false, reason: 'webhook no longer exists' };
  if (!row.is_active) return { ready: false, reason: 'webhook is disabled' };
  if (!row.event) return { ready: false, reason: 'event no longer exists' };
  if (row.event.app_id !== row.app_id) return { ready: false, reason: 'event belongs to another app' };
  const { event, ...webhook } = row;
  return { ready: true, delivery: { job, webhook, eventType: eventTypeOf(event), eventId: event.id, body: webhookBody(event) } };
}
