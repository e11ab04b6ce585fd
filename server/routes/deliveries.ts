// GET /notifications/:id/deliveries: what happened to one notification on each channel (DESIGN
// §10) — in_app delivered or suppressed (and why), email pending / sending / sent / skipped /
// failed / bouncing (and why, and when). For the owner app and platform apps; another app's
// notification is 403, an unknown one 404, a user token 403. The same records feed the stats.
import type Router from '@koa/router';
import { run } from '../../lib/db.js';
import { forbidden, notFound } from '../../lib/errors.js';
import { closed, uuid } from '../../lib/schemas/common.js';
import { sqlFile, sqlStatement } from '../../lib/sql.js';
import { callerKey } from '../../lib/callers.js';
import { defineRoute, type RouteDeps } from './define.js';

interface DeliveriesRow {
  id: string;
  created_at: Date;
  in_app_delivered: boolean;
  in_app_reason: string | null;
  email_decision: string | null;
  email_route_reason: string | null;
  email_status: string | null;
  email_reason: string | null;
  email_due_at: Date | null;
  email_updated_at: Date | null;
}

const deliveriesOf = sqlStatement<{ id: string }, DeliveriesRow>('notifications/deliveries');
const notificationOwner = sqlFile('notifications/owner');

const channelRecord = closed({
  channel: { enum: ['in_app', 'email'] },
  status: {
    enum: ['delivered', 'suppressed', 'pending', 'sending', 'sent', 'skipped', 'failed', 'bouncing'],
    description: 'in_app: delivered or suppressed; email: pending (waits for the digest), sending, sent, skipped, failed (no retry left) or bouncing',
  },
  reason: {
    type: ['string', 'null'],
    description: 'why it was suppressed (muted_app, type_off, category_off, channel_off) or skipped (no_address, bouncing, online, read, clicked, dismissed, expired), or the last SMTP error',
  },
  at: { type: 'string', format: 'date-time', description: 'when it came to this status (pending: when the digest is due)' },
});

export const deliveriesResult = closed({
  success: { const: true },
  notification_id: uuid,
  deliveries: { type: 'array', items: channelRecord },
});

function records(row: DeliveriesRow) {
  const created = row.created_at.toISOString();
  const inApp = row.in_app_delivered
    ? { channel: 'in_app', status: 'delivered', reason: null, at: created }
    : { channel: 'in_app', status: 'suppressed', reason: row.in_app_reason, at: created };
  const email = row.email_status
    ? { channel: 'email', status: row.email_status, reason: row.email_reason, at: (row.email_status === 'pending' ? row.email_due_at : row.email_updated_at)!.toISOString() }
    : { channel: 'email', status: row.email_decision === 'suppress' ? 'suppressed' : 'skipped', reason: row.email_route_reason, at: created };
  return [inApp, email];
}

export function deliveryRoutes(router: Router, deps: RouteDeps): void {
  defineRoute<{ id: string }>(router, deps, {
    method: 'get',
    path: '/notifications/:id/deliveries',
    operationId: 'getNotificationDeliveries',
    summary: 'What happened to a notification on each channel',
    description: 'One record per channel: in_app (delivered, or suppressed by the user\'s preferences) and email (pending until the user\'s digest, then sent, skipped with why, failed or bouncing). For the owner app and platform apps.',
    tag: 'Notifications',
    who: 'any',
    params: { type: 'object', required: ['id'], properties: { id: { ...uuid, description: 'the notification id (a UUID)' } } },
    rateLimit: { name: 'queries', key: callerKey },
    success: {
      status: 200,
      description: 'The channel records',
      schema: deliveriesResult,
      example: {
        success: true,
        notification_id: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
        deliveries: [
          { channel: 'in_app', status: 'delivered', reason: null, at: '2026-12-01T10:00:00.000Z' },
          { channel: 'email', status: 'skipped', reason: 'online', at: '2026-12-01T10:05:00.000Z' },
        ],
      },
    },
    errors: [400, 403, 404, 429],
  }, async ({ caller, params, read }) => {
    if (caller.kind !== 'app') throw forbidden('Delivery records are for the app that sent the notification and platform apps');
    const row = await read(async (client) => {
      const [found] = await run(client, deliveriesOf, { id: params.id });
      if (found) return found;
      const [owner] = await run<{ app_id: string }>(client, notificationOwner, [params.id]);
      throw owner ? forbidden('This notification belongs to another app') : notFound('Notification not found');
    });
    return { status: 200, body: { success: true, notification_id: row.id, deliveries: records(row) } };
  });
}
