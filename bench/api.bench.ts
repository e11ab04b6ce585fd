// npm run bench -- api: the REST API's write path and feed, against references measured in the
// same run on the same Postgres (DESIGN §7). The server runs in its own process (as in
// production); autocannon drives it at fixed arrival rates (open model, overallRate) and closed
// at a fixed concurrency for the maximum. synchronous_commit stays on.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import pg from 'pg';
import { createApp } from '../lib/apps.js';
import { inTransaction, makePool } from '../lib/db.js';
import { freePort } from '../lib/listen.js';
import { fromRoot } from '../lib/paths.js';
import { signUserToken } from '../lib/tokens.js';
import { insertNotifications, type NewNotification } from '../server/routes/notifications.js';
import { benchDatabase } from './database.js';

// autocannon ships no types; the few fields used here.
interface CannonOptions {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  idReplacement?: boolean;
  connections?: number;
  overallRate?: number;
  duration?: number;
}
interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: CannonOptions, cb: (err: Error | null, r: CannonResult) => void) => unknown;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONCURRENCY = 32;
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-00';
const UNLIMITED = '10000000';

const db = await benchDatabase();
const system = makePool(db.url, { role: 'oriva_system', max: 4 });
const api = makePool(db.url, { role: 'oriva_api', max: CONCURRENCY });
let server: ChildProcess | undefined;

try {
  const { rows: [settings] } = await system.query(`select current_setting('synchronous_commit') as sc, current_setting('fsync') as fsync, version() as v`);
  console.log(`postgres: ${String(settings.v).split(',')[0]}; synchronous_commit=${settings.sc}, fsync=${settings.fsync}`);
  const app = await createApp(system, { id: 'bench-app', name: 'Bench App', platform: false });
  const appAuth = `Bearer ${app.api_key}`;

  // The server, in its own process.
  const port = await freePort();
  server = spawn(process.execPath, ['--import', 'tsx', fromRoot('server', 'main.ts')], {
    env: {
      ...process.env, DATABASE_URL: db.url, PORT: String(port), JWT_SECRET, LOG_LEVEL: 'warn', NODE_ENV: 'production',
      RATE_LIMIT_NOTIFICATIONS: UNLIMITED, RATE_LIMIT_EVENTS: UNLIMITED, RATE_LIMIT_QUERIES: UNLIMITED, RATE_LIMIT_WEBHOOKS: UNLIMITED,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/readyz`);
  const cpu = () => processCpuSeconds(server!.pid!);

  const body = JSON.stringify({
    external_id: 'bench-[<id>]', user_id: 'bench_user', notification_type: 'session_reminder',
    title: 'Session starting in 10 minutes', body: 'Your session with Sarah starts soon', priority: 'high',
    action_url: 'workbuddy://session/789', context_data: { session_id: 'session_789' },
  });
  const post = { url: `${url}/api/v1/apps/bench-app/notifications`, method: 'POST' as const, body, idReplacement: true, headers: { authorization: appAuth, 'content-type': 'application/json' } };

  await cannon({ ...post, connections: 8, duration: 2 }); // warm-up (JIT, prepared statements, pools)

  // 1. Direct SQL reference: the same transaction (set actor + the create statement) at the same concurrency.
  let n = 0;
  const item = (): NewNotification => ({ external_id: `direct-${n++}`, user_id: 'bench_user', notification_type: 'session_reminder', title: 'Session starting in 10 minutes', body: 'Your session with Sarah starts soon', priority: 'high', action_url: 'workbuddy://session/789', context_data: { session_id: 'session_789' } });
  const direct = await closedLoop(CONCURRENCY, SECONDS, () => inTransaction(api, { appId: 'bench-app' }, (c) => insertNotifications(c, 'bench-app', [item()])));
  console.log(`direct SQL (pg, ${CONCURRENCY} concurrent): ${direct.toFixed(0)} tx/s`);

  // 2. The API, closed model at the same concurrency: the maximum.
  let before = cpu();
  const max = await cannon({ ...post, connections: CONCURRENCY, duration: SECONDS });
  const maxCpu = cpu() - before;
  const ratio = max.requests.average / direct;
  console.log(`POST notification max (${CONCURRENCY} connections): ${max.requests.average.toFixed(0)} req/s, p50 ${max.latency.p50} ms, p99 ${max.latency.p99} ms, errors ${max.non2xx + max.errors}; server CPU ${(maxCpu / SECONDS * 100).toFixed(0)}% of a core`);
  console.log(`  ratio to direct SQL: ${(ratio * 100).toFixed(0)}% (target ≥ 50%) ${ratio >= 0.5 ? 'OK' : 'MISSED'}`);

  // 3. Fixed arrival rates (open model).
  for (const rate of [250, 500, 1000]) {
    before = cpu();
    const r = await cannon({ ...post, connections: 64, overallRate: rate, duration: SECONDS });
    const target = rate === 500 ? ` (target p99 < 25 ms) ${r.latency.p99 < 25 ? 'OK' : 'MISSED'}` : '';
    console.log(`POST notification at ${rate} req/s: achieved ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.non2xx + r.errors}; server CPU ${((cpu() - before) / SECONDS * 100).toFixed(0)}%${target}`);
  }

  // 4. Batch endpoint: 100 notifications per request, one transaction each.
  const batchBody = JSON.stringify({ notifications: Array.from({ length: 100 }, (_, i) => JSON.parse(body.replace('bench-[<id>]', `batch-[<id>]-${i}`))) });
  const batch = await cannon({ url: `${url}/api/v1/apps/bench-app/notifications/batch`, method: 'POST', body: batchBody, idReplacement: true, headers: post.headers, connections: 4, duration: SECONDS });
  const perSecond = batch.requests.average * 100;
  console.log(`batch endpoint (100 per request, 4 connections): ${perSecond.toFixed(0)} notifications/s, p99 ${batch.latency.p99} ms, errors ${batch.non2xx + batch.errors} (target ≥ 10,000) ${perSecond >= 10_000 ? 'OK' : 'MISSED'}`);

  // 5. Feed query for a user with 10,000 notifications.
  for (let i = 0; i < 100; i++) {
    await inTransaction(api, { appId: 'bench-app' }, (c) => insertNotifications(c, 'bench-app', Array.from({ length: 100 }, (_, j) => ({
      external_id: `feed-${i}-${j}`, user_id: 'feed_user', notification_type: 'digest', title: `Item ${i}-${j}`, body: 'Body',
      priority: ['low', 'normal', 'high', 'urgent'][j % 4]!, context_data: {},
    }))));
  }
  const owner = new pg.Client(db.url); // statistics need the tables' owner (autovacuum's job in production)
  await owner.connect();
  await owner.query('vacuum analyze');
  await owner.end();
  const token = await signUserToken(JWT_SECRET, 'feed_user', 3600);
  const feed = await cannon({ url: `${url}/api/v1/users/feed_user/notifications?limit=50`, method: 'GET', headers: { authorization: `Bearer ${token}` }, connections: 16, overallRate: 200, duration: SECONDS });
  console.log(`feed (user with 10,000 notifications, limit 50, exact unread_count) at 200 req/s: p50 ${feed.latency.p50} ms, p99 ${feed.latency.p99} ms, errors ${feed.non2xx + feed.errors}`);
  const feedMax = await cannon({ url: `${url}/api/v1/users/feed_user/notifications?limit=50`, method: 'GET', headers: { authorization: `Bearer ${token}` }, connections: 16, duration: 4 });
  console.log(`feed max (16 connections): ${feedMax.requests.average.toFixed(0)} req/s, p99 ${feedMax.latency.p99} ms`);
} finally {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  await Promise.all([system.end(), api.end()]);
  await db.stop();
}

function cannon(options: CannonOptions): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function closedLoop(concurrency: number, seconds: number, fn: () => Promise<unknown>): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let done = 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      await fn();
      done += 1;
    }
  }));
  return done / ((Date.now() - started) / 1000);
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not become ready at ${url}`);
}

/** utime + stime of a process, in seconds. */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
