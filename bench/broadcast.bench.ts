// npm run bench -- broadcast: broadcasts to a topic of 10,000 and one of 1,000,000 known users, through
// the real API and the real gateway (each in its own process), with 10,000 recipients connected
// (loader processes, bench/ws-gateway/load.ts), synchronous_commit on. For each size:
//   - the 202: p50/p99 of POST /apps/:appId/broadcasts (the commit);
//   - the feed: time from the 202 to the broadcast being in the feed of the audience's last user;
//   - the stream: time from the 202 to the last of the 10,000 connected recipients receiving it.
// Reference measured in the same run: POST of a single notification to one user (p50/p99).
// Targets (issue 16): the 202 p99 < 50 ms at both sizes; every connected recipient within 1 s; the
// ratio of the two sizes' commit times ≤ 2×. Sizes: BENCH_BROADCAST_LARGE (1,000,000),
// BENCH_BROADCAST_CONNECTED (10,000), BENCH_BROADCAST_COUNT (broadcasts per size, 20).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { createApp } from '../lib/apps.js';
import { freePort } from '../lib/listen.js';
import { fromRoot } from '../lib/paths.js';
import { signUserToken } from '../lib/tokens.js';
import { BENCH_SECRETS_KEY, benchDatabase } from './database.js';

const SMALL = 10_000;
const LARGE = Number(process.env.BENCH_BROADCAST_LARGE ?? 1_000_000);
const CONNECTED = Number(process.env.BENCH_BROADCAST_CONNECTED ?? 10_000);
const COUNT = Number(process.env.BENCH_BROADCAST_COUNT ?? 20);
const SECRET = 'bench-secret-bench-secret-bench-secret-01';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

const children: ChildProcess[] = [];
function start(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)"; exec "${process.execPath}" --import tsx ${entry}`], {
    cwd: fromRoot(), stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, JWT_SECRET: SECRET, SECRETS_KEY: BENCH_SECRETS_KEY, LOG_LEVEL: 'error', NODE_ENV: 'production', ...env },
  });
  children.push(child);
  return child;
}
async function ready(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await sleep(100);
  }
  throw new Error(`not ready: ${url}`);
}

interface Loader { opened: Promise<{ opened: number }>; ask(): Promise<{ counted: number; lastEventAt: number }>; stop(): void }
function loader(job: Record<string, unknown>): Loader {
  const child = fork(fromRoot('bench', 'ws-gateway', 'load.ts'), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, LOAD_JOB: JSON.stringify(job) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const next = () => new Promise<any>((resolve) => child.once('message', resolve));
  return {
    opened: next(),
    ask: () => {
      const reply = next();
      child.send({ cmd: 'count' });
      return reply;
    },
    stop: () => child.send({ cmd: 'stop' }),
  };
}

const db = await benchDatabase();
const admin = new pg.Pool({ connectionString: db.url, max: 2 });
admin.on('error', () => {});
try {
  const app = await createApp(admin, { id: 'bench-app', name: 'Bench' });
  // Audiences: users u0…u(LARGE-1) in topic "large", the first SMALL of them in topic "small" too. The
  // connected recipients are the first CONNECTED users (members of both).
  const began = now();
  for (let from = 0; from < LARGE; from += 100_000) {
    await admin.query(`insert into oriva.topic_subscriptions (app_id, topic, user_id, subscribed_at)
                       select 'bench-app', 'large', 'u' || i, now() - interval '1 day' from generate_series($1::int, $2::int) i`, [from, Math.min(LARGE, from + 100_000) - 1]);
  }
  await admin.query(`insert into oriva.topic_subscriptions (app_id, topic, user_id, subscribed_at)
                     select 'bench-app', 'small', 'u' || i, now() - interval '1 day' from generate_series(0, $1::int - 1) i`, [SMALL]);
  await admin.query('vacuum analyze oriva.topic_subscriptions, oriva.known_users');
  const { rows: [known] } = await admin.query<{ n: number }>('select count(*)::int as n from oriva.known_users');
  const { rows: [settings] } = await admin.query(`select current_setting('synchronous_commit') as sc, version() as v`);
  console.log(`# Postgres: ${String(settings.v).split(',')[0]}, synchronous_commit=${settings.sc}; ${known!.n} known users (set up in ${((now() - began) / 1000).toFixed(0)} s); ${CONNECTED} connected; ${COUNT} broadcasts per size`);

  const apiPort = await freePort();
  const gwPort = await freePort();
  start('server/main.ts', { DATABASE_URL: db.url, PORT: String(apiPort), INSTALL_REQUIRED: 'false', RATE_LIMIT_BROADCASTS: '100000', RATE_LIMIT_NOTIFICATIONS: '10000000', RATE_LIMIT_QUERIES: '10000000' });
  start('gateway/main.ts', { DATABASE_URL: db.url, GATEWAY_PORT: String(gwPort), PORT: String(gwPort), WS_MAX_CONNECTIONS_PER_USER: '10' });
  const api = `http://127.0.0.1:${apiPort}`;
  await ready(`${api}/readyz`);
  await ready(`http://127.0.0.1:${gwPort}/healthz`);

  const loaders = Array.from({ length: Math.ceil(CONNECTED / 5000) }, (_, i) =>
    loader({ url: `ws://127.0.0.1:${gwPort}/api/v1/events/stream`, count: Math.min(5000, CONNECTED - i * 5000), userPrefix: 'u', offset: i * 5000, secret: SECRET, concurrency: 100 }));
  const opened = (await Promise.all(loaders.map((l) => l.opened))).reduce((s, r) => s + r.opened, 0);
  const received = async () => {
    const replies = await Promise.all(loaders.map((l) => l.ask()));
    return { counted: replies.reduce((s, r) => s + r.counted, 0), last: Math.max(...replies.map((r) => r.lastEventAt)) };
  };
  console.log(`connected: ${opened}`);

  const headers = { authorization: `Bearer ${app.api_key}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown): Promise<{ ms: number; json: any; status: number }> => {
    const t0 = now();
    const res = await fetch(`${api}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const json = await res.json();
    return { ms: now() - t0, json, status: res.status };
  };

  // Warm-up, and the reference: single creates to one user.
  let n = 0;
  for (let i = 0; i < 50; i++) await post('/api/v1/apps/bench-app/notifications', { external_id: `warm-${n++}`, user_id: 'solo', notification_type: 'ref', title: 'Hello', body: 'World' });
  const single: number[] = [];
  for (let i = 0; i < 200; i++) single.push((await post('/api/v1/apps/bench-app/notifications', { external_id: `ref-${n++}`, user_id: 'solo', notification_type: 'ref', title: 'Hello', body: 'World' })).ms);

  const results: Record<string, { p50: number; p99: number; feedP99: number; streamP99: number; streamMax: number; missing: number }> = {};
  for (const [size, topic, lastUser] of [[SMALL, 'small', `u${SMALL - 1}`], [LARGE, 'large', `u${LARGE - 1}`]] as const) {
    const token = await signUserToken(SECRET, lastUser, 3600);
    const commits: number[] = [];
    const toFeed: number[] = [];
    const toStream: number[] = [];
    let missing = 0;
    for (let i = 0; i < COUNT + 2; i++) {
      const before = (await received()).counted;
      const sentAt = now();
      const r = await post('/api/v1/apps/bench-app/broadcasts', { external_id: `b-${topic}-${i}`, notification_type: 'release', title: 'Version 2', body: 'What is new', audience: { topic } });
      if (r.status !== 202) throw new Error(`broadcast: ${r.status} ${JSON.stringify(r.json)}`);
      const acked = sentAt + r.ms;
      // the feed of the audience's last user
      for (;;) {
        const feed = await (await fetch(`${api}/api/v1/users/${lastUser}/notifications?limit=1`, { headers: { authorization: `Bearer ${token}` } })).json() as { notifications: { id: string }[] };
        if (feed.notifications[0]?.id === r.json.broadcast_id) break;
        await sleep(1);
      }
      const inFeed = now();
      // every connected recipient
      const deadline = now() + 10_000;
      let state = await received();
      while (state.counted < before + opened && now() < deadline) {
        await sleep(5);
        state = await received();
      }
      if (i < 2) continue; // warm-up
      commits.push(r.ms);
      toFeed.push(inFeed - acked);
      toStream.push(state.last - acked);
      missing += Math.max(0, before + opened - state.counted);
      await sleep(50);
    }
    results[topic] = { p50: q(commits, 0.5), p99: q(commits, 0.99), feedP99: q(toFeed, 0.99), streamP99: q(toStream, 0.99), streamMax: Math.max(...toStream), missing };
    console.log(`${topic} (${size} recipients): ${JSON.stringify(results[topic])}`);
  }
  for (const l of loaders) l.stop();

  const s = results.small!;
  const l = results.large!;
  const f = (x: number) => x.toFixed(1);
  console.log('\n| measure | 10,000 recipients | 1,000,000 recipients | reference: single create | target |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(`| the 202 (commit) p50 / p99 | ${f(s.p50)} / ${f(s.p99)} ms | ${f(l.p50)} / ${f(l.p99)} ms | ${f(q(single, 0.5))} / ${f(q(single, 0.99))} ms | p99 < 50 ms |`);
  console.log(`| commit time, large ÷ small (p50) | | ${(l.p50 / s.p50).toFixed(2)}× | | ≤ 2× |`);
  console.log(`| broadcast p50 ÷ single create p50 | ${(s.p50 / q(single, 0.5)).toFixed(2)}× | ${(l.p50 / q(single, 0.5)).toFixed(2)}× | 1× | |`);
  console.log(`| 202 → in the last recipient's feed, p99 | ${f(s.feedP99)} ms | ${f(l.feedP99)} ms | | |`);
  console.log(`| 202 → last of ${opened} connected received, p99 / max | ${f(s.streamP99)} / ${f(s.streamMax)} ms | ${f(l.streamP99)} / ${f(l.streamMax)} ms | | < 1 s |`);
  console.log(`| stream messages missing | ${s.missing} | ${l.missing} | | 0 |`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await admin.end();
  await db.stop();
}
