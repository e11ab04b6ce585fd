// broadcast_emails: the email channel of one broadcast. Its recipients with an address whose
// preferences let email through each get a pending delivery and their digest job
// (oriva.schedule_broadcast_emails), a page of users per statement. After a few pages the task
// enqueues itself again from where it stopped, so a large audience never holds one long job and a
// crash repeats at most one page (a delivery already scheduled is kept as it is).
import type { Task } from 'graphile-worker';
import { run } from '../../lib/db.js';
import { sqlFile } from '../../lib/sql.js';
import type { TaskDeps } from './index.js';

const schedulePage = sqlFile('email/schedule_broadcast');
const continueLater = sqlFile('email/continue_broadcast');

const PAGE = 1000;
const PAGES_PER_RUN = 20;

export function broadcastEmails({ pool, log }: TaskDeps): Task<'broadcast_emails'> {
  return async ({ broadcast_id, after_user }) => {
    let after = after_user;
    for (let page = 0; page < PAGES_PER_RUN; page++) {
      const [row] = await run<{ last_user: string | null }>(pool, schedulePage, [broadcast_id, after, PAGE]);
      if (!row?.last_user) {
        log.debug({ broadcastId: broadcast_id }, 'broadcast emails scheduled');
        return;
      }
      after = row.last_user;
    }
    await run(pool, continueLater, [broadcast_id, after]);
  };
}
