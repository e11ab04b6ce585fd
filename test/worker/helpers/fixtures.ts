// Rows for worker tests, written with the oriva_system pool (as the API would).
import { randomBytes } from 'node:crypto';
import type { Pool } from '../../../lib/db.js';

export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export interface WebhookFixture {
  id: string;
  secret: string;
  deliveryId(eventId: string): Promise<string>;
}

export interface WebhookSpec {
  url: string;
  events?: string[];
  maxRetries?: number;
  backoffSeconds?: number;
  secret?: string;
  previousSecret?: string | null;
  previousExpiresAt?: Date | null;
}

export async function insertWebhook(pool: Pool, appId: string, spec: WebhookSpec): Promise<WebhookFixture> {
  const secret = spec.secret ?? newSecret();
  const { rows } = await pool.query<{ id: string }>(
    `insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events, max_retries, retry_backoff_seconds,
                                     previous_secret, previous_secret_expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning id`,
    [appId, spec.url, secret, spec.events ?? ['*'], spec.maxRetries ?? 5, spec.backoffSeconds ?? 1, spec.previousSecret ?? null, spec.previousExpiresAt ?? null],
  );
  const id = rows[0]!.id;
  return {
    id,
    secret,
    deliveryId: async (eventId) => (await pool.query<{ d: string }>('select oriva.webhook_delivery_id($1, $2) as d', [id, eventId])).rows[0]!.d,
  };
}

export async function insertEvent(pool: Pool, appId: string, type = 'notification.dismissed', data: Record<string, unknown> = {}, userId = 'user_1'): Promise<string> {
  const [category, eventType] = type.split('.');
  const { rows } = await pool.query<{ id: string }>(
    `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
     values ($1, $2, $3, $4, 'notification', 'n-1', $5) returning id`,
    [appId, userId, category, eventType, data],
  );
  return rows[0]!.id;
}

export interface LogRow {
  delivery_id: string;
  delivery_attempt: number;
  success: boolean;
  status_code: number | null;
  error_message: string | null;
  response_body: string | null;
  delivered_at: Date;
}

export async function deliveryLog(pool: Pool, webhookId: string): Promise<LogRow[]> {
  const { rows } = await pool.query<LogRow>(
    `select delivery_id, delivery_attempt, success, status_code, error_message, response_body, delivered_at
       from oriva.webhook_delivery_log where webhook_id = $1 order by delivered_at, delivery_attempt`,
    [webhookId],
  );
  return rows;
}

export async function webhookState(pool: Pool, webhookId: string) {
  const { rows } = await pool.query<{
    is_active: boolean;
    disabled_reason: string | null;
    consecutive_failures: number;
    total_deliveries: number;
    total_failures: number;
    last_success_at: Date | null;
    last_failure_at: Date | null;
  }>(
    `select is_active, disabled_reason, consecutive_failures, total_deliveries, total_failures, last_success_at, last_failure_at
       from oriva.app_webhooks where id = $1`,
    [webhookId],
  );
  return rows[0]!;
}

export async function pendingDeliveryJobs(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`select coalesce(sum(ready + scheduled + running), 0)::int as n from oriva.job_queue_summary() where task_identifier = 'webhook_deliver'`);
  return rows[0]!.n;
}

/** Polls probe until it answers; what (or what() at the timeout, to say what was seen) names it in the error. */
export async function until<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what: string | (() => string) = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
