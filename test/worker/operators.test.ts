// Operators: `oriva jobs` (queue depth, failures, disabled webhooks), `oriva webhooks replay`, and
// the worker's /metrics (deliveries count, latency histogram, failures) on WORKER_METRICS_PORT.
import t from 'tap';
import { freePort } from '../../lib/listen.js';
import { testDatabase } from '../helpers/db.js';
import { finished, runChild, startChild } from '../helpers/spawn.js';
import { createTestApp, startTestWorker } from '../helpers/stack.js';
import { deliveryLog, insertEvent, insertWebhook, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const receiver = await startReceiver(t);
const oriva = (...args: string[]) => runChild('lib/cli/main.ts', args, { DATABASE_URL: db.url });

t.test('oriva jobs: queue depth per task, failed jobs and disabled webhooks', async (t) => {
  const gone = await insertWebhook(db.system, app.appId, { url: 'https://93.184.216.34/gone' });
  await db.system.query(`update oriva.app_webhooks set is_active = false, disabled_reason = 'endpoint answered 410 Gone' where id = $1`, [gone.id]);
  await db.system.query(`select oriva.add_job('notification_expire', '{"notification_id": "00000000-0000-4000-8000-000000000001"}', now() + interval '1 hour')`);
  await db.system.query(`select oriva.add_job('notification_expire', '{"notification_id": "not-a-uuid"}', max_attempts := 1)`);
  const worker = await startTestWorker(t, db, {}, { concurrency: 1 });
  await until(async () => (await db.system.query('select 1 from oriva.failed_jobs(10)')).rowCount === 1, 10_000, 'the bad job failed');
  await worker.close();

  const result = await oriva('jobs');
  t.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  t.match(report.queues, [{ task_identifier: 'notification_expire', scheduled: 1, failed: 1 }]);
  t.match(report.failed_jobs, [{ task_identifier: 'notification_expire', attempts: 1, last_error: /uuid/ }]);
  t.match(report.disabled_webhooks, [{ id: gone.id, app_id: 'work-buddy', webhook_url: 'https://93.184.216.34/gone', disabled_reason: /410/ }]);
});

t.test('oriva webhooks replay: every failed delivery since a time, same webhook-id', async (t) => {
  let down = true;
  receiver.on('/cli', (_req, res) => res.writeHead(down ? 503 : 200).end());
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/cli'), maxRetries: 0 });
  const worker = await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { concurrency: 2 });
  const since = new Date(Date.now() - 1000).toISOString();
  await insertEvent(db.system, app.appId);
  const [failed] = await receiver.waitFor('/cli', 1);
  await until(async () => (await deliveryLog(db.system, hook.id)).length === 1);
  down = false;

  const result = await oriva('webhooks', 'replay', '--app', app.appId, '--webhook', hook.id, '--since', since);
  t.equal(result.code, 0, result.stderr);
  t.same(JSON.parse(result.stdout), { replayed: 1, delivery_ids: [failed!.headers['webhook-id']] });
  const requests = await receiver.waitFor('/cli', 2, 10_000);
  t.equal(requests[1]!.headers['webhook-id'], failed!.headers['webhook-id']);
  await until(async () => (await deliveryLog(db.system, hook.id)).at(-1)?.success === true, 5000, 'recorded');
  await worker.close();

  const wrongApp = await oriva('webhooks', 'replay', '--app', 'hugo-ai', '--webhook', hook.id, '--since', since);
  t.match(wrongApp, { code: 1, stderr: /has no webhook/ });
  const badSince = await oriva('webhooks', 'replay', '--app', app.appId, '--webhook', hook.id, '--since', 'last tuesday');
  t.match(badSince, { code: 2, stderr: /--since must be an ISO 8601 time/ });
});

t.test('npm run worker serves /metrics on WORKER_METRICS_PORT: deliveries, latency, failures', async (t) => {
  await db.system.query('update oriva.app_webhooks set is_active = false');
  receiver.on('/metrics-ok', (_req, res) => res.writeHead(200).end());
  receiver.on('/metrics-fail', (_req, res) => res.writeHead(500).end());
  await insertWebhook(db.system, app.appId, { url: receiver.url('/metrics-ok') });
  await insertWebhook(db.system, app.appId, { url: receiver.url('/metrics-fail'), maxRetries: 0 });
  const port = await freePort();
  const child = startChild('worker/main.ts', [], { DATABASE_URL: db.url, WEBHOOK_ALLOWLIST: '127.0.0.1', WORKER_METRICS_PORT: String(port), WORKER_CONCURRENCY: '3' });
  const exited = finished(child, 60_000);
  t.teardown(() => child.kill('SIGKILL'));
  await insertEvent(db.system, app.appId);
  await receiver.waitFor('/metrics-ok', 1, 30_000);
  await receiver.waitFor('/metrics-fail', 1, 30_000);

  const text = await until(async () => {
    const body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    return /oriva_webhook_delivery_failures_total\{reason="http_5xx"\} 1/.test(body) && body;
  }, 10_000, 'metrics');
  t.match(text, /oriva_webhook_deliveries_total\{outcome="success"\} 1/);
  t.match(text, /oriva_webhook_deliveries_total\{outcome="failure"\} 1/);
  t.match(text, /oriva_webhook_delivery_duration_seconds_bucket\{le="0\.1",outcome="success"\} 1/);
  t.match(text, /oriva_webhook_delivery_duration_seconds_count\{outcome="failure"\} 1/);
  t.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
  child.kill('SIGTERM');
  t.equal((await exited).code, 0);
});
