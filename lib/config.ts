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
  /** INSTALL_REQUIRED: an app reaches only users who installed it (platform apps always). */
  installRequired: boolean;
  /** Single creates sharing transactions (server/group-commit.ts). */
  groupCommit: {
    /** GROUP_COMMIT (default on): off, every create commits alone. */
    enabled: boolean;
    /** GROUP_COMMIT_FLUSHES: shared transactions in flight at once per server process, at most. */
    flushes: number;
    /**
     * GROUP_COMMIT_MORE_AT (default 16): a flush beyond the first starts only while this many creates
     * wait. Each flush pays a transaction's fixed cost, so fewer flushes make larger groups. Side by
     * side (bench/compare-trees.ts), against two flushes that start whenever one is free: 19% less CPU
     * per request at 1,000 req/s and 29% more at the closed-loop maximum; against one flush: the same
     * CPU, 37% more at the maximum (issue 19). At 16 members a flush's fixed part is about a quarter
     * of it.
     */
    moreAt: number;
    /** GROUP_COMMIT_MAX: most creates in one shared transaction. */
    maxMembers: number;
  };
  logLevel: string;
  rateLimits: {
    windowMs: number;
    events: number;
    notifications: number;
    queries: number;
    webhooks: number;
    /** Broadcasts per app per broadcastWindowMs (their own, lower limit: DESIGN §11). */
    broadcasts: number;
    broadcastWindowMs: number;
    wsConnectionsPerUser: number;
    wsConnectionsPerApp: number;
  };
  /** The gateway's tunables (GATEWAY_* variables). */
  gateway: GatewayOptions;
  /** The email channel (DESIGN §10). */
  email: EmailOptions;
}

export interface EmailOptions {
  /** SMTP_URL (smtp:// or smtps://, credentials in the URL); null: the worker sends no email. */
  smtpUrl: string | null;
  /** EMAIL_FROM: the From address, optionally with a display name ("Oriva <notify@example.com>"). */
  from: string;
  /** PUBLIC_URL: where users reach the notification center and the unsubscribe page. */
  publicUrl: string;
  /** One SMTP conversation's limit (connect, greeting, each command); slower counts as a temporary failure. */
  timeoutMs: number;
  /** Attempts per email before it is given up as failed; retries wait retryBaseMs × 4^(attempt-1). */
  maxAttempts: number;
  retryBaseMs: number;
  /** How long a worker holds a claimed digest; after it (the worker died) another sends it again. */
  leaseMs: number;
  /** How long an unsubscribe link works. */
  unsubscribeTtlDays: number;
}

/** The gateway's tunables. Defaults are the contract (DESIGN §5, §6); tests pass small values to startGateway. */
export interface GatewayOptions {
  /** A ping to every connection this often. */
  pingIntervalMs: number;
  /** uWebSockets.js closes a connection silent this long (seconds, resolution 4 s). */
  idleTimeoutSeconds: number;
  /** Largest client message; a bigger one closes the connection (1009). */
  maxPayloadLength: number;
  /** Bytes queued for one connection before it counts as a slow consumer and is closed (1013). */
  maxBackpressure: number;
  /** Client messages per second (token bucket refill) and burst size; over it: close 1008. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Most events one resume replays; further behind gets a `gap` message. */
  replayLimit: number;
  /** Live events buffered for a connection while its replay runs; over it: close 1013. */
  pendingLimit: number;
  /** How often expired user tokens are looked for (closed with 1008). */
  tokenSweepMs: number;
  /** Instance heartbeat, and the age after which a silent instance's connections stop counting. */
  heartbeatMs: number;
  instanceStaleMs: number;
  /** LISTEN reconnect backoff, doubling from min to max. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Rows read per pump round trip. */
  pageSize: number;
  /** /healthz says degraded (503) when a committed event has waited longer than this to be released. */
  maxReleaseLagMs: number;
}

export const DEFAULT_GATEWAY_OPTIONS: Readonly<GatewayOptions> = Object.freeze({
  pingIntervalMs: 30_000,
  idleTimeoutSeconds: 64,
  maxPayloadLength: 4096,
  maxBackpressure: 512 * 1024,
  messagesPerSecond: 10,
  messageBurst: 20,
  replayLimit: 10_000,
  pendingLimit: 10_000,
  tokenSweepMs: 1000,
  heartbeatMs: 10_000,
  instanceStaleMs: 30_000,
  reconnectMinMs: 100,
  reconnectMaxMs: 5000,
  pageSize: 1000,
  maxReleaseLagMs: 10_000,
});

const GATEWAY_ENV: Record<keyof GatewayOptions, string> = {
  pingIntervalMs: 'GATEWAY_PING_INTERVAL_MS',
  idleTimeoutSeconds: 'GATEWAY_IDLE_TIMEOUT_S',
  maxPayloadLength: 'GATEWAY_MAX_PAYLOAD_BYTES',
  maxBackpressure: 'GATEWAY_MAX_BACKPRESSURE_BYTES',
  messagesPerSecond: 'GATEWAY_MESSAGES_PER_SECOND',
  messageBurst: 'GATEWAY_MESSAGE_BURST',
  replayLimit: 'GATEWAY_REPLAY_LIMIT',
  pendingLimit: 'GATEWAY_PENDING_LIMIT',
  tokenSweepMs: 'GATEWAY_TOKEN_SWEEP_MS',
  heartbeatMs: 'GATEWAY_HEARTBEAT_MS',
  instanceStaleMs: 'GATEWAY_INSTANCE_STALE_MS',
  reconnectMinMs: 'GATEWAY_RECONNECT_MIN_MS',
  reconnectMaxMs: 'GATEWAY_RECONNECT_MAX_MS',
  pageSize: 'GATEWAY_PAGE_SIZE',
  maxReleaseLagMs: 'GATEWAY_MAX_RELEASE_LAG_MS',
};

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

/** A whole number from min to max (no upper bound when max is Infinity); unset or empty: the fallback. */
function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Infinity): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (value >= min && value <= max) return value;
  if (max === Infinity) {
    const wanted = min === 1 ? 'a positive whole number' : `a whole number of at least ${min}`;
    throw new ConfigError(`${name} must be ${wanted}, got ${JSON.stringify(raw)}`);
  }
  if (Number.isNaN(value)) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '') return fallback;
  if (['true', '1', 'on', 'yes'].includes(raw)) return true;
  if (['false', '0', 'off', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
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

/** Defaults, overridden by GATEWAY_* variables, then by explicit overrides; validated. */
export function gatewayOptions(env: NodeJS.ProcessEnv = process.env, overrides: Partial<GatewayOptions> = {}): GatewayOptions {
  const options = { ...DEFAULT_GATEWAY_OPTIONS };
  for (const key of Object.keys(GATEWAY_ENV) as (keyof GatewayOptions)[]) options[key] = int(env, GATEWAY_ENV[key], options[key], 1);
  return checkedGatewayOptions({ ...options, ...overrides });
}

/** The rules between the gateway's values; also run on the values a test passes to startGateway. */
export function checkedGatewayOptions(options: GatewayOptions): GatewayOptions {
  if (options.idleTimeoutSeconds < 8) throw new ConfigError('GATEWAY_IDLE_TIMEOUT_S must be at least 8 (uWebSockets.js resolution is 4 s)');
  if (options.idleTimeoutSeconds * 1000 <= options.pingIntervalMs) {
    throw new ConfigError('GATEWAY_IDLE_TIMEOUT_S must be longer than GATEWAY_PING_INTERVAL_MS, or live connections time out');
  }
  if (options.instanceStaleMs > 60_000) throw new ConfigError('GATEWAY_INSTANCE_STALE_MS must be at most 60000: a crashed instance may lock a user out for at most 60 s');
  if (options.heartbeatMs >= options.instanceStaleMs) throw new ConfigError('GATEWAY_HEARTBEAT_MS must be shorter than GATEWAY_INSTANCE_STALE_MS');
  if (options.reconnectMinMs > options.reconnectMaxMs) throw new ConfigError('GATEWAY_RECONNECT_MIN_MS must not exceed GATEWAY_RECONNECT_MAX_MS');
  return options;
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
    installRequired: bool(env, 'INSTALL_REQUIRED', true),
    groupCommit: {
      enabled: bool(env, 'GROUP_COMMIT', true),
      flushes: int(env, 'GROUP_COMMIT_FLUSHES', 2, 1, 64),
      moreAt: int(env, 'GROUP_COMMIT_MORE_AT', 16, 1, 1000),
      maxMembers: int(env, 'GROUP_COMMIT_MAX', 100, 1, 1000),
    },
    logLevel: env.LOG_LEVEL || (nodeEnv === 'test' ? 'warn' : 'info'),
    rateLimits: {
      windowMs: int(env, 'RATE_LIMIT_WINDOW_MS', 15 * 60 * 1000, 1000, 24 * 3600 * 1000),
      events: int(env, 'RATE_LIMIT_EVENTS', 1000, 1, 10_000_000),
      notifications: int(env, 'RATE_LIMIT_NOTIFICATIONS', 500, 1, 10_000_000),
      queries: int(env, 'RATE_LIMIT_QUERIES', 1000, 1, 10_000_000),
      webhooks: int(env, 'RATE_LIMIT_WEBHOOKS', 50, 1, 10_000_000),
      broadcasts: int(env, 'RATE_LIMIT_BROADCASTS', 10, 1, 10_000_000),
      broadcastWindowMs: int(env, 'RATE_LIMIT_BROADCASTS_WINDOW_MS', 3600 * 1000, 1000, 24 * 3600 * 1000),
      wsConnectionsPerUser: int(env, 'WS_MAX_CONNECTIONS_PER_USER', 10, 1, 10_000),
      wsConnectionsPerApp: int(env, 'WS_MAX_CONNECTIONS_PER_APP', 100, 1, 1_000_000),
    },
    gateway: gatewayOptions(env),
    email: emailOptions(env, nodeEnv, int(env, 'PORT', 3000, 0, 65535)),
  };
}

// An addr-spec, optionally inside a display name: "Name <local@domain>" or local@domain.
const FROM = /^(?:[^<>\r\n]{1,100} )?<?[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>?$/;

function emailOptions(env: NodeJS.ProcessEnv, nodeEnv: string, port: number): EmailOptions {
  const smtpUrl = env.SMTP_URL || null;
  if (smtpUrl !== null) {
    let url: URL;
    try {
      url = new URL(smtpUrl);
    } catch {
      throw new ConfigError('SMTP_URL is not a URL (expected smtp://user:pass@host:587 or smtps://host:465)');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new ConfigError(`SMTP_URL must use smtp: or smtps: (got ${url.protocol})`);
    if (!url.hostname) throw new ConfigError('SMTP_URL has no host');
  }
  const from = env.EMAIL_FROM || '';
  if (from === '' && smtpUrl !== null && nodeEnv === 'production') throw new ConfigError('EMAIL_FROM is required when SMTP_URL is set and NODE_ENV=production');
  if (from !== '' && !FROM.test(from)) throw new ConfigError('EMAIL_FROM must be an email address, optionally with a name: "Oriva <notify@example.com>"');
  const publicUrl = env.PUBLIC_URL || `http://localhost:${port}`;
  if (!/^https?:\/\/[^/\s]+\/?$/.test(publicUrl)) throw new ConfigError('PUBLIC_URL must be an http(s) origin such as https://notifications.example.com');
  return {
    smtpUrl,
    from: from || 'Oriva Notifications <notifications@localhost>',
    publicUrl: publicUrl.replace(/\/$/, ''),
    timeoutMs: int(env, 'EMAIL_TIMEOUT_MS', 15_000, 100, 300_000),
    maxAttempts: int(env, 'EMAIL_MAX_ATTEMPTS', 6, 1, 50),
    retryBaseMs: int(env, 'EMAIL_RETRY_BASE_MS', 30_000, 10, 3_600_000),
    leaseMs: int(env, 'EMAIL_LEASE_MS', 120_000, 1000, 3_600_000),
    unsubscribeTtlDays: int(env, 'UNSUBSCRIBE_TTL_DAYS', 60, 1, 3650),
  };
}

/** Print one clear line and exit non-zero: the shape every entry point uses for startup failures. */
export function exitOnStartupError(processName: string, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${processName}: cannot start: ${message}\n`);
  process.exit(1);
}
