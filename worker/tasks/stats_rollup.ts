// stats_rollup (cron, every minute): adds the events settled since the last run to the hourly stats
// (worker/stats/rollup.ts). The stats endpoints read the rollups, never the event log.
import type { Task } from 'graphile-worker';
import { rollUpStats } from '../stats/rollup.js';
import type { TaskDeps } from './index.js';

export function statsRollup({ pool, log }: TaskDeps): Task<'stats_rollup'> {
  return async () => {
    const result = await rollUpStats(pool);
    if (!result.settled) log.warn({ rolledUpSeq: result.rolledUpSeq }, 'stats rollup waited too long for older writers; the next run continues');
  };
}
