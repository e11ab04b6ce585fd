// A worker process (`node --import tsx worker/main.ts`) SIGKILLed while the receiver holds its
// request: once a worker runs again, the delivery happens with the same webhook-id within
// 2 minutes (heartbeats + force_unlock_workers, default settings), instead of graphile-worker's
// 4-hour lock expiry. And SIGTERM drains: a delivery in flight completes before the process exits,
// and the jobs fetched ahead (graphile-worker's local queue) go back to the queue without an error line
// and without spending an attempt.
import type { ServerResponse } from 'node:http';
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { finished, startChild } from '../helpers/spawn.js';
import { createTestApp, startTestWorker } from '../helpers/stack.js';
import { deliveryLog, insertEvent, insertWebhook, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const receiver = await startReceiver(t);
const workerEnv = { DATABASE_URL: db.url, WEBHOOK_ALLOWLIST: '127.0.0.1', WORKER_METRICS_PORT: '0', WORKER_CONCURRENCY: '2', LOG_LEVEL: 'warn' };

t.test('SIGKILL mid-delivery: delivered again with the same webhook-id once a worker runs', async (t) => {
  const held: ServerResponse[] = [];
  receiver.on('/crash', (_req, res, n) => (n === 1 ? held.push(res) : res.writeHead(200).end('ok')));
  t.teardown(() => held.forEach((res) => res.destroy()));
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/crash') });

  const child = startChild('worker/main.ts', [], workerEnv);
  const exited = finished(child, 90_000);
  t.teardown(() => child.kill('SIGKILL'));
  await insertEvent(db.system, app.appId);
  const [first] = await receiver.waitFor('/crash', 1, 30_000);
  child.kill('SIGKILL');
  const exit = await exited;
  t.equal(exit.signal, 'SIGKILL', 'the worker died in the middle of the delivery');
  t.equal((await deliveryLog(db.system, hook.id)).length, 0, 'nothing was recorded');
  const { rows } = await db.system.query(`select running from oriva.job_queue_summary() where task_identifier = 'webhook_deliver'`);
  t.same(rows, [{ running: 1 }], 'its job is still locked by the dead worker');

  const restarted = Date.now();
  await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { concurrency: 2 }); // default heartbeat settings
  const requests = await receiver.waitFor('/crash', 2, 120_000);
  const after = requests[1]!.at - restarted;
  t.ok(after < 120_000, `delivered again ${(after / 1000).toFixed(1)} s after a worker started`);
  t.equal(requests[1]!.headers['webhook-id'], first!.headers['webhook-id'], 'same webhook-id');
  const log = await until(async () => { const r = await deliveryLog(db.system, hook.id); return r.length === 1 && r; }, 5000, 'log row');
  t.match(log, [{ success: true, status_code: 200, delivery_id: first!.headers['webhook-id'] }]);
});

t.test('SIGTERM drains the delivery in flight before exiting', async (t) => {
  await db.system.query('update oriva.app_webhooks set is_active = false');
  receiver.on('/slow', (_req, res) => setTimeout(() => res.writeHead(200).end('late but fine'), 1500));
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/slow') });
  const child = startChild('worker/main.ts', [], workerEnv);
  const exited = finished(child, 60_000);
  t.teardown(() => child.kill('SIGKILL'));
  await insertEvent(db.system, app.appId);
  await receiver.waitFor('/slow', 1, 30_000);
  child.kill('SIGTERM');
  const exit = await exited;
  t.equal(exit.code, 0, `clean exit (stderr: ${exit.stderr.slice(0, 500)})`);
  t.match(await deliveryLog(db.system, hook.id), [{ success: true, status_code: 200, response_body: 'late but fine' }], 'the in-flight delivery was completed and recorded');
  const { rows } = await db.system.query(`select coalesce(sum(running + ready), 0)::int as n from oriva.job_queue_summary() where task_identifier = 'webhook_deliver'`);
  t.equal(rows[0].n, 0, 'nothing left locked or pending');
});

t.test('SIGTERM with jobs fetched ahead: those in flight finish, the rest go back to the queue, no error line', async (t) => {
  await db.system.query('update oriva.app_webhooks set is_active = false');
  receiver.on('/ahead', (_req, res) => setTimeout(() => res.writeHead(200).end('ok'), 1500));
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/ahead') });
  for (let i = 0; i < 6; i++) await insertEvent(db.system, app.appId);
  // Two slots, both for this endpoint: two deliveries in flight, two more fetched ahead, two left in the table.
  const child = startChild('worker/main.ts', [], { ...workerEnv, WEBHOOK_APP_CONCURRENCY: '2', LOG_LEVEL: 'info' });
  const exited = finished(child, 60_000);
  t.teardown(() => child.kill('SIGKILL'));
  await receiver.waitFor('/ahead', 2, 30_000);
  const { rows: [held] } = await db.system.query(`select running::int from oriva.job_queue_summary() where task_identifier = 'webhook_deliver'`);
  t.equal(held.running, 4, 'two jobs running and two fetched ahead, all locked by the worker');
  child.kill('SIGTERM');
  const exit = await exited;
  t.equal(exit.code, 0, `clean exit (stderr: ${exit.stderr.slice(0, 500)})`);
  const lines = exit.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: number; msg: string });
  t.same(lines.filter((l) => l.level >= 50).map((l) => l.msg), [], 'no error line');
  t.equal((await deliveryLog(db.system, hook.id)).filter((r) => r.success).length, 2, 'the two in flight were completed and recorded');
  t.equal(receiver.requests('/ahead').length, 2, 'nothing else was sent');
  const { rows: [left] } = await db.system.query(`select ready::int, running::int from oriva.job_queue_summary() where task_identifier = 'webhook_deliver'`);
  t.same(left, { ready: 4, running: 0 }, 'the other four wait in the queue, none locked');
  const { rows: attempts } = await db.owner.query(`select j.attempts from graphile_worker._private_jobs j
                                                     join graphile_worker._private_tasks k on k.id = j.task_id
                                                    where k.identifier = 'webhook_deliver'`);
  t.same(attempts, [{ attempts: 0 }, { attempts: 0 }, { attempts: 0 }, { attempts: 0 }], 'none of them spent an attempt (fetching ahead counted one; it is undone)');
});
