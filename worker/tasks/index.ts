// Every task the worker runs, by identifier. Each task file does one side effect.
import type { Task } from 'graphile-worker';
import type { Config } from '../../lib/config.js';
import type { Pool } from '../../lib/db.js';
import { JOB, type JobName } from '../../lib/jobs.js';
import type { Logger } from '../../lib/log.js';
import type { WebhookClient } from '../../lib/webhooks/http-client.js';
import type { DeliveryAdmission } from '../deliveries/admission.js';
import type { Mailer } from '../email/smtp.js';
import type { WorkerMetrics } from '../metrics.js';
import { broadcastEmails } from './broadcast_emails.js';
import { emailDigest } from './email_digest.js';
import { eventPartitionsEnsure } from './event_partitions_ensure.js';
import { notificationExpire } from './notification_expire.js';
import { notificationsExpireOverdue } from './notifications_expire_overdue.js';
import { oldRowsArchive } from './old_rows_archive.js';
import { statsRollup } from './stats_rollup.js';
import { webhookDeliver } from './webhook_deliver.js';
import { webhookHealth } from './webhook_health.js';

export interface TaskDeps {
  config: Config;
  databaseUrl: string;
  log: Logger;
  /** oriva_system connections for the tasks' own statements. */
  pool: Pool;
  webhookClient: WebhookClient;
  /** Per-app and per-endpoint shares of this worker's slots. */
  admission: DeliveryAdmission;
  metrics: WorkerMetrics;
  /** The email channel's sender; null when SMTP_URL is not set. */
  mailer: Mailer | null;
}

/** Every job in JOB, each typed by its payload (lib/jobs.ts). */
export function taskList(deps: TaskDeps): { [Name in JobName]: Task<Name> } {
  return {
    [JOB.webhookDeliver]: webhookDeliver(deps),
    [JOB.notificationExpire]: notificationExpire(deps),
    [JOB.emailDigest]: emailDigest(deps),
    [JOB.broadcastEmails]: broadcastEmails(deps),
    [JOB.notificationsExpireOverdue]: notificationsExpireOverdue(deps),
    [JOB.oldRowsArchive]: oldRowsArchive(deps),
    [JOB.eventPartitionsEnsure]: eventPartitionsEnsure(deps),
    [JOB.statsRollup]: statsRollup(deps),
    [JOB.webhookHealth]: webhookHealth(deps),
  };
}
