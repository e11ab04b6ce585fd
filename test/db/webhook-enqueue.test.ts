// Fan-out enqueues a statement's webhook deliveries with one graphile_worker.add_jobs call per query
// (migration 000025): one job per (webhook, event) pair, keyed by its delivery id, with the payload the
// task reads; a pair asked for twice is one job; a delivery enqueued again while its job waits
// replaces it (same key) instead of adding a second; an event nobody subscribed to enqueues nothing.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp } from '../helpers/stack.js';
import { insertWebhook } from '../worker/helpers/fixtures.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const quiet = await createTestApp(db, { id: 'hugo-ai' });

interface Job { key: string; payload: { webhook_id: string; event_id: string; delivery_id: string; attempt: number }; max_attempts: number }
const deliveryJobs = async (): Promise<Job[]> =>
  (await db.owner.query<Job>(`select j.key, j.payload, j.max_attempts from graphile_worker._private_jobs j
                              join graphile_worker._private_tasks t on t.id = j.task_id
                             where t.identifier = 'webhook_deliver' order by j.id`)).rows;

t.test('one job per pair, in event then webhook order, keyed by delivery id', async (t) => {
  const a = await insertWebhook(db.system, app.appId, { url: 'https://hooks.example/a', events: ['session.*'] });
  const b = await insertWebhook(db.system, app.appId, { url: 'https://hooks.example/b', events: ['*'] });
  await insertWebhook(db.system, app.appId, { url: 'https://hooks.example/c', events: ['billing.*'] });
  const { rows: events } = await db.system.query<{ id: string }>(
    `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id)
     select $1, 'user_1', 'session', 'started', 'session', 's-' || g from generate_series(1, 3) g returning id`, [app.appId]);
  await db.system.query(`insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id)
                         values ($1, 'user_1', 'session', 'started', 'session', 'nobody')`, [quiet.appId]);
  const jobs = await deliveryJobs();
  const [first, second] = [a.id, b.id].sort();
  const expected = events.flatMap((e) => [first!, second!].map((w) => ({ w, e: e.id })));
  t.equal(jobs.length, 6, 'three events × the two webhooks that hear them; nothing for the app without webhooks');
  for (const [i, { w, e }] of expected.entries()) {
    const d = (await db.system.query<{ d: string }>('select oriva.webhook_delivery_id($1, $2) as d', [w, e])).rows[0]!.d;
    t.same(jobs[i], { key: `webhook_deliver:${d}`, payload: { webhook_id: w, event_id: e, delivery_id: d, attempt: 1 }, max_attempts: 3 });
  }
  await db.owner.query(`delete from graphile_worker._private_jobs`);
});

t.test('a pair asked for twice is one job; enqueued again while waiting, it replaces the waiting job', async (t) => {
  const hook = await insertWebhook(db.system, quiet.appId, { url: 'https://hooks.example/q', events: ['*'] });
  const event = '00000000-0000-4000-8000-000000000001';
  await db.system.query('select oriva.enqueue_webhook_deliveries($1::uuid[], $2::uuid[], 1)', [[hook.id, hook.id], [event, event]]);
  t.equal((await deliveryJobs()).length, 1, 'one job');
  await db.system.query(`select oriva.enqueue_webhook_delivery($1, $2, 2, now() + interval '1 minute')`, [hook.id, event]);
  const jobs = await deliveryJobs();
  t.equal(jobs.length, 1, 'still one job');
  t.equal(jobs[0]!.payload.attempt, 2, 'the later enqueue replaced it');
});
