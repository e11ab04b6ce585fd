// `oriva webhooks replay --app <id> --webhook <id> --since <iso>`: a fresh attempt (same
// webhook-id) for every delivery of the webhook attempted since then whose attempts all failed.
import { run, transaction, type Pool } from '../db.js';
import { sqlFile } from '../sql.js';

const findWebhook = sqlFile('deliveries/find_webhook');
const replayFailedSince = sqlFile('deliveries/replay_failed_since');

export class ReplayError extends Error {}

export async function replayFailedDeliveries(pool: Pool, appId: string, webhookId: string, since: Date): Promise<{ replayed: number; delivery_ids: string[] }> {
  return transaction(pool, async (client) => {
    const [hook] = await run<{ is_active: boolean; disabled_reason: string | null }>(client, findWebhook, [webhookId, appId]);
    if (!hook) throw new ReplayError(`app ${appId} has no webhook ${webhookId}`);
    if (!hook.is_active) throw new ReplayError(`webhook ${webhookId} is disabled (${hook.disabled_reason ?? 'turned off'}); turn it back on first`);
    const rows = await run<{ delivery_id: string }>(client, replayFailedSince, [webhookId, since]);
    return { replayed: rows.length, delivery_ids: rows.map((r) => r.delivery_id) };
  });
}
