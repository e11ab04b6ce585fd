// npm run bench -- stats: the stats endpoints over a large event log, and what the rollups cost the
// write path (issue 17). synchronous_commit stays on; the server runs in its own process.
//   1. Load BENCH_STATS_EVENTS (10,000,000) events of one app over 30 days: 90% notification.created,
//      10% first reads (with their notifications and state rows), plus a second app's events.
//   2. Roll them up (worker/stats/rollup.ts) and report events/s.
//   3. GET /apps/:appId/stats — 30 days by hour (720 buckets: two requests of 360, as a request may ask
//      at most 400), 30 days by day (720 hourly rows read) and the last 400 hours by hour — p50/p99
//      over BENCH_STATS_QUERIES requests, next to the scan they avoid: select count(*) over the same
//      events (reference).
//   4. The write path (POST a notification, closed loop) with rollups off, then with the rollup
//      running continuously (every 250 ms, as a busy worker would), alternated: on / off ratio.
// Targets: stats p99 < 100 ms; write throughput with rollups on ≥ 90% of off.
// BENCH_STATS_EXPLAIN=1 also prints the plan of the 30-day query (sql/stats/notifications.sql). The
// hourly rows read are bounded by hours × types × categories, not by the number of events.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { createApp } from '../lib/apps.js';
import { makePool } from '../lib/db.js';
import { freePort } from '../lib/listen.js';
import { fromRoot } from '../lib/paths.js';
import { bindNames } from '../lib/sql.js';
import { rollUpStats } from '../worker/stats/rollup.js';
import { BENCH_SECRETS_KEY, benchDatabase } from './database.js';
import { closedLoad, loadClient } from './load.js';

const EVENTS = Number(process.env.BENCH_STATS_EVENTS ?? 10_000_000);
const QUERIES = Number(process.env.BENCH_STATS_QUERIES ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONCURRENCY = 32;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
const ms = (x: number) => `${x.toFixed(1)} ms`;

const db = await benchDatabase();
const owner = makePool(db.url, { role: 'oriva_system', max: 4 });
const admin = new pg.Pool({ connectionString: db.url, max: 2 });
let server: ChildProcess | undefined;
let client: ReturnType<typeof loadClient> | undefined;

try {
  const app = await createApp(owner, { id: 'bench-app', name: 'Bench App' });
  await createApp(owner, { id: 'other-app', name: 'Other App' });
  const reads = Math.round(EVENTS * 0.1);
  const created = EVENTS - reads;
  const t0 = performance.now();
  // Bulk load as the owner with the event triggers off (no NOTIFY, no webhook fan-out, no per-row seq
  // check): the rows are what the API would have written, spread evenly over the last 30 days.
  await admin.query('alter table oriva.platform_events disable trigger user');
  const CHUNK = 1_000_000;
  for (let from = 0; from < reads; from += CHUNK) {
    const to = Math.min(reads, from + CHUNK) - 1;
    await admin.query(`
      with n as (
        insert into oriva.platform_notifications (app_id, external_id, user_id, notification_type, category, title, body, created_at)
        select 'bench-app', 'r' || i, 'u' || (i % 10000), 't' || (i % 5), (array['task','social','system'])[1 + i % 3],
               'Title ' || i, 'Body of notification ' || i, now() - interval '30 days' + (i::double precision / $3) * interval '30 days'
          from generate_series($1::int, $2::int) i
        returning id, app_id, user_id, notification_type, category, created_at
      ),
      s as (
        insert into oriva.notification_state (notification_id, app_id, user_id, status, read_at, first_read_at, created_at)
        select id, app_id, user_id, 'read', created_at + interval '7 minutes', created_at + interval '7 minutes', created_at from n
      )
      insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at)
      select app_id, user_id, 'notification', 'created', 'notification', id::text,
             jsonb_build_object('notification', jsonb_build_object('id', id, 'notification_type', notification_type, 'category', category, 'created_at', created_at)), created_at
        from n
      union all
      select app_id, user_id, 'notification', 'read', 'notification', id::text, jsonb_build_object('notification_id', id, 'status', 'read'), created_at + interval '7 minutes'
        from n`, [from, to, reads]);
  }
  for (let from = 0; from < created - reads; from += CHUNK) {
    const to = Math.min(created - reads, from + CHUNK) - 1;
    await admin.query(`
      insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at, reaches_user)
      select case when i % 10 = 0 then 'other-app' else 'bench-app' end, 'u' || (i % 10000), 'notification', 'created', 'notification', gen_random_uuid()::text,
             jsonb_build_object('notification', jsonb_build_object('notification_type', 't' || (i % 5), 'category', (array['task','social','system'])[1 + i % 3])),
             now() - interval '30 days' + (i::double precision / $3) * interval '30 days', i % 20 <> 0
        from generate_series($1::int, $2::int) i`, [from, to, created - reads]);
  }
  await admin.query('alter table oriva.platform_events enable trigger user');
  await admin.query('vacuum analyze oriva.platform_events, oriva.platform_notifications, oriva.notification_state');
  const { rows: [loaded] } = await admin.query<{ n: string; app: string }>(`select count(*) as n, count(*) filter (where app_id = 'bench-app') as app from oriva.platform_events`);
  console.log(`loaded ${Number(loaded!.n).toLocaleString('en-US')} events (${Number(loaded!.app).toLocaleString('en-US')} of bench-app) over 30 days in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  // 2. the rollup
  const r0 = performance.now();
  const rolled = await rollUpStats(owner, { pageSize: 50_000 });
  const rollSeconds = (performance.now() - r0) / 1000;
  await admin.query('vacuum analyze oriva.notification_stats_hourly'); // as autovacuum would after a burst of upserts
  const { rows: [rows] } = await admin.query<{ n: number }>('select count(*)::int as n from oriva.notification_stats_hourly');
  console.log(`rollup: ${Number(loaded!.n).toLocaleString('en-US')} events in ${rollSeconds.toFixed(1)} s = ${Math.round(Number(loaded!.n) / rollSeconds).toLocaleString('en-US')} events/s (watermark ${rolled.rolledUpSeq}; ${rows!.n} hourly rows)`);

  // 3. reads: the endpoint against the scan it avoids
  const port = await freePort();
  server = spawn(process.execPath, ['--import', 'tsx', fromRoot('server', 'main.ts')], {
    cwd: fromRoot(), stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DATABASE_URL: db.url, PORT: String(port), NODE_ENV: 'production', LOG_LEVEL: 'error', JWT_SECRET: 'bench-secret-bench-secret-bench-secret-02', SECRETS_KEY: BENCH_SECRETS_KEY, INSTALL_REQUIRED: 'false', RATE_LIMIT_QUERIES: '10000000', RATE_LIMIT_NOTIFICATIONS: '10000000' },
  });
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && !(await fetch(`${origin}/readyz`).then((r) => r.ok, () => false)); i++) await sleep(100);
  const auth = { authorization: `Bearer ${app.api_key}` };
  const now = new Date();
  const time = async (path: string) => {
    const started = performance.now();
    const res = await fetch(`${origin}/api/v1${path}`, { headers: auth });
    const body = await res.json() as { totals?: { created: number } };
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    return { ms: performance.now() - started, created: body.totals!.created };
  };
  const month = `/apps/bench-app/stats?interval=day&from=${new Date(now.getTime() - 30 * 86_400_000).toISOString()}&to=${now.toISOString()}`;
  const hours = `/apps/bench-app/stats?interval=hour&from=${new Date(now.getTime() - 399 * 3_600_000).toISOString()}&to=${now.toISOString()}`;
  const scan = async () => {
    const started = performance.now();
    await admin.query(`select count(*) from oriva.platform_events where app_id = 'bench-app' and created_at >= now() - interval '30 days'`);
    return performance.now() - started;
  };
  for (let i = 0; i < 20; i++) await time(month);
  if (process.env.BENCH_STATS_EXPLAIN) {
    const text = readFileSync(fromRoot('sql', 'stats', 'notifications.sql'), 'utf8');
    const { text: bound } = bindNames(text);
    const plan = await admin.query(`explain (analyze, buffers) ${bound}`, ['day', new Date(now.getTime() - 30 * 86_400_000), now, 'bench-app', null, null]);
    console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  }
  await scan();
  const scans: number[] = [];
  for (let i = 0; i < 5; i++) scans.push(await scan());
  const reference = q(scans, 0.5);
  // 30 days by hour is 720 buckets, more than one request may ask (400): two requests of 360 hours.
  const halves = [0, 1].map((i) => `/apps/bench-app/stats?interval=hour&from=${new Date(now.getTime() - (720 - 360 * i) * 3_600_000).toISOString()}&to=${new Date(now.getTime() - (360 - 360 * i) * 3_600_000).toISOString()}`);
  const monthHourly: number[] = [];
  let monthHourlyCreated = 0;
  for (let i = 0; i < QUERIES; i++) {
    const [first, second] = [await time(halves[0]!), await time(halves[1]!)];
    monthHourly.push(first.ms + second.ms);
    monthHourlyCreated = first.created + second.created;
  }
  console.log(`GET stats 30 days by hour (two requests of 360 hours, summed): p50 ${ms(q(monthHourly, 0.5))}, p99 ${ms(q(monthHourly, 0.99))} (${monthHourlyCreated.toLocaleString('en-US')} created in range) — ${(q(monthHourly, 0.99) / reference).toFixed(4)}× the count(*) scan (${ms(reference)}); target p99 < 100 ms`);
  for (const [label, path] of [['30 days by day', month], ['400 hours by hour', hours]] as const) {
    const times: number[] = [];
    let total = 0;
    for (let i = 0; i < QUERIES; i++) {
      const r = await time(path);
      times.push(r.ms);
      total = r.created;
    }
    console.log(`GET stats ${label}: p50 ${ms(q(times, 0.5))}, p99 ${ms(q(times, 0.99))} (${total.toLocaleString('en-US')} created in range) — ${(q(times, 0.99) / reference).toFixed(4)}× the count(*) scan (${ms(reference)}); target p99 < 100 ms`);
  }

  // 4. the write path, rollups off and on (alternated, twice each)
  client = loadClient(origin, CONCURRENCY);
  let n = 0;
  const create = () => ({
    method: 'POST' as const, path: '/api/v1/apps/bench-app/notifications',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ external_id: `w-${n++}`, user_id: `u${n % 1000}`, notification_type: 'write', title: 'Hello', body: 'World' }),
  });
  await closedLoad(client, { concurrency: CONCURRENCY, seconds: 2 }, create);
  const rates = { off: [] as number[], on: [] as number[] };
  let rollups = 0;
  for (const mode of ['off', 'on', 'off', 'on'] as const) {
    let running = mode === 'on';
    const roller = (async () => {
      while (running) {
        await rollUpStats(owner);
        rollups += 1;
        await sleep(250);
      }
    })();
    const result = await closedLoad(client, { concurrency: CONCURRENCY, seconds: SECONDS }, create);
    running = false;
    await roller;
    if (result.errors > 0) throw new Error(`${result.errors} failed creates`);
    rates[mode].push(result.perSecond);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`POST notification, closed loop of ${CONCURRENCY}: rollups off ${mean(rates.off).toFixed(0)} req/s, on ${mean(rates.on).toFixed(0)} req/s (${rollups} rollups) — ${(mean(rates.on) / mean(rates.off)).toFixed(3)}× (target ≥ 0.9)`);
} finally {
  await client?.close();
  server?.kill();
  await owner.end();
  await admin.end();
  await db.stop();
}
