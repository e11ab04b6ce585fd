// What operators see in the worker's log: a webhook deleted while its delivery is in flight is an
// expected outcome (one info line, no error, no stack, no failed job), and a webhook URL is logged
// without its query string or credentials. Real worker, real API, loopback receiver, captured pino.
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import t from 'tap';
import { makeLogger } from '../../lib/log.js';
import { urlForLog } from '../../lib/webhooks/log-url.js';
import { makeSuccessBatcher, type AttemptRow } from '../../worker/deliveries/success-batch.js';
import { startWorker } from '../../worker/worker.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, testConfig } from '../helpers/stack.js';
import { client } from '../server/http.js';
import { deliveryLog, insertEvent, insertWebhook, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const receiver = await startReceiver(t);
const api = client(await startTestServer(t, db));

const lines: Array<Record<string, any>> = [];
const capture = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});
const config = testConfig({ WEBHOOK_ALLOWLIST: '127.0.0.1', LOG_LEVEL: 'debug' });
const worker = await startWorker(config, db.url, makeLogger('worker', 'debug', capture), { concurrency: 2, webhookTimeoutMs: 5000 });
t.teardown(() => worker.close());

const failedJobs = async () => (await worker.metrics.registry.getSingleMetricAsString('oriva_worker_jobs_total')).match(/outcome="error"\} (\d+)/)?.[1] ?? '0';

t.beforeEach(async () => {
  await db.system.query('update oriva.app_webhooks set is_active = false where is_active');
});

for (const [answer, status] of [['a success', 200], ['a failure', 500]] as const) {
  t.test(`deleted while in flight, then ${answer}: one info line, nothing recorded, no job error`, async (t) => {
    const path = `/in-flight-${status}`;
    let held: ServerResponse | undefined;
    receiver.on(path, (_req, res) => (held = res));
    const hook = await insertWebhook(db.system, app.appId, { url: receiver.url(path), maxRetries: 3 });
    const from = lines.length;
    await insertEvent(db.system, app.appId);
    await receiver.waitFor(path, 1);

    const deleted = await api('DELETE', `/apps/${app.appId}/webhooks/${hook.id}`, { headers: app.auth });
    t.equal(deleted.status, 204, 'the app deletes the webhook mid-delivery');
    held!.writeHead(status).end('answer');

    const line = await until(async () => lines.slice(from).find((l) => l.msg === 'webhook deleted while its delivery was in flight; attempt not recorded'), 10_000, 'the info line');
    t.match(line, { level: 30, webhookId: hook.id, appId: app.appId, attempt: 1 });
    await new Promise((r) => setTimeout(r, 700)); // a job error would be logged by now
    const after = lines.slice(from);
    t.same(after.filter((l) => l.level >= 40), [], 'no warning or error line');
    t.notOk(after.some((l) => l.err?.stack || /stack/.test(JSON.stringify(l))), 'no stack');
    t.equal(await failedJobs(), '0', 'the job did not fail');
    t.same(await deliveryLog(db.system, hook.id), [], 'no log row for a deleted webhook');
    t.equal(receiver.requests(path).length, 1, 'no retry');
  });
}

t.test('a success batch with a deleted webhook in it records the others instead of failing them all', async (t) => {
  const live = await insertWebhook(db.system, app.appId, { url: receiver.url('/batch-live') });
  const gone = await insertWebhook(db.system, app.appId, { url: receiver.url('/batch-gone') });
  await db.system.query('delete from oriva.app_webhooks where id = $1', [gone.id]);
  await db.system.query('update oriva.app_webhooks set is_active = false where id = $1', [live.id]); // the running worker leaves it alone
  const row = async (webhookId: string): Promise<AttemptRow> => {
    const eventId = await insertEvent(db.system, app.appId, 'task.completed');
    return {
      webhook_id: webhookId, app_id: app.appId, event_id: eventId, delivery_id: `msg_${webhookId}_${eventId}`, event_type: 'task.completed',
      payload: '{}', status_code: 200, response_body: 'ok', response_headers: null, delivery_attempt: 1, response_time_ms: 5,
    };
  };
  const rows = [await row(live.id), await row(live.id), await row(gone.id)];
  const batcher = makeSuccessBatcher(db.system);
  // the first is written at once; the other two gather meanwhile and are written together
  const results = await Promise.all(rows.map((r) => batcher.record(r)));
  t.same(results, [true, true, false], 'the live webhook recorded, the deleted one reported gone');
  const logged = await deliveryLog(db.system, live.id);
  t.equal(logged.length, 2);
  t.match(logged[0], { success: true, status_code: 200 });
  t.same(await deliveryLog(db.system, gone.id), []);
});

t.test('a disabled webhook is logged with its URL without query string or credentials', async (t) => {
  receiver.on('/gone-q', (_req, res) => res.writeHead(410).end());
  const hook = await insertWebhook(db.system, app.appId, { url: `${receiver.url('/gone-q')}?token=s3cr3t-query-token#frag` });
  const from = lines.length;
  await insertEvent(db.system, app.appId);
  const line = await until(async () => lines.slice(from).find((l) => l.msg === 'webhook disabled'), 10_000, 'webhook disabled');
  t.match(line, { webhookId: hook.id, url: receiver.url('/gone-q'), reason: /410/ });
  t.notMatch(JSON.stringify(lines), 's3cr3t-query-token', 'the query value is in no line');
});

t.test('urlForLog keeps scheme, host, port and path only', async (t) => {
  t.equal(urlForLog('https://user:p4ss@hooks.example.com:8443/in/oriva?token=abc&x=1#f'), 'https://hooks.example.com:8443/in/oriva');
  t.equal(urlForLog('https://hooks.example.com'), 'https://hooks.example.com/');
  t.equal(urlForLog('not a url ?token=abc'), '[unparsable url]');
});
