// Operator CLI. Every command works against the same database `npm start` uses: DATABASE_URL when
// set, else the embedded Postgres under ORIVA_DATA_DIR (reused when running, started when not).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AppNotFoundError, createApp, rotateKey } from '../apps.js';
import { loadConfig, type Config } from '../config.js';
import { resolveDatabase, type Database } from '../database.js';
import { makePool, type Pool } from '../db.js';
import { migrateDatabase } from '../migrate.js';
import { fromRoot } from '../paths.js';
import { appId as appIdSchema, userId as userIdSchema } from '../schemas/common.js';
import { dumpSchema } from '../schema-dump.js';
import { generateSecretsKey } from '../secrets.js';
import { signUserToken } from '../tokens.js';
import { reencryptWebhookSecrets } from '../webhooks/reencrypt.js';
import { emailsReport } from './emails.js';
import { jobsReport } from './jobs.js';
import { ReplayError, replayFailedDeliveries } from './webhooks-replay.js';

const USAGE = `usage: oriva <command>
  apps create --id <app-id> --name <name> [--icon-url https://…] [--platform]
  apps rotate-key --id <app-id> [--grace <seconds>]
  token --user <user-id> [--ttl <seconds, at least 1>]
  migrate
  schema-dump
  jobs                      queue depth per task, failed jobs, disabled webhooks
  emails --user <user-id>   a user's pending email deliveries and recent emails
  webhooks replay --app <app-id> --webhook <webhook-id> --since <ISO time>
  secrets generate-key [--id <key id>]   a new SECRETS_KEY value (one AES-256 key)
  secrets reencrypt         encrypt every webhook secret with SECRETS_KEY's first key
  --version, --help`;

/** The options each command takes; any other is a usage error. */
const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  'apps create': ['id', 'name', 'icon-url', 'platform'],
  'apps rotate-key': ['id', 'grace'],
  token: ['user', 'ttl'],
  migrate: [],
  'schema-dump': [],
  jobs: [],
  emails: ['user'],
  'webhooks replay': ['app', 'webhook', 'since'],
  'secrets generate-key': ['id'],
  'secrets reencrypt': [],
};

/** Wrong arguments: usage on stderr, exit 2. */
class UsageError extends Error {}

function option(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** An id option checked against the pattern the API and the schema enforce. */
function idOption(values: Record<string, unknown>, name: string, schema: { pattern: string }): string {
  const value = option(values, name);
  if (!new RegExp(schema.pattern).test(value)) throw new UsageError(`--${name} ${JSON.stringify(value)} does not match ${schema.pattern}`);
  return value;
}

function seconds(raw: unknown, name: string, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || Number(raw) < min) {
    throw new UsageError(`--${name} must be a whole number of seconds${min > 0 ? `, at least ${min}` : ''}`);
  }
  return Number(raw);
}

function appName(values: Record<string, unknown>): string {
  const name = option(values, 'name');
  if (name.length > 100 || /\p{Cc}/u.test(name)) throw new UsageError('--name must be 1-100 characters without control characters');
  return name;
}

function iconUrl(raw: string | boolean | undefined): string | null {
  if (raw === undefined) return null;
  const text = String(raw);
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    url = null;
  }
  if (!url || url.protocol !== 'https:' || text.length > 2048) throw new UsageError('--icon-url must be an https:// URL of at most 2048 characters');
  return text;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
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
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    // node:util's messages ("Unknown option '--x'", "Option '--ttl <value>' argument missing"), first sentence.
    throw new UsageError((err as Error).message.split('. ')[0]);
  }
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
  const { positionals, values } = parse(argv);
  const command = positionals.join(' ');
  if (values.version) {
    process.stdout.write(`${(JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string }).version}\n`);
    return;
  }
  if (values.help || command === '') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const stray = Object.keys(values).find((name) => !allowed.includes(name));
  if (stray) throw new UsageError(`${command} takes no --${stray}`);
  if (command === 'secrets generate-key') {
    // Needs no configuration: it makes the SECRETS_KEY a production configuration requires.
    const id = values.id === undefined ? 'k1' : String(values.id);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new UsageError('--id must be 1-32 letters, digits, _ or -');
    process.stdout.write(`${generateSecretsKey(id)}\n`);
    return;
  }
  const config = loadConfig();
  switch (command) {
    case 'apps create': {
      const app = { id: idOption(values, 'id', appIdSchema), name: appName(values), iconUrl: iconUrl(values['icon-url']), platform: values.platform ?? false };
      print(await withDatabase(config, (_db, pool) => createApp(pool, app)));
      return;
    }
    case 'apps rotate-key': {
      const id = idOption(values, 'id', appIdSchema);
      const grace = seconds(values.grace, 'grace', 0);
      print(await withDatabase(config, (_db, pool) => rotateKey(pool, id, grace)));
      return;
    }
    case 'token': {
      const user = idOption(values, 'user', userIdSchema);
      const ttl = seconds(values.ttl, 'ttl', 3600, 1);
      process.stdout.write(`${await signUserToken(config.jwtSecret, user, ttl)}\n`);
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
    case 'emails': {
      const user = idOption(values, 'user', userIdSchema);
      process.stdout.write(`${JSON.stringify(await withDatabase(config, (_db, pool) => emailsReport(pool, user)), null, 2)}\n`);
      return;
    }
    case 'webhooks replay': {
      const app = idOption(values, 'app', appIdSchema);
      const webhook = option(values, 'webhook');
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(webhook)) throw new UsageError('--webhook must be a webhook id (uuid)');
      const since = new Date(option(values, 'since'));
      if (Number.isNaN(since.getTime())) throw new UsageError('--since must be an ISO 8601 time, e.g. 2025-09-30T00:00:00Z');
      print(await withDatabase(config, (_db, pool) => replayFailedDeliveries(pool, app, webhook, since)));
      return;
    }
    case 'secrets reencrypt':
      print({ reencrypted: await withDatabase(config, (_db, pool) => reencryptWebhookSecrets(pool, config.secrets)), key: config.secrets.primaryId });
      return;
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
