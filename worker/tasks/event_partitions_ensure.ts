// event_partitions_ensure (cron, hourly): the month partitions of platform_events for this month and
// the next EVENT_PARTITIONS_AHEAD, made before any event needs them. If this did not run for months,
// writes would still succeed (they land in the default partition, whose rows move into a month's
// partition when it is made), so the task only keeps the default partition empty.
import type { Task } from 'graphile-worker';
import { run, type Queryable } from '../../lib/db.js';
import { sqlFile } from '../../lib/sql.js';
import type { TaskDeps } from './index.js';

/** How many months after this one always have their partition. */
export const EVENT_PARTITIONS_AHEAD = 2;
const ensurePartitions = sqlFile('events/ensure_partitions');

/** The names of the partitions made (none when all existed). */
export async function ensureEventPartitions(db: Queryable, monthsAhead = EVENT_PARTITIONS_AHEAD): Promise<string[]> {
  return (await run<{ made: string }>(db, ensurePartitions, [monthsAhead])).map((r) => r.made);
}

export function eventPartitionsEnsure({ pool, log }: TaskDeps): Task<'event_partitions_ensure'> {
  return async () => {
    const made = await ensureEventPartitions(pool);
    if (made.length > 0) log.info({ made }, 'event partitions made');
  };
}
