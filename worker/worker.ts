// The graphile-worker runner: the tasks in worker/tasks and the schedule in worker/crontab, plus the
// pieces around them — the webhook HTTP client, worker heartbeats (crash recovery) and /metrics.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger as GraphileLogger, run, type Runner, type RunnerOptions, type TaskList, type WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import type { Config } from '../lib/config.js';
import { makePool, sessionLimits } from '../lib/db.js';
import type { Logger } from '../lib/log.js';
import { fromRoot } from '../lib/paths.js';
import { DEFAULT_TIMEOUT_MS, makeWebhookClient } from '../lib/webhooks/http-client.js';
import type { Resolver } from '../lib/webhooks/url-policy.js';
import { reencryptWebhookSecrets } from '../lib/webhooks/reencrypt.js';
import { DeliveryAdmission, defaultAdmissionLimits } from './deliveries/admission.js';
import { startHeartbeat, type HeartbeatOptions } from './heartbeat.js';
import { makeWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { smtpMailer, type Mailer } from './email/smtp.js';
import { taskList } from './tasks/index.js';

/** How long a job pool that shut down on its own may take to be released before it counts as stuck. */
const STUCK_AFTER_MS = 3_000;

export interface WorkerHandle {
  /** Served on /metrics by worker/main.ts. */
  metrics: WorkerMetrics;
  close(): Promise<void>;
}

export interface WorkerOptions {
  concurrency?: number;
  tasks?: TaskList;
  /** Per-attempt webhook timeout (default 10 s). */
  webhookTimeoutMs?: number;
  /** Resolve webhook host names yourself (tests); default the system resolver. */
  resolver?: Resolver;
  heartbeat?: HeartbeatOptions;
  /** How often idle workers look for jobs whose run_at has come (retries, expiry). Default 500 ms. */
  pollIntervalMs?: number;
  /** The email sender (tests, the bench); default SMTP to config.email.smtpUrl, or none without one. */
  mailer?: Mailer | null;
}

export async function startWorker(config: Config, databaseUrl: string, log: Logger, options: WorkerOptions = {}): Promise<WorkerHandle> {
  const concurrency = options.concurrency ?? config.workerConcurrency;
  // graphile-worker's own pool runs as the login role (it owns the graphile_worker schema).
  const pgPool = new pg.Pool({ connectionString: databaseUrl, max: concurrency + 4, application_name: 'oriva-worker', options: sessionLimits(null) });
  pgPool.on('error', (err) => log.warn({ err }, 'idle worker connection lost'));
  pgPool.on('connect', (client) => client.on('error', (err) => log.warn({ err }, 'worker connection lost')));
  // The tasks' statements run as oriva_system.
  const pool = makePool(databaseUrl, { role: 'oriva_system', max: concurrency + 2, applicationName: 'oriva-worker-tasks' });
  const webhookClient = makeWebhookClient({
    allowlist: config.webhookAllowlist,
    timeoutMs: options.webhookTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    resolver: options.resolver,
  });
  const metrics = makeWorkerMetrics();
  const mailer = options.mailer !== undefined ? options.mailer
    : config.email.smtpUrl ? smtpMailer(config.email.smtpUrl, config.email.timeoutMs) : null;
  if (!mailer) log.warn('SMTP_URL is not set: digests are recorded as failed, no email is sent');
  // Secrets stored in plaintext (from before encryption) or under a key being rotated out.
  await reencryptWebhookSecrets(pool, config.secrets).then(
    (n) => n > 0 && log.info({ webhooks: n, key: config.secrets.primaryId }, 'webhook secrets re-encrypted'),
    (err: Error) => log.error({ err: err.message }, 'webhook secrets could not all be re-encrypted'),
  );
  const admission = new DeliveryAdmission(defaultAdmissionLimits(concurrency, { perApp: config.webhookAppConcurrency, perEndpoint: config.webhookEndpointConcurrency }));
  const events: WorkerEvents = new EventEmitter() as WorkerEvents;
  const heartbeat = startHeartbeat(events, pool, log, options.heartbeat);
  events.on('job:success', ({ job }) => metrics.jobs.inc({ task: job.task_identifier, outcome: 'success' }));
  events.on('job:error', ({ job }) => metrics.jobs.inc({ task: job.task_identifier, outcome: 'error' }));

  const runOptions: RunnerOptions = {
    pgPool,
    concurrency,
    pollInterval: options.pollIntervalMs ?? 500,
    events,
    // Completions and failures go through graphile-worker's batcher even with no delay: when
    // Postgres is gone it shuts the pool down (restarted below, its jobs given back by the
    // heartbeat), where 0.17's direct path leaves an un-awaited completeJob's rejection unhandled.
    // The pool fetches (and locks) up to one job per slot ahead in one query instead of each slot
    // asking for one job at a time: a queued job costs a sixth of the worker CPU (npm run bench --
    // webhooks). The jobs it holds ahead are given back when it stops, and a dead process's by the
    // heartbeat, like the jobs it runs.
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0, localQueue: { size: concurrency } } },
    taskList: options.tasks ?? taskList({ config, databaseUrl, log, pool, webhookClient, admission, metrics, mailer }),
    crontabFile: fromRoot('worker', 'crontab'),
    noHandleSignals: true,
    logger: graphileLogger(log),
  };

  let runner: Runner;
  try {
    runner = await run(runOptions);
  } catch (err) {
    await heartbeat.stop().catch(() => {});
    await webhookClient.close();
    mailer?.close();
    await Promise.all([pool.end(), pgPool.end()]);
    throw err;
  }

  // graphile-worker 0.17 stops its pool by itself when it cannot keep the queue consistent (e.g.
  // Postgres restarted under a job completion). Start a fresh runner then, until closed: the old
  // pool stops beating, and the next heartbeat gives back whatever it still held.
  let closing: Promise<void> | undefined;
  const replaced = new WeakSet<Runner>();
  const replace = (stopped: Runner, why: string, err?: unknown) => {
    if (closing || replaced.has(stopped)) return;
    replaced.add(stopped);
    log.error({ err }, `job runner ${why}; restarting it`);
    void (async () => {
      for (let delayMs = 500; !closing; delayMs = Math.min(delayMs * 2, 10_000)) {
        await sleep(delayMs);
        if (closing) return;
        try {
          const fresh = await run(runOptions);
          if (closing) return void (await fresh.stop());
          runner = fresh;
          log.warn('job runner restarted');
          void watch(fresh);
          return;
        } catch (err) {
          log.warn({ err }, 'job runner could not restart yet');
        }
      }
    })();
  };
  const watch = (current: Runner) =>
    current.promise.then(() => replace(current, 'stopped on its own'), (err: unknown) => replace(current, 'failed', err));
  void watch(runner);

  // Its runner does not always settle, though: after one failed batch, 0.17's job-failure batcher
  // miscounts (batch() in its main.js; graphile/worker#636), and a pool that shut down on its own
  // then never finishes terminating and is never released. A pool still unreleased STUCK_AFTER_MS
  // after its shutdown completed is treated as stopped: forgotten by the heartbeat (its jobs given
  // back), its runner stopped (the cron) and replaced.
  const whenShutDown = ({ workerPool }: { workerPool: { id: string } }) => {
    if (closing) return;
    const current = runner;
    setTimeout(() => {
      if (closing || !heartbeat.beats(workerPool.id)) return;
      heartbeat.forget(workerPool.id);
      current.stop().catch(() => {});
      replace(current, `pool ${workerPool.id} shut down but was never released`);
    }, STUCK_AFTER_MS).unref();
  };
  events.on('pool:gracefulShutdown:complete', whenShutDown);
  events.on('pool:gracefulShutdown:error', whenShutDown);

  const close = async () => {
    heartbeat.closing();
    // Graceful: stop taking jobs and let the ones in flight (deliveries included) finish.
    await runner.stop().catch((err: Error) => {
      if (!/already stopped/.test(err.message)) throw err;
    });
    await heartbeat.stop();
    await webhookClient.close();
    mailer?.close();
    await Promise.all([pool.end(), pgPool.end()]);
  };
  return {
    metrics,
    close: () => (closing ??= close()),
  };
}

/** graphile-worker's log lines go through our pino logger. */
function graphileLogger(log: Logger): GraphileLogger {
  return new GraphileLogger((scope) => (logLevel, message, meta) => {
    const level: string = logLevel; // a const enum of strings, not importable under isolatedModules
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
    if (!log.isLevelEnabled(method)) return; // one line per job otherwise costs a child logger each
    log.child({ ...scope })[method](meta ?? {}, message);
  });
}
