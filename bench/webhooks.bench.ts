// npm run bench -- webhooks: signed webhook deliveries per second to a local keep-alive receiver,
// and event → first attempt latency (p50/p99) at a fixed arrival rate (open model: events are
// inserted on a timer, whatever the worker does). Reference measured in the same run on the same
// Postgres: graphile-worker running no-op jobs; and for the worker's CPU, the part no task can do
// without: a no-op job (with the worker's local queue) plus the same deliveries signed and POSTed
// alone. synchronous_commit stays on. The receiver runs in its
// own process (bench/webhook-receiver.ts), so the CPU figures per delivery are the worker's (this
// process), Postgres' and the receiver's, each on its own. BENCH_WEBHOOK_PROFILE=<file>: a V8 CPU
// profile of this process while the backlog drains (the worker's share of it), for chrome devtools.
// Targets (DESIGN §7): ≥ 1,000 deliveries/s; event → first attempt p99 < 100 ms.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { cpuUsage } from 'node:process';
import pg from 'pg';
import { Logger as GraphileLogger, run as runGraphile, type TaskList } from 'graphile-worker';
import { createApp } from '../lib/apps.js';
import { loadConfig } from '../lib/config.js';
import { listen } from '../lib/listen.js';
import { makeLogger } from '../lib/log.js';
import type { EventRow } from '../lib/events.js';
import { fromRoot } from '../lib/paths.js';
import { makeWebhookClient } from '../lib/webhooks/http-client.js';
import { defaultAdmissionLimits } from '../worker/deliveries/admission.js';
import { callWebhook } from '../worker/deliveries/call.js';
import { webhookBody, type WebhookRow } from '../worker/deliveries/prepare.js';
import { startWorker } from '../worker/worker.js';
import { postgresCpuSeconds, postmasterPid, processCpuSeconds } from './cpu.js';
import { BENCH_SECRETS_KEY, benchDatabase } from './database.js';

const THROUGHPUT_EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 6000);
const WARMUP = 500; // jobs each worker runs before it is measured
const LATENCY_RATE = Number(process.env.BENCH_WEBHOOK_RATE ?? 200); // events/s
const LATENCY_SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 24);
const NOISY_EVENTS = Number(process.env.BENCH_WEBHOOK_NOISY_EVENTS ?? 50);
const FANOUT_APPS = 20;
const FANOUT_EVENTS = Number(process.env.BENCH_WEBHOOK_FANOUT_EVENTS ?? 100);
const FANOUT_RATE = 20; // events/s, each to FANOUT_APPS webhooks
const PROFILE = process.env.BENCH_WEBHOOK_PROFILE;

const BENCH_WEBHOOK_SECRET = `whsec_${Buffer.from('bench-secret-bench-secret-bench!').toString('base64')}`;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const db = await benchDatabase();
const admin = new pg.Pool({ connectionString: db.url, max: 4 });
// Stopping Postgres at the end cuts whatever a pool still holds: never an unhandled 'error'.
admin.on('error', () => {});
const log = makeLogger('bench', 'warn');
// --- receiver: keep-alive, answers 200 at once, records arrival times (its own process) ----------
const receiver = fork(fromRoot('bench', 'webhook-receiver.ts'), [], { execArgv: ['--import', 'tsx'] });
const port = await new Promise<number>((resolve) => receiver.once('message', (m: { port: number }) => resolve(m.port)));
/** Ask the receiver (one question at a time). */
const ask = <T>(message: 'count' | 'arrivals' | 'clear') => new Promise<T>((resolve) => {
  receiver.once('message', (m: T) => resolve(m));
  receiver.send(message);
});
const received = async () => (await ask<{ count: number }>('count')).count;
const arrivalTimes = async () => new Map((await ask<{ arrivals: [string, number][] }>('arrivals')).arrivals);
try {
  const { rows: [settings] } = await admin.query(`select current_setting('synchronous_commit') as sc, version() as v`);
  console.log(`# Postgres: ${String(settings.v).split(',')[0]}, synchronous_commit=${settings.sc}; worker concurrency ${CONCURRENCY}`);

  // --- reference: graphile-worker no-op jobs/s, before the backlog and again after the drain ----
  // Each figure is of a warm runner (started and WARMUP jobs run first), from the commit of the
  // backlog to its last job: the cost per job, not the start-up's. The ratio is to the mean of the
  // two (the no-op rate moves by up to 30% between runs on this host). graphile-worker's defaults, as
  // when the target was set; the worker fetches jobs ahead (its local queue, worker/worker.ts), and
  // the no-op rate with that setting is printed beside it, for what the queue itself costs now.
  // The statistics of the job table as autovacuum leaves them some seconds after a bulk insert: without
  // it the backlog is run under plans made for the empty table of the warm-up (3× the Postgres CPU per job).
  const analyzeJobs = () => admin.query('analyze graphile_worker._private_jobs');
  const addNoops = (n: number) => admin.query(`select graphile_worker.add_jobs(array(select row('bench_noop', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec from generate_series(1, $1)))`, [n]);
  const postmaster = await postmasterPid(admin);
  const noopReference = async (label: string, localQueue?: number) => {
    const noopPool = new pg.Pool({ connectionString: db.url, max: CONCURRENCY + 4 });
    noopPool.on('error', () => {});
    noopPool.on('connect', (client) => client.on('error', () => {}));
    let done = 0;
    const noop: TaskList = { bench_noop: async () => void done++ };
    const preset = localQueue ? { worker: { localQueue: { size: localQueue }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } : undefined;
    const runner = await runGraphile({ pgPool: noopPool, concurrency: CONCURRENCY, taskList: noop, noHandleSignals: true, pollInterval: 500, logger: quietGraphileLogger(), preset });
    await addNoops(WARMUP);
    while (done < WARMUP) await sleep(5);
    done = 0;
    await addNoops(THROUGHPUT_EVENTS);
    await analyzeJobs();
    const noopCpu = cpuUsage();
    const noopPostgres = postgresCpuSeconds(postmaster);
    const noopStart = performance.now();
    while (done < THROUGHPUT_EVENTS) await sleep(5);
    const noopSeconds = (performance.now() - noopStart) / 1000;
    const noopCpuS = cpuSeconds(cpuUsage(noopCpu));
    const noopPostgresS = postgresCpuSeconds(postmaster) - noopPostgres;
    await runner.stop();
    await noopPool.end();
    const rate = THROUGHPUT_EVENTS / noopSeconds;
    const perJob = (s: number) => `${((s / THROUGHPUT_EVENTS) * 1e6).toFixed(0)} µs`;
    console.log(`${label}${rate.toFixed(0)} jobs/s (${THROUGHPUT_EVENTS} jobs in ${noopSeconds.toFixed(2)} s); CPU per job: worker ${perJob(noopCpuS)}, Postgres ${perJob(noopPostgresS)}`);
    return { rate, cpuPerJob: noopCpuS / THROUGHPUT_EVENTS };
  };
  const { rate: noopBefore } = await noopReference('reference: graphile-worker no-op jobs      ');

  const appPool = new pg.Pool({ connectionString: db.url, max: 8, options: '-c role=oriva_system' });
  appPool.on('error', () => {});
  const app = await createApp(appPool, { id: 'bench-app', name: 'Bench', iconUrl: null, platform: false });
  await appPool.query(
    `insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events) values ($1, $2, $3, '{notification.*}')`,
    [app.app_id, `http://127.0.0.1:${port}/hook`, BENCH_WEBHOOK_SECRET],
  );
  const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SECRETS_KEY: BENCH_SECRETS_KEY, WEBHOOK_ALLOWLIST: '127.0.0.1', LOG_LEVEL: 'warn' });

  // --- throughput: a backlog of events (one job each, from the fan-out trigger) drained ---------
  const insertEvents = (from: number, n: number) => appPool.query(
    `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
     select $1, 'user_' || (g % 100), 'notification', 'dismissed', 'notification', gen_random_uuid()::text, jsonb_build_object('source', 'bench', 'i', g)
       from generate_series($2::int, $2::int + $3::int - 1) g`,
    [app.app_id, from, n],
  );
  const logRows = async () => (await admin.query(`select count(*)::int as n from oriva.webhook_delivery_log`)).rows[0].n as number;
  const worker = await startWorker(config, db.url, log, { concurrency: CONCURRENCY });
  await insertEvents(1, WARMUP);
  await until(async () => (await logRows()) >= WARMUP);
  await ask('clear');
  const commitsBefore = await commits();
  await insertEvents(WARMUP + 1, THROUGHPUT_EVENTS);
  await analyzeJobs();
  const profiler = PROFILE ? new Session() : null;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const cpu = cpuUsage();
  const postgresBefore = postgresCpuSeconds(postmaster);
  const receiverBefore = processCpuSeconds(receiver.pid!);
  const start = performance.now();
  while ((await received()) < THROUGHPUT_EVENTS) await sleep(10);
  const receivedSeconds = (performance.now() - start) / 1000;
  // Drained when every attempt is recorded too (a task ends with its log row's commit).
  await until(async () => (await logRows()) >= WARMUP + THROUGHPUT_EVENTS, 60_000, 5);
  const seconds = (performance.now() - start) / 1000;
  const cpuUsed = cpuUsage(cpu);
  const cpuS = cpuSeconds(cpuUsed);
  const postgresS = postgresCpuSeconds(postmaster) - postgresBefore;
  const receiverS = processCpuSeconds(receiver.pid!) - receiverBefore;
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(PROFILE!, JSON.stringify(profile));
    profiler.disconnect();
  }
  const { rows: [logged] } = await admin.query(`select count(*)::int as n, count(*) filter (where success)::int as ok from oriva.webhook_delivery_log`);
  const committed = (await commits()) - commitsBefore - 1; // less the backlog's insert
  const rate = THROUGHPUT_EVENTS / seconds;
  const { rate: noopAfter } = await noopReference('reference again after the drain:          ');
  const noopRate = (noopBefore + noopAfter) / 2;
  const noopLocalQueue = await noopReference(`no-op jobs with the worker's local queue (${CONCURRENCY}):  `, CONCURRENCY);
  const perDelivery = (s: number) => `${((s / THROUGHPUT_EVENTS) * 1e6).toFixed(0)} µs`;
  const postCpu = await signedPostsAlone();
  const floor = postCpu + noopLocalQueue.cpuPerJob;
  console.log(`signed deliveries (backlog of ${THROUGHPUT_EVENTS}, received and recorded)   ${rate.toFixed(0)} deliveries/s in ${seconds.toFixed(2)} s = ${(rate / noopRate).toFixed(2)} × no-op jobs (their mean, ${noopRate.toFixed(0)} jobs/s; target ≥ 0.80: ${rate / noopRate >= 0.8 ? 'OK' : 'MISSED'}; ${(rate / noopLocalQueue.rate).toFixed(2)} × no-op jobs with the local queue); all received after ${receivedSeconds.toFixed(2)} s; ${logged.ok}/${logged.n} logged as success (with the ${WARMUP} of the warm-up)`);
  console.log(`CPU per delivery while draining: worker ${perDelivery(cpuS)} (user ${perDelivery(cpuUsed.user / 1e6)}, system ${perDelivery(cpuUsed.system / 1e6)}; target ≤ 250 µs: ${cpuS / THROUGHPUT_EVENTS <= 250e-6 ? 'OK' : 'MISSED'}), Postgres ${perDelivery(postgresS)}, receiver ${perDelivery(receiverS)} (of ${perDelivery(2 * seconds)} the 2 cores had); ${(committed / THROUGHPUT_EVENTS).toFixed(2)} transactions per delivery (graphile-worker's and the task's, all of this database's)`);
  console.log(`  worker CPU before any work of the task's own: ${(floor * 1e6).toFixed(0)} µs (a no-op job with the local queue + a signed POST alone); the deliveries cost ${(cpuS / THROUGHPUT_EVENTS / floor).toFixed(2)} × that`);

  /**
   * The HTTP part alone: the drain's deliveries signed and POSTed again with the worker's client and
   * call step, to the same receiver, as many at a time as the worker lets one app have. CPU seconds
   * per POST of this process.
   */
  async function signedPostsAlone(): Promise<number> {
    const { rows: events } = await admin.query<{ event: EventRow }>(
      `select to_jsonb(e) as event from (select id, seq, app_id, user_id, event_category, event_type, entity_type, entity_id,
                                                event_data, created_at from oriva.platform_events order by seq limit $1) e`,
      [THROUGHPUT_EVENTS],
    );
    const client = makeWebhookClient({ allowlist: ['127.0.0.1'] });
    const webhook: WebhookRow = {
      id: randomUUID(), app_id: app.app_id, webhook_url: `http://127.0.0.1:${port}/hook`, webhook_secret: BENCH_WEBHOOK_SECRET,
      previous_secret: null, previous_secret_expires_at: null, is_active: true, max_retries: 5, retry_backoff_seconds: 60,
      consecutive_failures: 0, last_failure_at: null,
    };
    let next = 0;
    const post = async () => {
      for (let i = next++; i < events.length; i = next++) {
        const { event } = events[i]!;
        const job = { webhook_id: webhook.id, event_id: event.id, delivery_id: `msg_alone_${i}`, attempt: 1 };
        const outcome = await callWebhook(client, { job, webhook, eventType: 'notification.dismissed', eventId: event.id, body: webhookBody(event) });
        if (!outcome.ok) throw new Error(`a POST alone failed: ${JSON.stringify(outcome)}`);
      }
    };
    const slots = defaultAdmissionLimits(CONCURRENCY).perApp;
    await Promise.all(Array.from({ length: slots }, post)); // warm: connections open, code optimised
    next = 0;
    const before = cpuUsage();
    const started = performance.now();
    await Promise.all(Array.from({ length: slots }, post));
    const postSeconds = (performance.now() - started) / 1000;
    const used = cpuSeconds(cpuUsage(before));
    await client.close();
    console.log(`reference: the same ${events.length} deliveries signed and POSTed alone (${slots} at a time)   ${(events.length / postSeconds).toFixed(0)}/s; CPU per POST: worker ${((used / events.length) * 1e6).toFixed(0)} µs`);
    return used / events.length;
  }

  /** Attempts deferred so far (busy: an app or endpoint at its share; breaker_open). */
  const deferred = async () => {
    const text = await worker.metrics.registry.metrics();
    const count = (reason: string) => new RegExp(`oriva_webhook_deliveries_deferred_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? '0';
    return `deferred so far: ${count('busy')} busy, ${count('breaker_open')} breaker open`;
  };
  console.log(`  (${await deferred()})`);

  // --- latency: events inserted one per transaction at a fixed rate ------------------------------
  const firstAttempts = async (label: string, seconds: number) => {
    await ask('clear');
    const inserted = new Map<string, number>();
    const total = LATENCY_RATE * seconds;
    const interval = 1000 / LATENCY_RATE;
    const began = performance.now();
    const pending: Promise<unknown>[] = [];
    const idOf = (row: { d: string }) => row.d;
    for (let i = 0; i < total; i++) {
      const due = began + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const sentAt = Date.now();
      pending.push(
        appPool
          .query<{ d: string }>(
            `with e as (insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id)
                        values ($1, 'user_1', 'notification', 'read', 'notification', $2) returning id)
             select oriva.webhook_delivery_id(w.id, e.id) as d from e, oriva.app_webhooks w where w.app_id = $1`,
            [app.app_id, randomUUID()],
          )
          .then(({ rows }) => inserted.set(idOf(rows[0]!), sentAt)),
      );
    }
    await Promise.all(pending);
    const offered = total / ((performance.now() - began) / 1000);
    await until(async () => (await received()) >= total, 30_000);
    const arrivals = await arrivalTimes();
    const latencies = [...inserted].map(([id, at]) => arrivals.get(id)! - at).sort((a, b) => a - b);
    console.log(
      `${label} at ${offered.toFixed(0)} events/s (${total} events, insert sent → request received)   p50 ${quantile(latencies, 0.5)} ms   p99 ${quantile(latencies, 0.99)} ms   max ${latencies.at(-1)} ms; ${await deferred()}`,
    );
  };
  await firstAttempts('event → first attempt', LATENCY_SECONDS);

  // --- a platform app's event about a user with FANOUT_APPS installed apps, each with a webhook that
  // subscribed: one commit → FANOUT_APPS first attempts (the fan-out follows installations) ---------
  const core = await createApp(appPool, { id: 'bench-core', name: 'Core', iconUrl: null, platform: true });
  await appPool.query(
    `with apps as (insert into oriva.apps (id, name) select 'fan-' || i, 'Fan ' || i from generate_series(1, $1) i returning id),
          hooks as (insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events)
                    select id, $2, $3, '{user.*}' from apps)
     insert into oriva.app_installations (user_id, app_id) select 'fan_user', id from apps`,
    [FANOUT_APPS, `http://127.0.0.1:${port}/fan`, `whsec_${Buffer.from('fanout-secret-fanout-secret-fan!').toString('base64')}`],
  );
  await ask('clear');
  const sent = new Map<string, number>();
  const fanStart = performance.now();
  for (let i = 0; i < FANOUT_EVENTS; i++) {
    const due = fanStart + i * (1000 / FANOUT_RATE);
    if (due - performance.now() > 1) await sleep(due - performance.now());
    const sentAt = Date.now();
    const { rows } = await appPool.query<{ d: string }>(
      `with e as (insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id)
                  values ($1, 'fan_user', 'user', 'profile_updated', 'user', $2) returning id)
       select oriva.webhook_delivery_id(w.id, e.id) as d from e, oriva.app_webhooks w where w.app_id like 'fan-%'`,
      [core.app_id, `fan-${i}`],
    );
    for (const { d } of rows) sent.set(d, sentAt);
  }
  await until(async () => (await received()) >= sent.size, 30_000);
  const arrivals = await arrivalTimes();
  const fanLatencies = [...sent].map(([d, at]) => arrivals.get(d)! - at).sort((a, b) => a - b);
  console.log(
    `platform event → ${FANOUT_APPS} installed apps' first attempts at ${FANOUT_RATE} events/s (${FANOUT_EVENTS} events, ${sent.size} deliveries, commit sent → request received)   p50 ${quantile(fanLatencies, 0.5)} ms   p99 ${quantile(fanLatencies, 0.99)} ms   max ${fanLatencies.at(-1)} ms`,
  );

  // --- the same with a noisy neighbour: app B, 10 webhooks that accept and never answer, and a burst
  // of NOISY_EVENTS events (10 hanging deliveries each) just before app A's measured events --------
  const hanging = createServer(() => {}); // accepts, never answers
  const hangingPort = await listen(hanging, 0, '127.0.0.1');
  const noisy = await createApp(appPool, { id: 'noisy-app', name: 'Noisy', iconUrl: null, platform: false });
  await appPool.query(
    `insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events)
     select $1, $2 || i, $3, '{*}' from generate_series(1, 10) i`,
    [noisy.app_id, `http://127.0.0.1:${hangingPort}/hang/`, `whsec_${Buffer.from('noisy-secret-noisy-secret-noisy!').toString('base64')}`],
  );
  await appPool.query(
    `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id)
     select $1, 'user_1', 'session', 'started', 'session', 'noisy-' || i from generate_series(1, $2) i`,
    [noisy.app_id, NOISY_EVENTS],
  );
  await firstAttempts(`healthy app's first-attempt with a noisy neighbour (${NOISY_EVENTS * 10} hanging deliveries)`, LATENCY_SECONDS);
  hanging.closeAllConnections();
  await new Promise<void>((r) => hanging.close(() => r()));

  await worker.close();
  await appPool.end();
} finally {
  receiver.send('stop');
  await admin.end();
  await db.stop();
}

/** Transactions committed in this database so far (the statistics are flushed when a backend goes idle). */
async function commits(): Promise<number> {
  await sleep(1100);
  await admin.query('select pg_stat_clear_snapshot()');
  const { rows: [row] } = await admin.query<{ n: string }>('select xact_commit as n from pg_stat_database where datname = current_database()');
  return Number(row!.n);
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

async function until(probe: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('bench timed out');
    await sleep(everyMs);
  }
}

function quietGraphileLogger(): GraphileLogger {
  return new GraphileLogger(() => () => {});
}
