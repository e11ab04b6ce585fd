// The attempts a worker defers while a deferral is being written are enqueued again together next, in
// one statement (worker/deliveries/defer-batch.ts): each with its own attempt number and delay, in
// place of its delivery's job (same job key), never beside it.
import t from 'tap';
import { makeDeferBatcher } from '../../worker/deliveries/defer-batch.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp } from '../helpers/stack.js';
import { insertEvent, insertWebhook } from './helpers/fixtures.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });

t.test('deferrals made together are one statement, each attempt enqueued again with its own delay', async (t) => {
  const hook = await insertWebhook(db.system, app.appId, { url: 'https://hooks.example/a', events: ['*'] });
  const events = [await insertEvent(db.system, app.appId), await insertEvent(db.system, app.appId), await insertEvent(db.system, app.appId)];
  const jobs = async () => (await db.owner.query<{ event_id: string; attempt: number; due_in_s: number }>(
    `select payload ->> 'event_id' as event_id, (payload ->> 'attempt')::int as attempt,
            round(extract(epoch from run_at - now()))::int as due_in_s
       from graphile_worker._private_jobs j join graphile_worker._private_tasks k on k.id = j.task_id
      where k.identifier = 'webhook_deliver' and payload ->> 'webhook_id' = $1
      order by run_at`, [hook.id])).rows;
  t.same((await jobs()).map((j) => [j.event_id, j.attempt]).sort(), events.map((e) => [e, 1]).sort(), 'the events enqueued their first attempts');

  const pool = db.pool('oriva_system');
  let queries = 0;
  pool.on('acquire', () => queries++);
  const batcher = makeDeferBatcher(pool);
  const results = await Promise.all([
    batcher.defer({ webhookId: hook.id, eventId: events[0]!, attempt: 1, delayMs: 30_000 }),
    batcher.defer({ webhookId: hook.id, eventId: events[1]!, attempt: 2, delayMs: 60_000 }),
    batcher.defer({ webhookId: hook.id, eventId: events[2]!, attempt: 3, delayMs: 90_000 }),
  ]);
  t.same(results, [undefined, undefined, undefined], 'every deferral resolves once written');
  t.equal(queries, 2, 'the first deferral written alone, the two made meanwhile in one statement');
  t.same((await jobs()).map((j) => ({ ...j, due_in_s: Math.round(j.due_in_s / 10) * 10 })), [
    { event_id: events[0], attempt: 1, due_in_s: 30 },
    { event_id: events[1], attempt: 2, due_in_s: 60 },
    { event_id: events[2], attempt: 3, due_in_s: 90 },
  ], 'one job per delivery (its own replaced), with its attempt and its delay');
});
