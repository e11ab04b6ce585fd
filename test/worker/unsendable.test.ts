// An event row the worker cannot serialise (event_data nested 5,000 deep, written by SQL before the
// API bounded app JSON) ends as a recorded failed delivery with the reason — not a job that dies three
// times and leaves no trace — and is never retried; the webhook keeps delivering, and once the row is
// fixed a replay sends it.
import t from 'tap';
import { replayFailedDeliveries } from '../../lib/cli/webhooks-replay.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestWorker } from '../helpers/stack.js';
import { deliveryLog, insertEvent, insertWebhook, pendingDeliveryJobs, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const receiver = await startReceiver(t);
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { webhookTimeoutMs: 800, concurrency: 2 });

t.test('recorded as a failed attempt with the reason, not retried; replayable once fixed', async (t) => {
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/hook'), events: ['*'], maxRetries: 5 });
  const deep = `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const { rows } = await db.system.query<{ id: string }>(
    `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
     values ($1, 'user_1', 'test', 'deep', 'test', 'e1', $2::jsonb) returning id`, [app.appId, deep]);
  const deepId = rows[0]!.id;

  const failed = await until(async () => (await deliveryLog(db.system, hook.id)).find((r) => !r.success), 10_000, 'the failed attempt');
  t.match(failed, { delivery_attempt: 1, success: false, status_code: null, error_message: /^the event cannot be serialised: Maximum call stack size exceeded/ });
  const { rows: [logged] } = await db.system.query(`select payload from oriva.webhook_delivery_log where event_id = $1`, [deepId]);
  t.match(logged.payload, { type: 'test.deep', data: { event_id: deepId, event_data: {}, event_data_omitted: /cannot be serialised/ } }, 'the log keeps the envelope without the data');

  const next = await insertEvent(db.system, app.appId, 'session.started');
  await receiver.waitFor('/hook', 1);
  t.equal(JSON.parse(receiver.requests('/hook')[0]!.body).data.event_id, next, 'the next event is delivered');
  await until(async () => (await pendingDeliveryJobs(db.owner)) === 0, 10_000, 'an empty queue');
  await new Promise((r) => setTimeout(r, 1500)); // longer than the first retry's backoff (1 s)
  t.equal((await deliveryLog(db.system, hook.id)).filter((r) => !r.success).length, 1, 'never retried');
  const { rows: [failedJobs] } = await db.owner.query(`select count(*)::int as n from graphile_worker.jobs where last_error is not null`);
  t.equal(failedJobs.n, 0, 'no job died');

  await db.system.query(`update oriva.platform_events set event_data = '{"fixed": true}' where id = $1`, [deepId]);
  const replay = await replayFailedDeliveries(db.system, app.appId, hook.id, new Date(Date.now() - 60_000));
  t.equal(replay.replayed, 1);
  await receiver.waitFor('/hook', 2);
  t.match(JSON.parse(receiver.requests('/hook')[1]!.body).data, { event_id: deepId, event_data: { fixed: true } });
});
