// A client that stops reading while 10,000 events are published: its buffer is bounded by
// maxBackpressure and it is closed (1013, resume with after=), while a reading client keeps up.
import t from 'tap';
import WS from 'ws';
import { CLOSE } from '../../gateway/protocol.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp } from '../helpers/stack.js';
import { gateway, streamUrl } from './helpers.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const MAX_BACKPRESSURE = 256 * 1024;
const gw = await gateway(t, db.url, {}, { maxBackpressure: MAX_BACKPRESSURE });

function connect(): Promise<WS> {
  const ws = new WS(streamUrl(gw), { headers: { authorization: `Bearer ${app.apiKey}` } });
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve(ws)); // ready
    ws.once('error', reject);
  });
}

t.test('the slow consumer is closed, memory stays bounded, the reader is not slowed', { timeout: 120_000 }, async (t) => {
  const slow = await connect();
  const reader = await connect();
  t.teardown(() => {
    slow.terminate();
    reader.terminate();
  });
  let slowCode = 0;
  slow.on('close', (code) => (slowCode = code));
  slow.pause(); // stops reading: the socket buffers fill, then the gateway's

  const received = new Map<number, number>();
  reader.on('message', (data) => {
    const text = data.toString();
    if (!text.startsWith('{"type":"event"')) return;
    received.set(Number(/"seq":(\d+)/.exec(text)![1]), performance.now());
  });

  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const lags: number[] = [];
  const pad = 'x'.repeat(2000); // 10,000 × ~2.3 KB ≈ 23 MB through the gateway
  for (let batch = 0; batch < 100; batch++) {
    const { rows } = await db.system.query<{ seq: string }>(
      `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
       select 'work-buddy', 'u' || i, 'test', 'flood', 'test', i::text, jsonb_build_object('pad', $1::text)
       from generate_series(1, 100) i returning seq`,
      [pad],
    );
    const committed = performance.now();
    const last = Math.max(...rows.map((r) => Number(r.seq)));
    while (!received.has(last)) await new Promise((r) => setImmediate(r));
    lags.push(received.get(last)! - committed);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  t.equal(received.size, 10_000, 'the reading client received all 10,000 events');
  lags.sort((a, b) => a - b);
  const p99 = lags[Math.floor(lags.length * 0.99)]!;
  t.ok(p99 < 500, `reader commit → receive per 100-event batch: p50 ${lags[50]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);

  const metrics = await (await fetch(`${gw.url.replace(/^ws/, 'http')}/metrics`)).text();
  t.match(metrics, /oriva_gateway_closed_by_server_total\{reason="slow_consumer"\} 1/, 'the gateway closed the slow consumer');
  t.match(metrics, /oriva_gateway_connections\{kind="app"\} 1\b/, 'only the reader is left');
  const growth = (rssPeak - rssBefore) / 1024 / 1024;
  t.ok(growth < 64, `process RSS grew ${growth.toFixed(1)} MB while 23 MB went out (buffer per connection ≤ ${MAX_BACKPRESSURE / 1024} KB)`);

  slow.resume(); // what it had buffered drains, then the close frame
  await new Promise((r) => (slowCode ? r(null) : slow.once('close', r)));
  t.equal(slowCode, CLOSE.tryAgain, `closed with 1013 (got ${slowCode}): reconnect with after=<last seq>`);
});
