// notifications_expire_overdue (cron, every 5 minutes): the safety sweep behind notification_expire
// — expires whatever is past its expires_at, in batches, with the same event.
import type { Task } from 'graphile-worker';
import { run } from '../../lib/db.js';
import { sqlFile } from '../../lib/sql.js';
import type { TaskDeps } from './index.js';

const expireOverdue = sqlFile('expiry/expire_overdue');
const BATCH = 1000;

export function notificationsExpireOverdue({ pool, log }: TaskDeps): Task<'notifications_expire_overdue'> {
  return async () => {
    let total = 0;
    for (;;) {
      const expired = await run(pool, expireOverdue, [BATCH]);
      total += expired.length;
      if (expired.length < BATCH) break;
    }
    if (total > 0) log.info({ expired: total }, 'expiry sweep expired overdue notifications');
  };
}
