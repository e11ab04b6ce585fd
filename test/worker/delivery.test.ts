// Webhook delivery end to end: an event row → the fan-out trigger → webhook_deliver in a running
// worker → a loopback receiver, for each outcome the issue names (200, 500-then-200, 410, 429 with
// Retry-After, a redirect to a metadata address, a 10 MB body, no answer), checking the log rows,
// attempts and their spacing, the webhook's state, and the signatures (with the independent
// `standardwebhooks` and `svix` packages a receiver would use).
import { createHmac } from 'node:crypto';
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { openApiDocument } from '../../server/routes/openapi.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestWorker } from '../helpers/stack.js';
import { deliveryLog, insertEvent, insertWebhook, newSecret, pendingDeliveryJobs, until, webhookState } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const other = await createTestApp(db, { id: 'hugo-ai' });
const receiver = await startReceiver(t);
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { webhookTimeoutMs: 800, concurrency: 4 });

t.beforeEach(async () => {
  // Each test sees only its own webhooks: the previous tests' ones stop receiving.
  await db.system.query('update oriva.app_webhooks set is_active = false where is_active');
});

const spacing = (times: number[]) => times.slice(1).map((at, i) => at - times[i]!);

t.test('200: one signed delivery; the log row and counters record it', async (t) => {
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/ok'), events: ['notification.*'] });
  const eventId = await insertEvent(db.system, app.appId, 'notification.dismissed', { source: 'oriva_core' });
  const [request] = await receiver.waitFor('/ok', 1);

  const headers = request!.headers as Record<string, string>;
  const payload = new Webhook(hook.secret).verify(request!.body, headers) as { type: string; data: Record<string, unknown> };
  t.equal(payload.type, 'notification.dismissed', 'standardwebhooks verifies the signature and the body has the type');
  t.same(new SvixWebhook(hook.secret).verify(request!.body, headers), payload, 'svix verifies the same delivery');
  const documented = (openApiDocument().webhooks as Record<string, { post: { parameters: { name: string }[] } }>)['notification.dismissed']!.post;
  for (const p of documented.parameters) t.ok(headers[p.name.toLowerCase()], `documented header ${p.name} is sent`);
  t.match(payload.data, { event_id: eventId, event_category: 'notification', event_type: 'dismissed', app_id: 'work-buddy', user_id: 'user_1', event_data: { source: 'oriva_core' } });
  t.equal(headers['webhook-id'], await hook.deliveryId(eventId), 'webhook-id is the stable delivery id');
  t.equal(headers['x-oriva-signature'], `sha256=${createHmac('sha256', hook.secret).update(request!.body).digest('hex')}`, 'X-Oriva-Signature');
  t.equal(headers['content-type'], 'application/json');

  const log = await until(async () => (await deliveryLog(db.system, hook.id)).at(0), 5000, 'log row');
  t.match(log, { delivery_attempt: 1, success: true, status_code: 200, response_body: 'ok', error_message: null });
  const state = await webhookState(db.system, hook.id);
  t.match(state, { is_active: true, consecutive_failures: 0, total_deliveries: 1, total_failures: 0 });
  t.ok(state.last_success_at, 'last_success_at set');
});

t.test('fan-out: only matching patterns of active webhooks of the event\'s own app', async (t) => {
  const exact = await insertWebhook(db.system, app.appId, { url: receiver.url('/fan/exact'), events: ['task.completed'] });
  await insertWebhook(db.system, app.appId, { url: receiver.url('/fan/other-type'), events: ['task.created', 'notification.read'] });
  await insertWebhook(db.system, other.appId, { url: receiver.url('/fan/other-app'), events: ['*'] });
  const inactive = await insertWebhook(db.system, app.appId, { url: receiver.url('/fan/inactive'), events: ['*'] });
  await db.system.query('update oriva.app_webhooks set is_active = false where id = $1', [inactive.id]);
  const before = await pendingDeliveryJobs(db.system);

  const eventId = await insertEvent(db.system, app.appId, 'task.completed');
  await receiver.waitFor('/fan/exact', 1);
  await new Promise((r) => setTimeout(r, 600));
  t.equal(receiver.requests('/fan/exact')[0]!.headers['webhook-id'], await exact.deliveryId(eventId));
  t.same([receiver.requests('/fan/other-type').length, receiver.requests('/fan/other-app').length, receiver.requests('/fan/inactive').length], [0, 0, 0], 'nobody else was called');
  t.ok(before >= 0, 'queue readable');
  const { rows } = await db.system.query(`select count(*)::int as n from oriva.webhook_delivery_log where event_id = $1`, [eventId]);
  t.equal(rows[0].n, 1, 'one delivery for one matching webhook');
});

t.test('500 then 200: retried after the backoff with the same webhook-id; success resets the count', async (t) => {
  receiver.on('/flaky', (_req, res, n) => res.writeHead(n === 1 ? 500 : 200).end(n === 1 ? 'boom' : 'fine'));
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/flaky') });
  await insertEvent(db.system, app.appId);
  const requests = await receiver.waitFor('/flaky', 2);
  const gap = requests[1]!.at - requests[0]!.at;
  t.ok(gap >= 1000 && gap < 1250 + 1200, `second attempt ${gap} ms after the first (1 s backoff + up to 25 % jitter + polling)`);
  t.equal(requests[1]!.headers['webhook-id'], requests[0]!.headers['webhook-id'], 'same webhook-id on the retry');
  t.not(requests[1]!.headers['webhook-signature'], undefined);
  const log = await until(async () => { const rows = await deliveryLog(db.system, hook.id); return rows.length === 2 && rows; }, 5000, '2 log rows');
  t.match(log, [
    { delivery_attempt: 1, success: false, status_code: 500, response_body: 'boom', error_message: 'HTTP 500' },
    { delivery_attempt: 2, success: true, status_code: 200 },
  ]);
  t.match(await webhookState(db.system, hook.id), { is_active: true, consecutive_failures: 0, total_deliveries: 2, total_failures: 1 });
});

t.test('always 500: attempts spaced 1 s, 2 s, … up to max_retries, then it stops', async (t) => {
  receiver.on('/down', (_req, res) => res.writeHead(500).end());
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/down'), maxRetries: 2, backoffSeconds: 1 });
  await insertEvent(db.system, app.appId);
  const requests = await receiver.waitFor('/down', 3, 10_000);
  const [first, second] = spacing(requests.map((r) => r.at));
  t.ok(first! >= 1000 && first! < 2500, `1st retry after ${first} ms (nominal 1 s)`);
  t.ok(second! >= 2000 && second! < 3800, `2nd retry after ${second} ms (nominal 2 s)`);
  await new Promise((r) => setTimeout(r, 5000)); // a 3rd retry would come 4–5 s later
  t.equal(receiver.requests('/down').length, 3, 'no attempt after max_retries');
  t.same((await deliveryLog(db.system, hook.id)).map((r) => [r.delivery_attempt, r.success]), [[1, false], [2, false], [3, false]]);
  t.match(await webhookState(db.system, hook.id), { is_active: true, consecutive_failures: 3, total_failures: 3 });
});

t.test('410 Gone disables the webhook at once', async (t) => {
  receiver.on('/gone', (_req, res) => res.writeHead(410).end('bye'));
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/gone') });
  await insertEvent(db.system, app.appId);
  await receiver.waitFor('/gone', 1);
  const state = await until(async () => { const s = await webhookState(db.system, hook.id); return !s.is_active && s; }, 5000, 'disabled');
  t.match(state.disabled_reason, /410/);
  await insertEvent(db.system, app.appId);
  await new Promise((r) => setTimeout(r, 1800));
  t.equal(receiver.requests('/gone').length, 1, 'no retry and no new delivery to a disabled webhook');
  t.equal((await deliveryLog(db.system, hook.id)).length, 1);
});

t.test('429 with Retry-After: the next attempt waits at least that long', async (t) => {
  receiver.on('/busy', (_req, res, n) => (n === 1 ? res.writeHead(429, { 'retry-after': '3' }).end() : res.writeHead(204).end()));
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/busy') });
  await insertEvent(db.system, app.appId);
  const requests = await receiver.waitFor('/busy', 2, 10_000);
  const gap = requests[1]!.at - requests[0]!.at;
  t.ok(gap >= 3000 && gap < 4500, `retried ${gap} ms later (Retry-After 3 s, backoff alone would be 1 s)`);
  t.match(await until(async () => { const r = await deliveryLog(db.system, hook.id); return r.length === 2 && r; }), [{ status_code: 429, success: false }, { status_code: 204, success: true }]);
});

t.test('302 to a metadata address is not followed', async (t) => {
  receiver.on('/redirect', (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
  receiver.on('/redirect-local', (_req, res) => res.writeHead(307, { location: receiver.url('/trap') }).end());
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/redirect'), maxRetries: 0 });
  const local = await insertWebhook(db.system, app.appId, { url: receiver.url('/redirect-local'), maxRetries: 0 });
  await insertEvent(db.system, app.appId);
  await receiver.waitFor('/redirect', 1);
  await receiver.waitFor('/redirect-local', 1);
  const [row] = await until(async () => { const r = await deliveryLog(db.system, hook.id); return r.length === 1 && r; });
  t.match(row, { success: false, status_code: 302, error_message: 'HTTP 302' }, 'a redirect is a failed attempt');
  await until(async () => (await deliveryLog(db.system, local.id)).length === 1);
  t.equal(receiver.requests('/trap').length, 0, 'the Location (a reachable, allowlisted URL) was never requested');
});

t.test('a 10 MB response: read capped, 4 KiB logged, memory flat', async (t) => {
  let written = 0;
  let finished = false;
  receiver.on('/huge', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(10 * 1024 * 1024) });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = () => {
      while (written < 10 * 1024 * 1024) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      finished = true;
      res.end();
    };
    res.on('close', () => {});
    pump();
  });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/huge') });
  await insertEvent(db.system, app.appId);
  const [row] = await until(async () => { const r = await deliveryLog(db.system, hook.id); return r.length === 1 && r; }, 5000);
  t.match(row, { success: true, status_code: 200 });
  t.equal(row!.response_body!.length, 4096, 'first 4 KiB logged');
  t.notOk(finished, `the receiver could not send it all (${(written / 1048576).toFixed(1)} MB written before the client hung up)`);
  const growth = process.memoryUsage().rss - rssBefore;
  t.ok(growth < 8 * 1024 * 1024, `RSS grew ${(growth / 1048576).toFixed(1)} MB`);
});

t.test('no answer: the attempt times out, is logged, and is retried', async (t) => {
  receiver.on('/silent', () => {}); // never answers
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/silent'), maxRetries: 1 });
  await insertEvent(db.system, app.appId);
  await receiver.waitFor('/silent', 2, 10_000);
  const rows = await until(async () => { const r = await deliveryLog(db.system, hook.id); return r.length === 2 && r; }, 5000);
  t.match(rows[0], { success: false, status_code: null, error_message: /no complete response within 800 ms/ });
  // Measured on the worker's side (each attempt is logged when it gives up): the retry began at least
  // the backoff after the first was logged, and waited its own timeout. (The receiver's arrival times
  // also carry how late it read each request, which on a loaded machine made this flaky.)
  const spacing = rows[1]!.delivered_at.getTime() - rows[0]!.delivered_at.getTime();
  t.ok(spacing >= 1000 + 800, `retry after the backoff, then its own timeout (${spacing} ms between the log rows)`);
});

t.test('100 consecutive failures disable the webhook', async (t) => {
  receiver.on('/failing', (_req, res) => res.writeHead(503).end());
  const hook = await insertWebhook(db.system, app.appId, { url: receiver.url('/failing') });
  await db.system.query('update oriva.app_webhooks set consecutive_failures = 99 where id = $1', [hook.id]);
  await insertEvent(db.system, app.appId);
  const state = await until(async () => { const s = await webhookState(db.system, hook.id); return !s.is_active && s; }, 5000, 'disabled');
  t.match(state, { consecutive_failures: 100, disabled_reason: /100 consecutive/ });
  await new Promise((r) => setTimeout(r, 1600));
  t.equal(receiver.requests('/failing').length, 1, 'no retry once disabled');
});

t.test('secret rotation: both signatures while the previous secret is valid, one after', async (t) => {
  const previous = newSecret();
  const rotating = await insertWebhook(db.system, app.appId, { url: receiver.url('/rotating'), previousSecret: previous, previousExpiresAt: new Date(Date.now() + 24 * 3600_000) });
  const rotated = await insertWebhook(db.system, app.appId, { url: receiver.url('/rotated'), previousSecret: previous, previousExpiresAt: new Date(Date.now() - 1000) });
  await insertEvent(db.system, app.appId);
  const [during] = await receiver.waitFor('/rotating', 1);
  const [after] = await receiver.waitFor('/rotated', 1);
  t.equal((during!.headers['webhook-signature'] as string).split(' ').length, 2, 'two signatures');
  t.ok(new Webhook(rotating.secret).verify(during!.body, during!.headers as Record<string, string>), 'verifies with the new secret');
  t.ok(new Webhook(previous).verify(during!.body, during!.headers as Record<string, string>), 'verifies with the old secret');
  t.ok(new SvixWebhook(rotating.secret).verify(during!.body, during!.headers as Record<string, string>), 'svix: verifies with the new secret');
  t.ok(new SvixWebhook(previous).verify(during!.body, during!.headers as Record<string, string>), 'svix: verifies with the old secret');
  t.equal((after!.headers['webhook-signature'] as string).split(' ').length, 1, 'one signature once the old secret expired');
  t.throws(() => new Webhook(previous).verify(after!.body, after!.headers as Record<string, string>), 'the expired secret no longer verifies');
  t.throws(() => new SvixWebhook(previous).verify(after!.body, after!.headers as Record<string, string>), 'svix: the expired secret no longer verifies');
  t.ok(new Webhook(rotated.secret).verify(after!.body, after!.headers as Record<string, string>));
});
