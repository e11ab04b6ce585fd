// Expiry: a notification_expire job at expires_at (no polling) expires it within 2 s and emits
// notification.expired (which reaches webhooks through the fan-out trigger); the 5-minute sweep
// catches what has no job. Archival moves the right rows in bounded batches and leaves the rest.
import t from 'tap';
import type { Pool } from '../../lib/db.js';
import { archiveOldRows } from '../../worker/tasks/old_rows_archive.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestWorker } from '../helpers/stack.js';
import { insertEvent, insertWebhook, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const receiver = await startReceiver(t);
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1', RETENTION_DAYS: '90' }, { concurrency: 2 });

let counter = 0;
async function insertNotification(pool: Pool, opts: { expiresAt?: Date | null; createdAt?: Date; status?: string } = {}): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `with n as (insert into oriva.platform_notifications (app_id, external_id, user_id, notification_type, title, body, expires_at, created_at)
                values ($1, $2, 'user_1', 'reminder', 'Title', 'Body', $3, $4) returning id, app_id, user_id)
     , s as (insert into oriva.notification_state (notification_id, app_id, user_id, status) select id, app_id, user_id, $5 from n)
     select id from n`,
    [app.appId, `ext-${++counter}`, opts.expiresAt ?? null, opts.createdAt ?? new Date(), opts.status ?? 'unread'],
  );
  return rows[0]!.id;
}

const stateOf = async (id: string) =>
  (await db.system.query<{ status: string; expired_at: Date | null }>('select status, expired_at from oriva.notification_state where notification_id = $1', [id])).rows[0];

t.test('expiry fires within 2 s of expires_at and emits notification.expired to webhooks', async (t) => {
  await insertWebhook(db.system, app.appId, { url: receiver.url('/expired'), events: ['notification.expired'] });
  const expiresAt = new Date(Date.now() + 1500);
  const id = await insertNotification(db.system, { expiresAt });
  // What the API does when it creates a notification with expires_at.
  await db.system.query(`select oriva.add_job('notification_expire', json_build_object('notification_id', $1::uuid), $2, 'expire:' || $1)`, [id, expiresAt]);

  t.equal((await stateOf(id))!.status, 'unread', 'not before its time');
  const state = await until(async () => { const s = await stateOf(id); return s?.status === 'expired' && s; }, 6000, 'expired');
  const observedLate = Date.now() - expiresAt.getTime();
  const late = state.expired_at!.getTime() - expiresAt.getTime();
  t.ok(late >= 0 && late < 2000, `expired ${late} ms after expires_at (observed ${observedLate} ms)`);

  const { rows } = await db.system.query(`select event_data from oriva.platform_events where event_category = 'notification' and event_type = 'expired' and entity_id = $1`, [id]);
  t.match(rows, [{ event_data: { notification_id: id, status: 'expired', previous_status: 'unread' } }], 'one notification.expired event');
  const [request] = await receiver.waitFor('/expired', 1, 5000);
  t.match(JSON.parse(request!.body), { type: 'notification.expired', data: { entity_id: id, event_type: 'expired' } }, 'the webhook got it');
});

t.test('an expiry job for a notification whose expires_at moved later does nothing', async (t) => {
  const id = await insertNotification(db.system, { expiresAt: new Date(Date.now() + 3600_000) });
  await db.system.query(`select oriva.add_job('notification_expire', json_build_object('notification_id', $1::uuid))`, [id]);
  await until(async () => (await db.system.query(`select 1 from oriva.job_queue_summary() where task_identifier = 'notification_expire' and ready + running > 0`)).rowCount === 0, 5000, 'job done');
  t.equal((await stateOf(id))!.status, 'unread');
});

t.test('the safety sweep expires overdue notifications that have no job', async (t) => {
  const overdue = await insertNotification(db.system, { expiresAt: new Date(Date.now() - 60_000), status: 'read' });
  const future = await insertNotification(db.system, { expiresAt: new Date(Date.now() + 3600_000) });
  const never = await insertNotification(db.system);
  await db.system.query(`select oriva.add_job('notifications_expire_overdue', '{}'::json)`);
  await until(async () => (await stateOf(overdue))?.status === 'expired', 5000, 'sweep');
  t.equal((await stateOf(future))!.status, 'unread');
  t.equal((await stateOf(never))!.status, 'unread');
  const { rows } = await db.system.query(`select event_data->>'previous_status' as p from oriva.platform_events where event_type = 'expired' and entity_id = $1`, [overdue]);
  t.same(rows, [{ p: 'read' }]);
});

t.test('archival moves old events and notifications in batches and prunes old delivery logs', async (t) => {
  const old = new Date(Date.now() - 100 * 86_400_000);
  const oldEvents = [await insertEvent(db.system, app.appId, 'task.created'), await insertEvent(db.system, app.appId, 'task.created'), await insertEvent(db.system, app.appId, 'task.created')];
  await db.system.query('update oriva.platform_events set created_at = $2 where id = any($1)', [oldEvents, old]);
  const recentEvent = await insertEvent(db.system, app.appId, 'task.created');
  const oldNotes = [await insertNotification(db.system, { createdAt: old, status: 'dismissed' }), await insertNotification(db.system, { createdAt: old })];
  const recentNote = await insertNotification(db.system);
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/archive'), events: ['none.none'] });
  await db.system.query(
    `insert into oriva.webhook_delivery_log (webhook_id, app_id, delivery_id, event_type, payload, success, delivered_at)
     select $1, $2, 'msg_' || g, 'task.created', '{}', true, case when g <= 3 then $3 else now() end from generate_series(1, 5) g`,
    [hook.id, app.appId, old],
  );

  const counts = await archiveOldRows(db.system, 90, 2); // batches of 2 rows: several transactions
  t.ok(counts.events >= 3, `events moved: ${counts.events}`);
  t.same({ notifications: counts.notifications, deliveryLogs: counts.deliveryLogs }, { notifications: 2, deliveryLogs: 3 });

  const live = await db.system.query<{ id: string }>('select id from oriva.platform_events where id = any($1)', [[...oldEvents, recentEvent]]);
  t.same(live.rows.map((r) => r.id), [recentEvent], 'only the recent event stays live');
  const archived = await db.system.query<{ id: string; seq: number }>('select id, seq from oriva.platform_events_archive where id = any($1) order by seq', [oldEvents]);
  t.same(archived.rows.map((r) => r.id).sort(), [...oldEvents].sort(), 'old events are in the archive, seq kept');
  const notes = await db.system.query<{ id: string; status: string }>('select id, status from oriva.platform_notifications_archive order by created_at', []);
  t.same(notes.rows.map((r) => [r.id, r.status]).sort(), [[oldNotes[0], 'dismissed'], [oldNotes[1], 'unread']].sort(), 'old notifications archived with their state');
  const liveNotes = await db.system.query<{ id: string }>('select id from oriva.platform_notifications where id = any($1)', [[...oldNotes, recentNote]]);
  t.same(liveNotes.rows.map((r) => r.id), [recentNote]);
  t.equal((await db.system.query('select 1 from oriva.notification_state where notification_id = any($1)', [oldNotes])).rowCount, 0, 'their state rows went with them');
  const logs = await db.system.query('select delivery_id from oriva.webhook_delivery_log where webhook_id = $1 order by delivery_id', [hook.id]);
  t.same(logs.rows.map((r) => r.delivery_id), ['msg_4', 'msg_5'], 'recent delivery logs kept');

  const again = await archiveOldRows(db.system, 90, 2);
  t.same(again, { events: 0, eventPartitions: 0, notifications: 0, deliveryLogs: 0 }, 'a second run finds nothing');
});

t.test('the archive task runs from the queue with RETENTION_DAYS', async (t) => {
  const eventId = await insertEvent(db.system, app.appId, 'task.updated');
  await db.system.query(`update oriva.platform_events set created_at = now() - interval '91 days' where id = $1`, [eventId]);
  await db.system.query(`select oriva.add_job('old_rows_archive', '{}'::json)`);
  await until(async () => (await db.system.query('select 1 from oriva.platform_events_archive where id = $1', [eventId])).rowCount === 1, 5000, 'archived');
  t.equal((await db.system.query('select 1 from oriva.platform_events where id = $1', [eventId])).rowCount, 0);
});
