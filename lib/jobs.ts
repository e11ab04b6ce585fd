// graphile-worker jobs: their identifiers and payloads, the contract between whoever enqueues (API
// transactions, database triggers, replays, worker/crontab) and the worker tasks that consume them.
// The SQL side enqueues through oriva.enqueue_webhook_attempts (and its forms with one attempt
// number and time for all, oriva.enqueue_webhook_deliveries, and for one delivery,
// oriva.enqueue_webhook_delivery), oriva.enqueue_notification_expiry,
// oriva.enqueue_email_digest and oriva.enqueue_broadcast_emails;
// test/db/definitions.test.ts fails when their identifiers, worker/crontab or the worker's task
// list drift from JOB.

export const JOB = {
  /** One delivery attempt of one event to one webhook. */
  webhookDeliver: 'webhook_deliver',
  /** Expire one notification at its expires_at (enqueued with run_at = expires_at). */
  notificationExpire: 'notification_expire',
  /** One user's email digest (keyed email_digest:<user>, enqueued by oriva.enqueue_email_digest). */
  emailDigest: 'email_digest',
  /** A broadcast's email deliveries, a page of users at a time (keyed broadcast_emails:<id>). */
  broadcastEmails: 'broadcast_emails',
  /** Cron (worker/crontab): the safety sweep behind the per-notification expiry jobs. */
  notificationsExpireOverdue: 'notifications_expire_overdue',
  /** Cron (worker/crontab): daily archival of rows older than RETENTION_DAYS. */
  oldRowsArchive: 'old_rows_archive',
  /** Cron (worker/crontab): platform_events' month partitions, made ahead of time. */
  eventPartitionsEnsure: 'event_partitions_ensure',
  /** Cron (worker/crontab): add the events settled since the last run to the hourly stats. */
  statsRollup: 'stats_rollup',
  /** Cron (worker/crontab): webhook.failing / webhook.recovered from the last 15 minutes of attempts. */
  webhookHealth: 'webhook_health',
} as const;

export type JobName = (typeof JOB)[keyof typeof JOB];

export interface WebhookDeliverPayload {
  webhook_id: string;
  event_id: string;
  /** Standard Webhooks `webhook-id`: the same for every retry and replay of this delivery. */
  delivery_id: string;
  attempt: number;
}

export interface EmailDigestPayload {
  user_id: string;
}

export interface BroadcastEmailsPayload {
  broadcast_id: string;
  /** Where the previous run stopped (null: from the first user). */
  after_user: string | null;
}

export interface NotificationExpirePayload {
  notification_id: string;
}

/** What graphile-worker's cron passes a task (crontab items without a payload of their own). */
export interface CronPayload {
  _cron: { ts: string; backfilled?: boolean };
}

declare global {
  // graphile-worker types each task's payload by its identifier through this interface.
  // eslint-disable-next-line @typescript-eslint/no-namespace -- the augmentation point graphile-worker defines
  namespace GraphileWorker {
    interface Tasks {
      [JOB.webhookDeliver]: WebhookDeliverPayload;
      [JOB.notificationExpire]: NotificationExpirePayload;
      [JOB.emailDigest]: EmailDigestPayload;
      [JOB.broadcastEmails]: BroadcastEmailsPayload;
      [JOB.notificationsExpireOverdue]: CronPayload;
      [JOB.oldRowsArchive]: CronPayload;
      [JOB.eventPartitionsEnsure]: CronPayload;
      [JOB.statsRollup]: CronPayload;
      [JOB.webhookHealth]: CronPayload;
    }
  }
}
