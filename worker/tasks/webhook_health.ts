// webhook_health (cron, every minute): webhook.failing / webhook.recovered from the last 15 minutes
// of attempts, and the failing-webhook metrics (worker/stats/webhook-health.ts).
import type { Task } from 'graphile-worker';
import { checkWebhookHealth } from '../stats/webhook-health.js';
import type { TaskDeps } from './index.js';

export function webhookHealth({ pool, log, metrics }: TaskDeps): Task<'webhook_health'> {
  return async () => {
    await checkWebhookHealth(pool, log, metrics);
  };
}
