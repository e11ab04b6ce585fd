// old_rows_archive (cron, daily): events and notifications older than RETENTION_DAYS move to the
// archive tables, delivery-log rows older than that are deleted — each in batches of at most
// ARCHIVE_BATCH rows, one transaction per batch, so no lock is held for long. Counts are logged.
import type { Task } from 'graphile-worker';
import type { Pool } from '../../lib/db.js';
import { sqlFile, type NamedQuery } from '../../lib/sql.js';
import type { TaskDeps } from './index.js';

export const ARCHIVE_BATCH = 10_000;
const moveEvents = sqlFile('archive/move_events');
const moveNotifications = sqlFile('archive/move_notifications');
const pruneDeliveryLog = sqlFile('archive/prune_delivery_log');

async function inBatches(pool: Pool, query: NamedQuery, cutoff: Date, batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query({ name: query.name, text: query.text, values: [cutoff, batch] });
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) return total;
  }
}

export interface ArchiveCounts {
  events: number;
  notifications: number;
  deliveryLogs: number;
}

export async function archiveOldRows(pool: Pool, retentionDays: number, batch = ARCHIVE_BATCH, now = new Date()): Promise<ArchiveCounts> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  return {
    events: await inBatches(pool, moveEvents, cutoff, batch),
    notifications: await inBatches(pool, moveNotifications, cutoff, batch),
    deliveryLogs: await inBatches(pool, pruneDeliveryLog, cutoff, batch),
  };
}

export function oldRowsArchive({ pool, config, log }: TaskDeps): Task<'old_rows_archive'> {
  return async () => {
    const counts = await archiveOldRows(pool, config.retentionDays);
    log.info({ ...counts, retentionDays: config.retentionDays }, 'archival done');
  };
}
