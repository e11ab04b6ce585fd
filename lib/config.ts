// One validated configuration for every process. Each process reads what it needs; a bad value
// stops the process with one line naming the variable (see ConfigError and exitOnConfigError).
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseSecretsKey, SecretsKeyError, type Keyring } from './secrets.js';

export class ConfigError extends Error {}

export interface Config {
  nodeEnv: string;
  databaseUrl: string | undefined; // undefined: use the embedded Postgres
  dataDir: string;
  embeddedPgPort: number;
  port: number;
  gatewayPort: number;
  workerMetricsPort: number;
  host: string;
  jwtSecret: string;
  /** Keys for webhook secrets at rest (lib/secrets.ts). */
  secrets: Keyring;
  webhookAllowlist: string[];
  allowedOrigins: string[];
  retentionDays: number;
  workerConcurrency: number;
  /** Most webhooks one app may have (an app's endpoints are what its deliveries cost the worker). */
  webhooksPerApp: number;
  /** Webhook calls of one app / to one endpoint at once per worker process; null: derived from its concurrency. */
  webhookAppConcurrency: number | null;
  webhookEndpointConcurrency: number | null;
  logLevel: string;
  rateLimits: {
    windowMs: number;
    events: number;
    notifications: number;
    queries: number;
    webhooks: number;
    wsConnectionsPerUser: number;
    wsConnectionsPerApp: number;
  };
}

const DEV_JWT_SECRET = 'oriva-dev-only-secret-do-not-use-in-production';
/** Development only, when neither SECRETS_KEY nor the data dir's key file (written by npm start) exists. */
const DEV_SECRETS_KEY = `dev:${Buffer.from('oriva-dev-only-key-not-for-prod!').toString('base64')}`;
/** The file in ORIVA_DATA_DIR where `npm start` keeps its generated SECRETS_KEY. */
export const DEV_SECRETS_KEY_FILE = 'secrets.key';

function secretsKeyring(env: NodeJS.ProcessEnv, nodeEnv: string, dataDir: string): Keyring {
  let raw = env.SECRETS_KEY ?? '';
  if (raw === '') {
    if (nodeEnv === 'production') throw new ConfigError('SECRETS_KEY is required when NODE_ENV=production (generate one: npx oriva secrets generate-key)');
    const file = join(dataDir, DEV_SECRETS_KEY_FILE);
    raw = existsSync(file) ? readFileSync(file, 'utf8').trim() : DEV_SECRETS_KEY;
  }
  try {
    return parseSecretsKey(raw);
  } catch (err) {
    if (err instanceof SecretsKeyError) throw new ConfigError(err.message);
    throw err;
  }
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] {
  return (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function databaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got ${url.protocol}//`);
  }
  if (!url.hostname && !url.searchParams.get('host')) throw new ConfigError('DATABASE_URL has no host');
  if (url.pathname.length <= 1) throw new ConfigError('DATABASE_URL names no database');
  return raw;
}

function allowlistEntry(entry: string): string {
  const [addr, bits] = entry.split('/');
  if (bits !== undefined && (!isIP(addr ?? '') || !/^\d{1,3}$/.test(bits))) {
    throw new ConfigError(`WEBHOOK_ALLOWLIST entry ${JSON.stringify(entry)} is not a host, an IP or a CIDR`);
  }
  return entry.toLowerCase();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  const jwtSecret = env.JWT_SECRET ?? '';
  if (nodeEnv === 'production' && jwtSecret === '') {
    throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
  }
  if (jwtSecret !== '' && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 characters');
  }
  const dataDir = env.ORIVA_DATA_DIR || '.data';
  return {
    nodeEnv,
    databaseUrl: databaseUrl(env.DATABASE_URL),
    dataDir,
    secrets: secretsKeyring(env, nodeEnv, dataDir),
    embeddedPgPort: int(env, 'ORIVA_PG_PORT', 54329, 1, 65535),
    port: int(env, 'PORT', 3000, 0, 65535),
    gatewayPort: int(env, 'GATEWAY_PORT', 3001, 0, 65535),
    workerMetricsPort: int(env, 'WORKER_METRICS_PORT', 3002, 0, 65535),
    host: env.HOST || '127.0.0.1',
    jwtSecret: jwtSecret || DEV_JWT_SECRET,
    webhookAllowlist: list(env, 'WEBHOOK_ALLOWLIST').map(allowlistEntry),
    allowedOrigins: list(env, 'ALLOWED_ORIGINS'),
    retentionDays: int(env, 'RETENTION_DAYS', 90, 1, 36500),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 10, 1, 1000),
    webhooksPerApp: int(env, 'WEBHOOKS_PER_APP_MAX', 20, 1, 10_000),
    webhookAppConcurrency: env.WEBHOOK_APP_CONCURRENCY ? int(env, 'WEBHOOK_APP_CONCURRENCY', 1, 1, 1000) : null,
    webhookEndpointConcurrency: env.WEBHOOK_ENDPOINT_CONCURRENCY ? int(env, 'WEBHOOK_ENDPOINT_CONCURRENCY', 1, 1, 1000) : null,
    logLevel: env.LOG_LEVEL || (nodeEnv === 'test' ? 'warn' : 'info'),
    rateLimits: {
      windowMs: int(env, 'RATE_LIMIT_WINDOW_MS', 15 * 60 * 1000, 1000, 24 * 3600 * 1000),
      events: int(env, 'RATE_LIMIT_EVENTS', 1000, 1, 10_000_000),
      notifications: int(env, 'RATE_LIMIT_NOTIFICATIONS', 500, 1, 10_000_000),
      queries: int(env, 'RATE_LIMIT_QUERIES', 1000, 1, 10_000_000),
      webhooks: int(env, 'RATE_LIMIT_WEBHOOKS', 50, 1, 10_000_000),
      wsConnectionsPerUser: int(env, 'WS_MAX_CONNECTIONS_PER_USER', 10, 1, 10_000),
      wsConnectionsPerApp: int(env, 'WS_MAX_CONNECTIONS_PER_APP', 100, 1, 1_000_000),
    },
  };
}

/** Print one clear line and exit non-zero: the shape every entry point uses for startup failures. */
export function exitOnStartupError(processName: string, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${processName}: cannot start: ${message}\n`);
  process.exit(1);
}
