// notification_expire: at expires_at, the notification's state becomes `expired` and
// notification.expired is recorded in the same statement (webhooks get it through the fan-out
// trigger, the gateway through the NOTIFY trigger). A notification whose expires_at moved later,
// or that is already expired or gone, is left alone.
import type { Task } from 'graphile-worker';
import { run } from '../../lib/db.js';
import { sqlFile } from '../../lib/sql.js';
import type { TaskDeps } from './index.js';

const expireNotification = sqlFile('expiry/expire_notification');

export function notificationExpire({ pool, log }: TaskDeps): Task<'notification_expire'> {
  return async ({ notification_id }) => {
    const events = await run(pool, expireNotification, [notification_id]);
    log.debug({ notificationId: notification_id, expired: events.length }, 'notification expiry ran');
  };
}
