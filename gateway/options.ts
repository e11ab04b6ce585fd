// The gateway's tunables. Defaults are the contract (DESIGN §5, §6); GATEWAY_* variables override
// them for operators, and tests pass small values so that pings, heartbeats and expiry run fast.
import { ConfigError } from '../lib/config.js';

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

const ENV: Record<keyof GatewayOptions, string> = {
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

/** Defaults, overridden by GATEWAY_* variables, then by explicit overrides; validated. */
export function gatewayOptions(env: NodeJS.ProcessEnv = process.env, overrides: Partial<GatewayOptions> = {}): GatewayOptions {
  const options = { ...DEFAULT_GATEWAY_OPTIONS };
  for (const key of Object.keys(ENV) as (keyof GatewayOptions)[]) {
    const raw = env[ENV[key]];
    if (raw === undefined || raw === '') continue;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ConfigError(`${ENV[key]} must be a positive whole number, got ${JSON.stringify(raw)}`);
    options[key] = Number(raw);
  }
  Object.assign(options, overrides);
  if (options.idleTimeoutSeconds < 8) throw new ConfigError('GATEWAY_IDLE_TIMEOUT_S must be at least 8 (uWebSockets.js resolution is 4 s)');
  if (options.idleTimeoutSeconds * 1000 <= options.pingIntervalMs) {
    throw new ConfigError('GATEWAY_IDLE_TIMEOUT_S must be longer than GATEWAY_PING_INTERVAL_MS, or live connections time out');
  }
  if (options.instanceStaleMs > 60_000) throw new ConfigError('GATEWAY_INSTANCE_STALE_MS must be at most 60000: a crashed instance may lock a user out for at most 60 s');
  if (options.heartbeatMs >= options.instanceStaleMs) throw new ConfigError('GATEWAY_HEARTBEAT_MS must be shorter than GATEWAY_INSTANCE_STALE_MS');
  if (options.reconnectMinMs > options.reconnectMaxMs) throw new ConfigError('GATEWAY_RECONNECT_MIN_MS must not exceed GATEWAY_RECONNECT_MAX_MS');
  return options;
}
