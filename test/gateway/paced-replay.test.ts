// A resume far behind is written as fast as the client reads it: the hub sends the replay up to half
// of maxBackpressure at a time and the rest each time the transport drains (uWS drain → Hub.drain),
// so a client that stops reading for a while during a 20 MB replay is paced, not closed as a slow
// consumer (a replay written all at once would queue far more than maxBackpressure: 1013).
import t from 'tap';
import WS from 'ws';
import { testDatabase } from '../helpers/db.js';
import { createTestApp } from '../helpers/stack.js';
import { gateway, released, streamUrl } from './helpers.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const MAX_BACKPRESSURE = 64 * 1024;
const EVENTS = 8000;
const gw = await gateway(t, db.url, {}, { maxBackpressure: MAX_BACKPRESSURE });

t.test('a client that pauses during a large replay gets all of it, in order, then ready', { timeout: 120_000 }, async (t) => {
  const pad = 'x'.repeat(2400); // 8,000 × ~2.7 KB ≈ 21 MB, over 300 × maxBackpressure
  const seqs: number[] = [];
  for (let batch = 0; batch < EVENTS / 1000; batch++) {
    const { rows } = await db.system.query<{ seq: string }>(
      `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
       select 'work-buddy', 'u' || i, 'test', 'replayed', 'test', i::text, jsonb_build_object('pad', $1::text)
       from generate_series(1, 1000) i returning seq`,
      [pad],
    );
    seqs.push(...rows.map((r) => Number(r.seq)).sort((a, b) => a - b));
  }
  await released(gw, seqs.at(-1)!);

  const ws = new WS(streamUrl(gw, { after: seqs[0]! - 1 }), { headers: { authorization: `Bearer ${app.apiKey}` } });
  t.teardown(() => ws.terminate());
  const received: number[] = [];
  let bytes = 0;
  let ready: unknown = null;
  let closeCode = 0;
  const done = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      bytes += data.length;
      const message = JSON.parse(data.toString()) as { type: string; seq: number };
      if (message.type === 'event') received.push(message.seq);
      if (message.type === 'ready') {
        ready = message;
        resolve();
      }
    });
    ws.on('close', (code) => {
      closeCode = code;
      resolve();
    });
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.pause(); // stop reading: the kernel's buffers fill, then the gateway's, and the replay waits
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(closeCode, 0, 'not closed while it does not read');
  ws.resume();
  await done;

  t.equal(closeCode, 0, 'never closed as a slow consumer');
  t.equal(received.length, EVENTS, `all ${EVENTS} events (${(bytes / 1024 / 1024).toFixed(1)} MB) arrived`);
  t.same(received, seqs, 'in seq order, each once');
  t.match(ready, { type: 'ready', seq: seqs.at(-1) }, 'then ready, live from the last replayed seq');
  const metrics = await (await fetch(`${gw.url.replace(/^ws/, 'http')}/metrics`)).text();
  t.notMatch(metrics, /oriva_gateway_closed_by_server_total\{reason="slow_consumer"\}/, 'no slow-consumer close');
});
