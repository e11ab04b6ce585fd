// Webhook health alerts (DESIGN §12): webhook.failing when a webhook failed more than 10% of at least
// 20 attempts in the last 15 minutes — once per episode, not per attempt —, webhook.recovered when its
// window is healthy again (oriva.webhook_health_check, sql/stats/webhook_health.sql), and the
// failing-webhook metrics for Prometheus. webhook.disabled is recorded where the delivery path
// disables a webhook (sql/deliveries/disable_webhook.sql).
import { run, type Pool } from '../../lib/db.js';
import type { Logger } from '../../lib/log.js';
import { sqlFile } from '../../lib/sql.js';
import type { WorkerMetrics } from '../metrics.js';

const healthCheck = sqlFile('stats/webhook_health');
const failingWebhooks = sqlFile('stats/failing_webhooks');

export const WEBHOOK_HEALTH = { windowMinutes: 15, minAttempts: 20, maxFailureRate: 0.1 } as const;

export interface WebhookAlert {
  webhook_id: string;
  app_id: string;
  alert: 'failing' | 'recovered';
  attempts: number;
  failed: number;
}

export async function checkWebhookHealth(pool: Pool, log: Logger, metrics: Pick<WorkerMetrics, 'webhookAlerts' | 'webhooksFailing'>): Promise<WebhookAlert[]> {
  const rows = await run<WebhookAlert & { attempts: string; failed: string }>(pool, healthCheck, [WEBHOOK_HEALTH.windowMinutes, WEBHOOK_HEALTH.minAttempts, WEBHOOK_HEALTH.maxFailureRate]);
  const alerts = rows.map((row) => ({ ...row, attempts: Number(row.attempts), failed: Number(row.failed) }));
  for (const a of alerts) {
    metrics.webhookAlerts.inc({ alert: a.alert });
    const fields = { appId: a.app_id, webhookId: a.webhook_id, attempts: a.attempts, failed: a.failed };
    if (a.alert === 'failing') log.warn(fields, 'webhook failing');
    else log.info(fields, 'webhook recovered');
  }
  const [count] = await run<{ failing: number }>(pool, failingWebhooks);
  metrics.webhooksFailing.set(count!.failing);
  return alerts;
}
