// old_rows_archive (cron, daily): events and notifications older than RETENTION_DAYS move to the
// archive tables, delivery-log rows older than that are deleted. Events go a month at a time: each
// month partition of platform_events that ends before the cutoff is copied to the archive and
// dropped in one transaction (oriva.archive_event_partition), so an event stays live until its whole
// month is past retention; the default partition's old rows (normally none) and the other tables'
// go in batches of at most ARCHIVE_BATCH rows, one transaction per batch, so no lock is held for
// long. Counts are logged.
import type { Task } from 'graphile-worker';
import { run, type Pool } from '../../lib/db.js';
import { sqlFile, type NamedQuery } from '../../lib/sql.js';
import type { TaskDeps } from './index.js';

export const ARCHIVE_BATCH = 10_000;
const archiveEventPartition = sqlFile('archive/event_partition');
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

/** Archive every month partition that ends at or before the cutoff, oldest first. */
async function wholePartitions(pool: Pool, cutoff: Date): Promise<{ partitions: number; rows: number }> {
  const done = { partitions: 0, rows: 0 };
  for (;;) {
    const [{ moved }] = (await run<{ moved: string | null }>(pool, archiveEventPartition, [cutoff])) as [{ moved: string | null }];
    if (moved === null) return done;
    done.partitions += 1;
    done.rows += Number(moved);
  }
}

export interface ArchiveCounts {
  /** Events moved: the whole partitions' and the default partition's. */
  events: number;
  /** Month partitions archived and dropped. */
  eventPartitions: number;
  notifications: number;
  deliveryLogs: number;
}

export async function archiveOldRows(pool: Pool, retentionDays: number, batch = ARCHIVE_BATCH, now = new Date()): Promise<ArchiveCounts> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const whole = await wholePartitions(pool, cutoff);
  return {
    events: whole.rows + (await inBatches(pool, moveEvents, cutoff, batch)),
    eventPartitions: whole.partitions,
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
