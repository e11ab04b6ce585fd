// Step 2: sign this attempt (timestamp = now) and POST it.
import type { HttpOutcome, WebhookClient } from '../../lib/webhooks/http-client.js';
import { signatureHeaders } from '../../lib/webhooks/signature.js';
import type { PreparedDelivery } from './prepare.js';

export function callWebhook(client: WebhookClient, delivery: PreparedDelivery, now = Date.now()): Promise<HttpOutcome> {
  const { webhook, job, body } = delivery;
  const headers = signatureHeaders(
    { current: webhook.webhook_secret, previous: webhook.previous_secret, previousExpiresAt: webhook.previous_secret_expires_at },
    job.delivery_id,
    Math.floor(now / 1000),
    body,
    now,
  );
  return client.post(webhook.webhook_url, { ...headers, 'x-oriva-event-type': delivery.eventType, 'x-oriva-delivery-attempt': String(job.attempt) }, body);
}
