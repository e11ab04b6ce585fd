// Operator CLI. Every command works against the same database `npm start` uses: DATABASE_URL when
// set, else the embedded Postgres under ORIVA_DATA_DIR (reused when running, started when not).
import { parseArgs } from 'node:util';
import { AppNotFoundError, createApp, rotateKey } from '../apps.js';
import { loadConfig, type Config } from '../config.js';
import { resolveDatabase, type Database } from '../database.js';
import { makePool, type Pool } from '../db.js';
import { migrateDatabase } from '../migrate.js';
import { dumpSchema } from '../schema-dump.js';
import { signUserToken } from '../tokens.js';
import { jobsReport } from './jobs.js';
import { ReplayError, replayFailedDeliveries } from './webhooks-replay.js';

const USAGE = `usage: oriva <command>
  apps create --id <app-id> --name <name> [--icon-url URL] [--platform]
  apps rotate-key --id <app-id> [--grace <seconds>]
  token --user <user-id> [--ttl <seconds>]
  migrate
  schema-dump
  jobs                      queue depth per task, failed jobs, disabled webhooks
  webhooks replay --app <app-id> --webhook <webhook-id> --since <ISO time>`;

class UsageError extends Error {}

function option(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function seconds(raw: unknown, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number of seconds`);
  return Number(raw);
}

async function withDatabase<T>(config: Config, fn: (db: Database, pool: Pool) => Promise<T>): Promise<T> {
  const db = await resolveDatabase(config);
  const pool = makePool(db.url, { role: 'oriva_system', max: 2, applicationName: 'oriva-cli' });
  try {
    return await fn(db, pool);
  } finally {
    await pool.end();
    await db.stop();
  }
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      'icon-url': { type: 'string' },
      platform: { type: 'boolean' },
      grace: { type: 'string' },
      user: { type: 'string' },
      ttl: { type: 'string' },
      app: { type: 'string' },
      webhook: { type: 'string' },
      since: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals.join(' ');
  if (values.help || command === '') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig();
  switch (command) {
    case 'apps create': {
      const app = { id: option(values, 'id'), name: option(values, 'name'), iconUrl: values['icon-url'] ?? null, platform: values.platform ?? false };
      print(await withDatabase(config, (_db, pool) => createApp(pool, app)));
      return;
    }
    case 'apps rotate-key': {
      const id = option(values, 'id');
      const grace = seconds(values.grace, 'grace', 0);
      print(await withDatabase(config, (_db, pool) => rotateKey(pool, id, grace)));
      return;
    }
    case 'token': {
      const ttl = seconds(values.ttl, 'ttl', 3600);
      process.stdout.write(`${await signUserToken(config.jwtSecret, option(values, 'user'), ttl)}\n`);
      return;
    }
    case 'migrate':
      await withDatabase(config, (db) => migrateDatabase(db.url));
      process.stderr.write('migrations are current\n');
      return;
    case 'schema-dump':
      process.stdout.write(await withDatabase(config, (_db, pool) => dumpSchema(pool)));
      return;
    case 'jobs':
      process.stdout.write(`${JSON.stringify(await withDatabase(config, (_db, pool) => jobsReport(pool)), null, 2)}\n`);
      return;
    case 'webhooks replay': {
      const app = option(values, 'app');
      const webhook = option(values, 'webhook');
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(webhook)) throw new UsageError('--webhook must be a webhook id (uuid)');
      const since = new Date(option(values, 'since'));
      if (Number.isNaN(since.getTime())) throw new UsageError('--since must be an ISO 8601 time, e.g. 2025-09-30T00:00:00Z');
      print(await withDatabase(config, (_db, pool) => replayFailedDeliveries(pool, app, webhook, since)));
      return;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`oriva: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const pgErr = err as { code?: string; detail?: string };
  if (err instanceof AppNotFoundError || err instanceof ReplayError) process.stderr.write(`oriva: ${err.message}\n`);
  else if (pgErr.code === '23505') process.stderr.write(`oriva: already exists: ${pgErr.detail ?? (err as Error).message}\n`);
  else if (pgErr.code === '23514') process.stderr.write(`oriva: invalid value: ${(err as Error).message}\n`);
  else process.stderr.write(`oriva: ${(err as Error).message}\n`);
  process.exit(1);
}
