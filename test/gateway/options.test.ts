// The gateway's defaults are the contract's values; GATEWAY_* variables override; bad values fail fast.
import t from 'tap';
import { DEFAULT_GATEWAY_OPTIONS, gatewayOptions } from '../../gateway/options.js';
import { testConfig } from '../helpers/stack.js';

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
