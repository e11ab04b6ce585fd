// The gateway's defaults are the contract's values; GATEWAY_* variables override; bad values fail fast.
import t from 'tap';
import { CLOSE } from '../../gateway/protocol.js';
import { ConfigError, DEFAULT_GATEWAY_OPTIONS, gatewayOptions, loadConfig } from '../../lib/config.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, testConfig } from '../helpers/stack.js';
import { Client, gateway } from './helpers.js';

t.test('defaults', async (t) => {
  t.same(gatewayOptions({}), DEFAULT_GATEWAY_OPTIONS);
  t.match(DEFAULT_GATEWAY_OPTIONS, {
    pingIntervalMs: 30_000, // DESIGN §5: ping every 30 s
    idleTimeoutSeconds: 64, // two missed pings
    maxPayloadLength: 4096,
    maxBackpressure: 512 * 1024,
    heartbeatMs: 10_000,
    instanceStaleMs: 30_000, // a crashed instance locks nobody out for more than 60 s
  });
  t.equal(testConfig().rateLimits.wsConnectionsPerUser, 10, 'DESIGN §6: 10 connections per user');
});

t.test('environment overrides and validation', async (t) => {
  t.equal(gatewayOptions({ GATEWAY_PING_INTERVAL_MS: '5000' }).pingIntervalMs, 5000);
  t.throws(() => gatewayOptions({ GATEWAY_PING_INTERVAL_MS: 'soon' }), /GATEWAY_PING_INTERVAL_MS must be a positive whole number/);
  t.throws(() => gatewayOptions({ GATEWAY_INSTANCE_STALE_MS: '120000' }), /at most 60000/);
  t.throws(() => gatewayOptions({ GATEWAY_IDLE_TIMEOUT_S: '20' }), /longer than GATEWAY_PING_INTERVAL_MS/);
  t.throws(() => gatewayOptions({}, { heartbeatMs: 40_000 }), /shorter than GATEWAY_INSTANCE_STALE_MS/);
});

t.test('the gateway options are part of the one validated configuration', async (t) => {
  t.same(loadConfig({}).gateway, DEFAULT_GATEWAY_OPTIONS);
  t.equal(loadConfig({ GATEWAY_REPLAY_LIMIT: '500' }).gateway.replayLimit, 500);
  t.throws(() => loadConfig({ GATEWAY_PAGE_SIZE: '0' }), { constructor: ConfigError, message: 'GATEWAY_PAGE_SIZE must be a positive whole number, got "0"' });
  t.throws(() => loadConfig({ GATEWAY_HEARTBEAT_MS: '30000' }), { constructor: ConfigError, message: /^GATEWAY_HEARTBEAT_MS must be shorter than GATEWAY_INSTANCE_STALE_MS/ });
});

t.test('a GATEWAY_* variable in the configuration reaches the running gateway', async (t) => {
  const db = await testDatabase(t);
  const gw = await gateway(t, db.url, { GATEWAY_MAX_PAYLOAD_BYTES: '256' });
  const app = await createTestApp(db, { id: 'work-buddy' });
  const client = await Client.open(t, gw, { headers: app.auth });
  client.send({ type: 'subscribe', events: ['x'.repeat(300)] }); // under the default 4096, over 256
  const accepted = client.next((m) => m.type === 'subscribed', 5000).catch(() => 'no reply');
  t.same(await Promise.race([client.closed, accepted]), { code: CLOSE.tooBig, reason: 'message over 256 bytes' });
});
