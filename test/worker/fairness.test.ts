// One app's dead endpoints cannot delay another app's deliveries: app B with 10 webhooks that never
// answer and a burst of events takes at most its share of the worker's slots, while app A's first
// attempts go out at once; an endpoint that keeps failing is not called while its breaker is open.
import t from 'tap';
import { BREAKER_THRESHOLD } from '../../lib/webhooks/retry-policy.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestWorker } from '../helpers/stack.js';
import { insertEvent, insertWebhook, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const healthy = await createTestApp(db, { id: 'app-a' });
const noisy = await createTestApp(db, { id: 'app-b' });
const receiver = await startReceiver(t);
const worker = await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { webhookTimeoutMs: 3000, concurrency: 10 });

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * 0.99) - 1)]!;

t.test("10 hanging endpoints of app B and a burst of its events: app A's first attempts stay under 2 s", async (t) => {
  for (let i = 0; i < 10; i++) receiver.on(`/hang/${i}`, () => {}); // accepts, never answers
  for (let i = 0; i < 10; i++) await insertWebhook(db.system, noisy.appId, { url: receiver.url(`/hang/${i}`), events: ['*'], maxRetries: 3 });
  await insertWebhook(db.system, healthy.appId, { url: receiver.url('/a'), events: ['*'] });

  for (let i = 0; i < 10; i++) await insertEvent(db.system, noisy.appId, 'session.started'); // 100 hanging deliveries
  const sent = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    sent.set(await insertEvent(db.system, healthy.appId, 'session.started'), Date.now());
    await new Promise((r) => setTimeout(r, 100));
  }
  const received = await receiver.waitFor('/a', 20, 15_000);
  const delays = received.map((r) => r.at - sent.get(JSON.parse(r.body).data.event_id)!);
  const worst = Math.max(...delays);
  t.ok(worst < 2000, `app A's first attempts: p99 ${p99(delays)} ms, max ${worst} ms (hanging app B: at most its share of 10 slots)`);
  const hanging = [...Array(10).keys()].map((i) => receiver.requests(`/hang/${i}`).length).reduce((a, b) => a + b, 0);
  t.ok(hanging > 0, `app B's endpoints were still tried (${hanging} requests)`);
  const text = await worker.metrics.registry.metrics();
  t.match(text, /oriva_webhook_deliveries_deferred_total\{reason="busy"\} [1-9]/, 'app B waited for its share');
});

t.test('the circuit breaker: after 5 failures in a row the endpoint is not called until the cool-down ends', async (t) => {
  receiver.on('/broken', (_req, res) => res.writeHead(500).end('down'));
  const hook = await insertWebhook(db.system, healthy.appId, { url: receiver.url('/broken'), events: ['breaker.*'], maxRetries: 0 });
  for (let i = 0; i < BREAKER_THRESHOLD; i++) {
    await insertEvent(db.system, healthy.appId, 'breaker.tested');
    await receiver.waitFor('/broken', i + 1, 5000);
  }
  await until(async () => (await db.system.query('select consecutive_failures from oriva.app_webhooks where id = $1', [hook.id])).rows[0].consecutive_failures >= BREAKER_THRESHOLD, 5000, 'failures recorded');
  for (let i = 0; i < 3; i++) await insertEvent(db.system, healthy.appId, 'breaker.tested');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(receiver.requests('/broken').length, BREAKER_THRESHOLD, 'open: three more events, no call');
  const text = await worker.metrics.registry.metrics();
  t.match(text, /oriva_webhook_deliveries_deferred_total\{reason="breaker_open"\} [1-9]/);

  // The cool-down has passed (as if 10 s went by): the deferred attempts probe the endpoint again.
  receiver.on('/broken', (_req, res) => res.writeHead(200).end('back'));
  await db.system.query(`update oriva.app_webhooks set last_failure_at = now() - interval '1 hour' where id = $1`, [hook.id]);
  await receiver.waitFor('/broken', BREAKER_THRESHOLD + 3, 15_000);
  await until(async () => (await db.system.query('select consecutive_failures from oriva.app_webhooks where id = $1', [hook.id])).rows[0].consecutive_failures === 0, 5000, 'closed again');
});
