// graphile-worker job identifiers and payloads: the contract between whoever enqueues (API
// transactions, database triggers, replays) and the worker tasks that consume them.

export const JOB = {
  /** One delivery attempt of one event to one webhook. */
  webhookDeliver: 'webhook_deliver',
  /** Expire one notification at its expires_at (enqueued with run_at = expires_at). */
  notificationExpire: 'notification_expire',
} as const;

export interface WebhookDeliverPayload {
  webhook_id: string;
  event_id: string;
  /** Standard Webhooks `webhook-id`: the same for every retry and replay of this delivery. */
  delivery_id: string;
  attempt: number;
}

export interface NotificationExpirePayload {
  notification_id: string;
}
