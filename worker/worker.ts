// The graphile-worker runner: the tasks in worker/tasks and the schedule in worker/crontab.
import { Logger as GraphileLogger, run, type Runner, type TaskList } from 'graphile-worker';
import pg from 'pg';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { fromRoot } from '../lib/paths.js';
import { taskList } from './tasks/index.js';

export interface WorkerHandle {
  runner: Runner;
  close(): Promise<void>;
}

export interface WorkerOptions {
  concurrency?: number;
  tasks?: TaskList;
}

export async function startWorker(config: Config, databaseUrl: string, log: Logger, options: WorkerOptions = {}): Promise<WorkerHandle> {
  // graphile-worker's own pool runs as the login role (it owns the graphile_worker schema).
  const pgPool = new pg.Pool({ connectionString: databaseUrl, max: (options.concurrency ?? config.workerConcurrency) + 4, application_name: 'oriva-worker' });
  pgPool.on('error', (err) => log.warn({ err }, 'idle worker connection lost'));
  pgPool.on('connect', (client) => client.on('error', (err) => log.warn({ err }, 'worker connection lost')));
  const runner = await run({
    pgPool,
    concurrency: options.concurrency ?? config.workerConcurrency,
    taskList: options.tasks ?? taskList({ config, databaseUrl, log }),
    crontabFile: fromRoot('worker', 'crontab'),
    noHandleSignals: true,
    logger: graphileLogger(log),
  });
  let closing: Promise<void> | undefined;
  return {
    runner,
    // Graceful: stop taking jobs, let the ones in flight finish.
    close: () => (closing ??= runner.stop().finally(() => pgPool.end())),
  };
}

/** graphile-worker's log lines go through our pino logger. */
function graphileLogger(log: Logger): GraphileLogger {
  return new GraphileLogger((scope) => (level, message, meta) => {
    const child = log.child({ ...scope });
    const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
    child[method](meta ?? {}, message);
  });
}
