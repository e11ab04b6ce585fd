// npm run bench -- gateway: the uWebSockets.js gateway side by side with a plain `ws` gateway
// (bench/ws-gateway/server.ts), measured in the same run on the same Postgres (synchronous_commit on).
// Gateways and load clients run in separate processes; each part is bounded in time.
//   1. connections held by one gateway and RSS per connection (distinct users, JWT auth)
//   2. commit → receive p50/p99 at a fixed 500 events/s (open model)
//   3. fan-out: messages/s to 10,000 connections, and gateway CPU seconds per million messages
//   4. long-poll next to WebSocket (issue 18), on one more uWS gateway: commit → receive p50/p99/max at
//      a fixed 100 events/s to 1,000 users (each event to one of them), first with 1,000 clients
//      long-polling (GET poll?after=<next_after>&wait=25 back to back over keep-alive connections,
//      as client/src/live.ts does), then with 1,000 WebSocket clients; both in child processes,
//      whose receive times are read on the same clock as the commit times (performance.timeOrigin
//      + now(): processes agree within ~1 ms). A poll answers 20 ms after its first event
//      (GATHER_MS in gateway/poll.ts), which is part of the figure. Polls are rate-limited per user
//      like stream messages: that gateway runs with GATEWAY_MESSAGES_PER_SECOND and
//      GATEWAY_MESSAGE_BURST at 1000 so that no back-to-back poll is refused (each user gets 0.1
//      events/s, so the defaults of 10 and 20 would do too; refused polls are counted all the same).
//   5. two uWS gateways (issue 19): GATEWAY_BENCH_CONNECTIONS held on each (by client processes of
//      at most 9,500 connections), RSS per connection of each, then commit → receive p50/p99/max at
//      500 events/s across both while they are held — each event to one of the held users, the
//      users alternating between the gateways; missed and duplicate events counted.
// Sizes: GATEWAY_BENCH_CONNECTIONS (default 19000: this machine's hard open-file limit is 20000 per
// process, so 20,000 sockets cannot be held by one process here), GATEWAY_BENCH_FANOUT (10000),
// GATEWAY_BENCH_SECONDS (each latency run, 10), GATEWAY_BENCH_POLL_CLIENTS (part 4, 1000).
// GATEWAY_BENCH_ONLY=poll runs part 4 alone, GATEWAY_BENCH_ONLY=two part 5 alone.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import WebSocket from 'ws';
import { createApp } from '../lib/apps.js';
import { makePool } from '../lib/db.js';
import { freePort } from '../lib/listen.js';
import { fromRoot } from '../lib/paths.js';
import { signUserToken } from '../lib/tokens.js';
import { BENCH_SECRETS_KEY, benchDatabase } from './database.js';

const CONNECTIONS = Number(process.env.GATEWAY_BENCH_CONNECTIONS ?? 19_000);
const FANOUT = Number(process.env.GATEWAY_BENCH_FANOUT ?? 10_000);
const SECONDS = Number(process.env.GATEWAY_BENCH_SECONDS ?? 10);
const POLL_CLIENTS = Number(process.env.GATEWAY_BENCH_POLL_CLIENTS ?? 1000);
const ONLY = process.env.GATEWAY_BENCH_ONLY ?? '';
const ONLY_POLL = ONLY === 'poll';
const RATE = 500;
const POLL_RATE = 100;
const SECRET = 'bench-secret-bench-secret-bench-secret-01';
const STREAM = '/api/v1/events/stream';
const POLL = '/api/v1/events/poll';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const fmt = (n: number, d = 1) => n.toFixed(d);

interface Proc {
  child: ChildProcess;
  port: number;
  name: string;
}

/** Start a gateway in its own shell with the open-file limit raised to the hard limit. */
async function startGateway(name: 'uws' | 'ws', databaseUrl: string, env: Record<string, string> = {}): Promise<Proc> {
  const port = await freePort();
  const entry = name === 'uws' ? 'gateway/main.ts' : 'bench/ws-gateway/server.ts';
  const child = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)"; exec "${process.execPath}" --import tsx ${entry}`], {
    cwd: fromRoot(),
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env, DATABASE_URL: databaseUrl, JWT_SECRET: SECRET, GATEWAY_PORT: String(port), PORT: String(port),
      LOG_LEVEL: 'error', NODE_ENV: 'production', SECRETS_KEY: BENCH_SECRETS_KEY, GATEWAY_REPLAY_LIMIT: '10000', ...env,
    },
  });
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { child, port, name };
    await sleep(50);
  }
  throw new Error(`${name} gateway did not start`);
}

async function stop(proc: Proc): Promise<void> {
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** utime + stime of a process (and, through the exec in bash, of the gateway itself), seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Loader {
  child: ChildProcess;
  opened: Promise<{ opened: number; failed: number }>;
  ask(cmd: 'count'): Promise<{ counted: number; lastEventAt: number }>;
  ask(cmd: 'received'): Promise<{ received: [number, number][]; duplicates: number; misaddressed: number; refused: number; errors: number }>;
  stop(): Promise<void>;
}

function loader(job: Record<string, unknown>): Loader {
  const child = fork(fromRoot('bench', 'ws-gateway', 'load.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, LOAD_JOB: JSON.stringify(job) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () => new Promise<any>((resolve) => child.once('message', resolve));
  return {
    child,
    opened: next(),
    ask: (cmd: string) => {
      const reply = next();
      child.send({ cmd });
      return reply;
    },
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ cmd: 'stop' });
      await Promise.race([exited, sleep(10_000)]);
    },
  };
}

/** Split n connections over processes of at most 9,500 each (open-file limit per process). */
function loaders(n: number, job: (offset: number, count: number) => Record<string, unknown>): Loader[] {
  const parts = Math.max(1, Math.ceil(n / 9500));
  return Array.from({ length: parts }, (_, i) => {
    const count = Math.floor(n / parts) + (i < n % parts ? 1 : 0);
    return loader(job(i * Math.floor(n / parts), count));
  });
}

async function held(gw: Proc, run: string): Promise<{ held: number; kbPerConnection: number; seconds: number }> {
  await sleep(500);
  const before = rssKb(gw.child.pid!);
  const started = now();
  const ls = loaders(CONNECTIONS, (offset, count) => ({
    url: `ws://127.0.0.1:${gw.port}${STREAM}`, count, userPrefix: `held-${run}-${offset}-`, secret: SECRET, concurrency: 100,
  }));
  const results = await Promise.all(ls.map((l) => l.opened));
  const seconds = (now() - started) / 1000;
  await sleep(2000);
  const after = rssKb(gw.child.pid!);
  const heldCount = results.reduce((s, r) => s + r.opened, 0);
  await Promise.all(ls.map((l) => l.stop()));
  // The uWS gateway releases each user connection from the registry: let those deletes finish so
  // they do not compete with the latency part's writers.
  for (let i = 0; i < 600; i++) {
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from oriva.gateway_connections');
    if (rows[0]!.n === 0) break;
    await sleep(100);
  }
  return { held: heldCount, kbPerConnection: (after - before) / heldCount, seconds };
}

interface Sent {
  sentAt: number;
  /** the insert answered: the commit */
  ackAt: number;
}

/**
 * `rate` events/s for SECONDS, open model: event i is inserted at its scheduled time (8 writers, one
 * transaction each), for user `userOf(i)`. Each seq's send time and commit time.
 */
async function writeEvents(appId: string, rate: number, userOf: (i: number) => string): Promise<Map<number, Sent>> {
  const writers = new pg.Pool({ connectionString: url, max: 8 });
  const sent = new Map<number, Sent>();
  const total = rate * SECONDS;
  const start = now() + 100;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    const sentAt = now();
    inflight.push(writers.query<{ seq: string }>(
      `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id) values ($1, $2, 'bench', 'latency', 'bench', $3) returning seq`,
      [appId, userOf(i), String(i)],
    ).then((r) => void sent.set(Number(r.rows[0]!.seq), { sentAt, ackAt: now() })));
  }
  await Promise.all(inflight);
  await writers.end();
  return sent;
}

/** Until `done`, for at most 10 s. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = now() + 10_000;
  while (!(await done()) && now() < deadline) await sleep(20);
}

/** commit → receive (from the insert's answer) and insert sent → receive of the events received. */
function commitToReceive(sent: Map<number, Sent>, received: Map<number, number>): { p50: number; p99: number; max: number; p99FromSend: number; events: number } {
  const lat: number[] = [];
  const fromSend: number[] = [];
  for (const [seq, { sentAt, ackAt }] of sent) {
    const at = received.get(seq);
    if (at === undefined) continue;
    lat.push(Math.max(0, at - ackAt));
    fromSend.push(at - sentAt);
  }
  lat.sort((a, b) => a - b);
  fromSend.sort((a, b) => a - b);
  const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
  return { p50: q(lat, 0.5), p99: q(lat, 0.99), max: lat.at(-1) ?? NaN, p99FromSend: q(fromSend, 0.99), events: lat.length };
}

async function latency(gw: Proc, appId: string, run: string): Promise<{ p50: number; p99: number; max: number; p99FromSend: number; events: number }> {
  const users = 100;
  const received = new Map<number, number>();
  const sockets = await Promise.all(Array.from({ length: users }, async (_, i) => {
    const token = await signUserToken(SECRET, `lat-${run}-${i}`);
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${STREAM}`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        if (data[9] === 0x65) received.set(Number(/"seq":(\d+)/.exec(data.toString())![1]), now());
        else resolve();
      });
      ws.on('error', reject);
    });
    return ws;
  }));
  const sent = await writeEvents(appId, RATE, (i) => `lat-${run}-${i % users}`);
  await until(() => received.size >= sent.size);
  for (const ws of sockets) ws.terminate();
  return commitToReceive(sent, received);
}

/** Part 4: POLL_RATE events/s to POLL_CLIENTS users, each a client (long-poll or WebSocket) in a child process. */
async function transportLatency(gw: Proc, appId: string, transport: 'poll' | 'ws') {
  const ls = loaders(POLL_CLIENTS, (offset, count) => ({
    url: transport === 'poll' ? `http://127.0.0.1:${gw.port}${POLL}` : `ws://127.0.0.1:${gw.port}${STREAM}`,
    poll: transport === 'poll', record: true, count, offset, userPrefix: `${transport}-`, secret: SECRET, concurrency: 100,
  }));
  const opened = (await Promise.all(ls.map((l) => l.opened))).reduce((s, r) => s + r.opened, 0);
  const sent = await writeEvents(appId, POLL_RATE, (i) => `${transport}-${i % POLL_CLIENTS}`);
  await until(async () => (await Promise.all(ls.map((l) => l.ask('count')))).reduce((s, r) => s + r.counted, 0) >= sent.size);
  const replies = await Promise.all(ls.map((l) => l.ask('received')));
  await Promise.all(ls.map((l) => l.stop()));
  const received = new Map(replies.flatMap((r) => r.received));
  const sum = (key: 'duplicates' | 'misaddressed' | 'refused' | 'errors') => replies.reduce((s, r) => s + r[key], 0);
  return {
    clients: opened, sent: sent.size, ...commitToReceive(sent, received), missed: [...sent.keys()].filter((seq) => !received.has(seq)).length,
    duplicates: sum('duplicates'), misaddressed: sum('misaddressed'), refusedPolls: sum('refused'), failedPolls: sum('errors'),
  };
}

/** Part 5: CONNECTIONS held on each of two gateways; RATE events/s to held users, alternating gateways. */
async function twoGateways(appId: string) {
  const gateways = [await startGateway('uws', url), await startGateway('uws', url)];
  try {
    await sleep(500);
    const before = gateways.map((gw) => rssKb(gw.child.pid!));
    const started = now();
    const held = gateways.map((gw, g) => loaders(CONNECTIONS, (offset, count) => ({
      url: `ws://127.0.0.1:${gw.port}${STREAM}`, count, offset, userPrefix: `two-${g}-`, secret: SECRET, concurrency: 100, record: true,
    })));
    const opened = await Promise.all(held.map(async (ls) => (await Promise.all(ls.map((l) => l.opened))).reduce((s, r) => s + r.opened, 0)));
    const connectSeconds = (now() - started) / 1000;
    await sleep(2000);
    const kbPerConnection = gateways.map((gw, g) => (rssKb(gw.child.pid!) - before[g]!) / opened[g]!);
    const all = held.flat();
    const sent = await writeEvents(appId, RATE, (i) => `two-${i % 2}-${Math.floor(i / 2) % CONNECTIONS}`);
    await until(async () => (await Promise.all(all.map((l) => l.ask('count')))).reduce((s, r) => s + r.counted, 0) >= sent.size);
    const replies = await Promise.all(all.map((l) => l.ask('received')));
    await Promise.all(all.map((l) => l.stop()));
    const received = new Map(replies.flatMap((r) => r.received));
    return {
      held: opened, kbPerConnection, connectSeconds, sent: sent.size, ...commitToReceive(sent, received),
      missed: [...sent.keys()].filter((seq) => !received.has(seq)).length, duplicates: replies.reduce((s, r) => s + r.duplicates, 0),
      misaddressed: replies.reduce((s, r) => s + r.misaddressed, 0),
    };
  } finally {
    await Promise.all(gateways.map((gw) => stop(gw)));
  }
}

async function fanout(gw: Proc, apiKey: string, appId: string): Promise<{ messages: number; perSecond: number; cpuPerMillion: number; seconds: number }> {
  const ls = loaders(FANOUT, (_offset, count) => ({ url: `ws://127.0.0.1:${gw.port}${STREAM}`, count, apiKey, concurrency: 100 }));
  const opened = (await Promise.all(ls.map((l) => l.opened))).reduce((s, r) => s + r.opened, 0);
  const events = 100;
  const expected = opened * events;
  const cpuBefore = cpuSeconds(gw.child.pid!);
  // 100 events, one transaction each, from 10 concurrent writers as fast as Postgres commits them.
  const writer = new pg.Pool({ connectionString: url, max: 10 });
  const started = now();
  await Promise.all(Array.from({ length: 10 }, async (_, w) => {
    for (let i = 0; i < events / 10; i++) {
      await writer.query(`insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id) values ($1, 'fan', 'bench', 'fanout', 'bench', $2)`, [appId, `${w}-${i}`]);
    }
  }));
  let counted = 0;
  let last = started;
  const deadline = now() + 90_000;
  while (counted < expected && now() < deadline) {
    await sleep(250);
    const replies = await Promise.all(ls.map((l) => l.ask('count')));
    counted = replies.reduce((s, r) => s + r.counted, 0);
    last = Math.max(...replies.map((r) => r.lastEventAt));
  }
  const cpu = cpuSeconds(gw.child.pid!) - cpuBefore;
  await writer.end();
  await Promise.all(ls.map((l) => l.stop()));
  const seconds = (last - started) / 1000;
  return { messages: counted, perSecond: counted / seconds, cpuPerMillion: (cpu / counted) * 1e6, seconds };
}

const db = await benchDatabase();
const url = db.url;
const pool = makePool(url, { role: 'oriva_system', max: 2 });
try {
  const app = await createApp(pool, { id: 'bench-app', name: 'Bench' });
  console.log(`gateway bench: ${CONNECTIONS} held, ${RATE} events/s for ${SECONDS} s, fan-out to ${FANOUT}, ${POLL_RATE} events/s to ${POLL_CLIENTS} polling / WebSocket clients, two gateways holding ${CONNECTIONS} each${ONLY ? ` (only: ${ONLY})` : ''}; open files hard limit ${readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)?.[1]}`);
  if (ONLY === '' || ONLY === 'two') {
    const two = await twoGateways(app.app_id);
    console.log('two gateways', JSON.stringify(two));
    console.log(`\n| two uWS gateways | gateway 1 | gateway 2 | both | target |`);
    console.log('| --- | --- | --- | --- | --- |');
    console.log(`| connections held | ${two.held[0]} | ${two.held[1]} | ${two.held[0]! + two.held[1]!} (in ${fmt(two.connectSeconds)} s) | 38,000 |`);
    console.log(`| RSS per connection | ${fmt(two.kbPerConnection[0]!, 2)} KB | ${fmt(two.kbPerConnection[1]!, 2)} KB | | ≤ 3 KB |`);
    console.log(`| commit → receive p50 / p99 / max at ${RATE}/s, users on both | | | ${fmt(two.p50)} / ${fmt(two.p99)} / ${fmt(two.max)} ms | |`);
    console.log(`| events received of sent; missed / received twice / by another user | | | ${two.events} of ${two.sent}; ${two.missed} / ${two.duplicates} / ${two.misaddressed} | |`);
  }
  if (ONLY === '') {
    const results: Record<string, Record<string, number>> = {};
    for (const name of ['uws', 'ws'] as const) {
      // an app may hold 100 connections by default: the fan-out part connects FANOUT as one app
      const gw = await startGateway(name, url, { WS_MAX_CONNECTIONS_PER_APP: String(FANOUT) });
      try {
        const h = await held(gw, name);
        const l = await latency(gw, app.app_id, name);
        if (name === 'uws') {
          const metrics = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text();
          console.log(metrics.split('\n').filter((line) => line.startsWith('oriva_gateway_commit_to_push_seconds_bucket')).join('\n'));
        }
        const f = await fanout(gw, app.api_key, app.app_id);
        results[name] = { held: h.held, kbPerConn: h.kbPerConnection, connectSeconds: h.seconds, p50: l.p50, p99: l.p99, max: l.max, p99FromSend: l.p99FromSend, latencyEvents: l.events, fanoutMsgs: f.messages, fanoutPerSec: f.perSecond, cpuPerMillion: f.cpuPerMillion };
        console.log(name, JSON.stringify(results[name]));
      } finally {
        await stop(gw);
      }
    }
    const u = results.uws!;
    const w = results.ws!;
    console.log('\n| measure | uWebSockets.js gateway | ws gateway | ratio | target |');
    console.log('| --- | --- | --- | --- | --- |');
    console.log(`| connections held | ${u.held} | ${w.held} | | 20,000 (hard fd limit here: 20,000 per process) |`);
    console.log(`| RSS per connection | ${fmt(u.kbPerConn!)} KB | ${fmt(w.kbPerConn!)} KB | ${fmt(w.kbPerConn! / u.kbPerConn!, 2)}× less | ≤ 10 KB |`);
    console.log(`| commit → receive p50 / p99 / max at ${RATE}/s | ${fmt(u.p50!)} / ${fmt(u.p99!)} / ${fmt(u.max!)} ms | ${fmt(w.p50!)} / ${fmt(w.p99!)} / ${fmt(w.max!)} ms | | p99 < 20 ms |`);
    console.log(`| insert sent → receive p99 | ${fmt(u.p99FromSend!)} ms | ${fmt(w.p99FromSend!)} ms | | |`);
    console.log(`| fan-out to ${FANOUT} connections | ${fmt(u.fanoutPerSec!, 0)} msg/s | ${fmt(w.fanoutPerSec!, 0)} msg/s | ${fmt(u.fanoutPerSec! / w.fanoutPerSec!, 2)}× | ≥ 3× |`);
    console.log(`| gateway CPU per million messages | ${fmt(u.cpuPerMillion!, 2)} s | ${fmt(w.cpuPerMillion!, 2)} s | ${fmt(w.cpuPerMillion! / u.cpuPerMillion!, 2)}× less | ≥ 3× (when the clients are the limit) |`);
  }
  // 4. long-poll next to WebSocket, on one uWS gateway that lets back-to-back polls through
  if (ONLY === '' || ONLY_POLL) {
    const gw = await startGateway('uws', url, { GATEWAY_MESSAGES_PER_SECOND: '1000', GATEWAY_MESSAGE_BURST: '1000' });
    try {
      const p = await transportLatency(gw, app.app_id, 'poll');
      console.log('poll', JSON.stringify(p));
      const w = await transportLatency(gw, app.app_id, 'ws');
      console.log('ws', JSON.stringify(w));
      console.log(`\n| commit → receive at ${POLL_RATE} events/s, ${POLL_CLIENTS} users, uWS gateway | long-poll | WebSocket | poll / WS |`);
      console.log('| --- | --- | --- | --- |');
      console.log(`| p50 / p99 / max | ${fmt(p.p50)} / ${fmt(p.p99)} / ${fmt(p.max)} ms | ${fmt(w.p50)} / ${fmt(w.p99)} / ${fmt(w.max)} ms | p99 ${fmt(p.p99 / w.p99, 2)}× |`);
      console.log(`| insert sent → receive p99 | ${fmt(p.p99FromSend)} ms | ${fmt(w.p99FromSend)} ms | |`);
      console.log(`| clients; events received of sent | ${p.clients}; ${p.events} of ${p.sent} | ${w.clients}; ${w.events} of ${w.sent} | |`);
      console.log(`| missed / received twice / by another user | ${p.missed} / ${p.duplicates} / ${p.misaddressed} | ${w.missed} / ${w.duplicates} / ${w.misaddressed} | |`);
      console.log(`| polls refused (429) / failed | ${p.refusedPolls} / ${p.failedPolls} | | |`);
    } finally {
      await stop(gw);
    }
  }
} finally {
  await pool.end();
  await db.stop();
}
