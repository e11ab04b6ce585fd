// webhook_health (cron, every minute): starts and ends webhook-failing episodes from the last 15
// minutes of attempts — webhook.failing when more than 10% of at least 20 attempts failed (once per
// episode), webhook.recovered when the window is healthy again (oriva.webhook_health_check) — and
// keeps the failing-webhook metrics for Prometheus.
import type { Task } from 'graphile-worker';
import { run } from '../../lib/db.js';
import { sqlFile } from '../../lib/sql.js';
import type { TaskDeps } from './index.js';

const healthCheck = sqlFile('stats/webhook_health');
const failingWebhooks = sqlFile('stats/failing_webhooks');

export const WEBHOOK_HEALTH = { windowMinutes: 15, minAttempts: 20, maxFailureRate: 0.1 } as const;

interface Alert {
  webhook_id: string;
  app_id: string;
  alert: 'failing' | 'recovered';
  attempts: string;
  failed: string;
}

export function webhookHealth({ pool, log, metrics }: TaskDeps): Task<'webhook_health'> {
  return async () => {
    const alerts = await run<Alert>(pool, healthCheck, [WEBHOOK_HEALTH.windowMinutes, WEBHOOK_HEALTH.minAttempts, WEBHOOK_HEALTH.maxFailureRate]);
    for (const a of alerts) {
      metrics.webhookAlerts.inc({ alert: a.alert });
      const fields = { appId: a.app_id, webhookId: a.webhook_id, attempts: Number(a.attempts), failed: Number(a.failed) };
      if (a.alert === 'failing') log.warn(fields, 'webhook failing');
      else log.info(fields, 'webhook recovered');
    }
    const [count] = await run<{ failing: number }>(pool, failingWebhooks);
    metrics.webhooksFailing.set(count!.failing);
  };
}
