// A client that stops reading while 10,000 events (23 MB) are published: the gateway stops sending
// to it once maxBackpressure is queued and closes it (1013, resume with after=), while a reading
// client keeps up.
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

t.test('the slow consumer is closed and gets no more than its buffer; the reader keeps up', { timeout: 120_000 }, async (t) => {
  const slow = await connect();
  const reader = await connect();
  t.teardown(() => {
    slow.terminate();
    reader.terminate();
  });
  let slowCode = 0;
  let slowBytes = 0;
  slow.on('close', (code) => (slowCode = code));
  slow.on('message', (data: Buffer) => (slowBytes += data.length));
  slow.pause(); // stops reading: the socket buffers fill, then the gateway's

  const received = new Map<number, number>();
  reader.on('message', (data) => {
    const text = (data as Buffer).toString();
    if (!text.startsWith('{"type":"event"')) return;
    received.set(Number(/"seq":(\d+)/.exec(text)![1]), performance.now());
  });

  const metrics = async () => (await fetch(`${gw.url.replace(/^ws/, 'http')}/metrics`)).text();
  const closedAsSlow = /oriva_gateway_closed_by_server_total\{reason="slow_consumer"\} 1/;
  const lags: number[] = [];
  let sentBytes = 0;
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
    sentBytes += 100 * (pad.length + 300);
    // Once the gateway has given up on it, the slow client reads again: what was queued for it
    // drains, then the close frame. (Left paused, uWS would drop it without the frame after its
    // closing timeout: 1006.)
    if (slow.isPaused && closedAsSlow.test(await metrics())) slow.resume();
  }
  t.equal(received.size, 10_000, 'the reading client received all 10,000 events');
  lags.sort((a, b) => a - b);
  t.ok(lags[50]! < 100, `reader commit → receive per 100-event batch: p50 ${lags[50]!.toFixed(1)} ms, p99 ${lags[98]!.toFixed(1)} ms`);

  const after = await metrics();
  t.match(after, closedAsSlow, 'the gateway closed the slow consumer');
  t.match(after, /oriva_gateway_connections\{kind="app"\} 1\b/, 'only the reader is left');
  slow.resume();
  await new Promise((r) => (slowCode ? r(null) : slow.once('close', r)));
  t.equal(slowCode, CLOSE.tryAgain, `closed with 1013 (got ${slowCode}): reconnect with after=<last seq>`);
  // What reached it: the gateway's queue (≤ 2 × maxBackpressure, uWS's cap) and the kernel's
  // socket buffers, not the 23 MB the reader got.
  t.ok(slowBytes < sentBytes / 2, `the slow client received ${(slowBytes / 1024 / 1024).toFixed(1)} MB of ${(sentBytes / 1024 / 1024).toFixed(0)} MB (buffer per connection ≤ ${MAX_BACKPRESSURE / 1024} KB)`);
});
