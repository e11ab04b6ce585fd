import { appId, closed, nullableTimestamp, timestamp, uuid } from './common.js';
import { eventPattern } from './events.js';

const subscribedEvents = { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: eventPattern } as const;
const url = { type: 'string', minLength: 1, maxLength: 2048, description: 'https; private addresses only when allowlisted' } as const;
const maxRetries = { type: 'integer', minimum: 0, maximum: 20 } as const;
const backoff = { type: 'integer', minimum: 1, maximum: 3600 } as const;

export const webhookCreate = {
  type: 'object',
  additionalProperties: false,
  required: ['webhook_url', 'subscribed_events'],
  properties: {
    webhook_url: url,
    subscribed_events: subscribedEvents,
    is_active: { type: 'boolean', default: true },
    max_retries: maxRetries,
    retry_backoff_seconds: backoff,
  },
} as const;

export const webhookCreateExample = {
  webhook_url: 'https://workbuddy.com/api/oriva-events',
  subscribed_events: ['notification.dismissed', 'notification.clicked'],
};

export const webhookUpdate = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    webhook_url: url,
    subscribed_events: subscribedEvents,
    is_active: { type: 'boolean' },
    max_retries: maxRetries,
    retry_backoff_seconds: backoff,
  },
} as const;

export const webhook = closed({
    id: uuid,
    app_id: appId,
    webhook_url: { type: 'string' },
    subscribed_events: { type: 'array', items: { type: 'string' } },
    is_active: { type: 'boolean' },
    disabled_reason: { type: ['string', 'null'] },
    max_retries: { type: 'integer' },
    retry_backoff_seconds: { type: 'integer' },
    consecutive_failures: { type: 'integer' },
    total_deliveries: { type: 'integer' },
    total_failures: { type: 'integer' },
    last_delivery_at: nullableTimestamp,
    last_success_at: nullableTimestamp,
    last_failure_at: nullableTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
});

export const webhookCreated = closed({
  success: { const: true },
  webhook_id: uuid,
  webhook_secret: { type: 'string', pattern: '^whsec_', description: 'shown once' },
  webhook,
  created_at: timestamp,
});

export const webhookList = closed({ success: { const: true }, webhooks: { type: 'array', items: webhook } });

export const webhookUpdated = closed({ success: { const: true }, webhook });

export const secretRotated = closed({
  success: { const: true },
  webhook_id: uuid,
  webhook_secret: { type: 'string', pattern: '^whsec_' },
  previous_secret_expires_at: timestamp,
});
