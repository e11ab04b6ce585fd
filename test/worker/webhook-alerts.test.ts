// Webhook health alerts (issue 17, DESIGN §12): a receiver failing 3 of 20 attempts → one
// webhook.failing event for its app (in its event log, to its other webhooks, not to itself), however
// often the check runs; healthy again → one webhook.recovered; a 410 → webhook.disabled; and the
// metrics Prometheus alerts on.
import t from 'tap';
import { makeLogger } from '../../lib/log.js';
import { PLATFORM_EVENT_TYPES, webhookPayload } from '../../lib/schemas/event-types.js';
import { responseProblems } from '../../server/middleware/validate.js';
import { makeWorkerMetrics } from '../../worker/metrics.js';
import { checkWebhookHealth } from '../../worker/stats/webhook-health.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker } from '../helpers/stack.js';
import { client } from '../server/http.js';
import { insertWebhook, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db));
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { concurrency: 1 });
const buddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const receiver = await startReceiver(t);
const FAILING_ATTEMPTS = new Set([2, 7, 13]);
receiver.on('/flaky', (_req, res, count) => res.writeHead(FAILING_ATTEMPTS.has(count) ? 500 : 200).end());
receiver.on('/gone', (_req, res) => res.writeHead(410).end());
const flaky = await insertWebhook(db.system, buddy.appId, { url: receiver.url('/flaky'), events: ['task.*', 'webhook.*'], maxRetries: 0 });
await insertWebhook(db.system, buddy.appId, { url: receiver.url('/watcher'), events: ['webhook.*'] });

const log = makeLogger('webhook-alerts-test', 'error');
const metrics = makeWorkerMetrics();
const check = () => checkWebhookHealth(db.system, log, metrics);
const publish = async (count: number) => {
  for (let i = 0; i < count; i++) {
    const r = await call('POST', `/apps/${buddy.appId}/events`, {
      headers: buddy.auth,
      json: { event_category: 'task', event_type: 'done', entity_type: 'task', entity_id: `t${i}`, user_id: 'ann', event_data: {} },
    });
    t.equal(r.status, 200);
  }
};
const attempts = async (webhookId: string) =>
  (await db.system.query<{ n: number }>('select count(*)::int as n from oriva.webhook_delivery_log where webhook_id = $1', [webhookId])).rows[0]!.n;
const alertEvents = async () =>
  (await db.system.query<{ event_type: string; user_id: string | null; entity_id: string; event_data: Record<string, unknown> }>(
    `select event_type, user_id, entity_id, event_data from oriva.platform_events where event_category = 'webhook' order by seq`)).rows;
const metric = async (name: string) => (await metrics.registry.getSingleMetricAsString(name)).split('\n').filter((line) => !line.startsWith('#')).join('\n');

t.test('fewer than 20 attempts never alert, however many failed', async (t) => {
  await publish(19);
  await until(async () => (await attempts(flaky.id)) === 19, 20_000, '19 attempts recorded');
  t.same(await check(), []);
  t.same(await alertEvents(), []);
});

t.test('3 of 20 failed → one webhook.failing, to the app and its other webhooks', async (t) => {
  await publish(1);
  await until(async () => (await attempts(flaky.id)) === 20, 20_000, '20 attempts recorded');
  await check();
  await check();
  const events = await alertEvents();
  t.equal(events.length, 1, 'one event for the episode, not one per check or attempt');
  t.match(events[0], {
    event_type: 'failing', user_id: null, entity_id: flaky.id,
    event_data: { source: 'oriva_worker', webhook_id: flaky.id, url: receiver.url('/flaky'), window: { minutes: 15, attempts: 20, failed: 3 }, last_error: String },
  });
  const log = await call('GET', `/apps/${buddy.appId}/events?event_category=webhook`, { headers: buddy.auth });
  t.same(log.body.events.map((e: { event_type: string }) => e.event_type), ['failing'], "in the app's event log");
  const [delivered] = await receiver.waitFor('/watcher', 1);
  t.equal(delivered!.headers['x-oriva-event-type'], 'webhook.failing', 'its other webhook hears it');
  t.equal(JSON.parse(delivered!.body).data.event_data.webhook_id, flaky.id);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(receiver.requests('/flaky').length, 20, 'the failing webhook is not sent its own alert');
  t.match(await metric('oriva_webhooks_failing'), /oriva_webhooks_failing 1$/, 'gauge: one webhook failing');
  t.match(await metric('oriva_webhook_alerts_total'), /alert="failing"} 1/);
});

t.test('healthy again (3 of 30 failed, 10%) → one webhook.recovered', async (t) => {
  await publish(10);
  await until(async () => (await attempts(flaky.id)) === 30, 20_000, '30 attempts recorded');
  await check();
  await check();
  t.same((await alertEvents()).map((e) => e.event_type), ['failing', 'recovered'], 'one recovered event');
  const recovered = (await alertEvents())[1]!;
  t.match(recovered.event_data, { webhook_id: flaky.id, window: { minutes: 15, attempts: 30, failed: 3 } });
  const heard = await receiver.waitFor('/watcher', 2);
  t.equal(heard[1]!.headers['x-oriva-event-type'], 'webhook.recovered');
  t.match(await metric('oriva_webhooks_failing'), /oriva_webhooks_failing 0$/);
  t.match(await metric('oriva_webhook_alerts_total'), /alert="recovered"} 1/);
});

t.test('a webhook the worker disables (410 Gone) → webhook.disabled', async (t) => {
  const gone = await insertWebhook(db.system, buddy.appId, { url: receiver.url('/gone'), events: ['task.*'] });
  await publish(1);
  await until(async () => (await alertEvents()).some((e) => e.event_type === 'disabled'), 20_000, 'webhook.disabled');
  const disabled = (await alertEvents()).filter((e) => e.event_type === 'disabled');
  t.equal(disabled.length, 1);
  t.match(disabled[0], { user_id: null, entity_id: gone.id, event_data: { source: 'oriva_worker', webhook_id: gone.id, url: receiver.url('/gone'), reason: 'endpoint answered 410 Gone' } });
  const heard = await receiver.waitFor('/watcher', 3);
  t.equal(heard[2]!.headers['x-oriva-event-type'], 'webhook.disabled', 'its other webhooks hear it');
  t.equal(receiver.requests('/gone').length, 1, 'not sent to the disabled webhook');
  for (const request of heard) {
    const body = JSON.parse(request.body) as { type: string };
    const info = PLATFORM_EVENT_TYPES.find((e) => e.name === body.type)!;
    t.same(responseProblems(webhookPayload(info), body), null, `${body.type} matches its documented payload`);
  }
});
