// The real-time gateway: a uWebSockets.js server on /api/v1/events/stream (DESIGN §5).
// Wiring only: auth.ts decides who connects, registry.ts enforces connections per user across
// instances, listener.ts releases committed events in seq order, connections.ts routes them to
// each connection's Transport (transport.ts; ws-transport.ts wraps the uWS sockets made here),
// revocation.ts closes app connections whose API key stopped working.
import { randomUUID } from 'node:crypto';
import type { HttpResponse } from 'uWebSockets.js';
import { checkedGatewayOptions, type Config, type GatewayOptions } from '../lib/config.js';
import { makePool } from '../lib/db.js';
import type { Logger } from '../lib/log.js';
import { verifyUserToken } from '../lib/tokens.js';
import { admitUpgrade, redactQuery, type UpgradeInput } from './auth.js';
import { afterBeyondNewest, holderOf, Hub, newConn, type Conn } from './connections.js';
import { EventListener } from './listener.js';
import { GatewayMetrics } from './metrics.js';
import { loadNativeUws } from './native.js';
import { pollRoutes } from './poll.js';
import { STREAM_PATH } from './protocol.js';
import { ConnectionRegistry } from './registry.js';
import { RevocationWatch } from './revocation.js';
import { WsTransport } from './ws-transport.js';

export interface GatewayHandle {
  url: string;
  port: number;
  instanceId: string;
  /** Released high-water mark (every seq at or below it has been pushed). */
  hwm(): number;
  close(): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = { 400: '400 Bad Request', 401: '401 Unauthorized', 403: '403 Forbidden', 429: '429 Too Many Requests', 503: '503 Service Unavailable' };

function refuse(res: HttpResponse, status: number, code: string, message: string): void {
  res.cork(() => {
    res
      .writeStatus(STATUS_TEXT[status] ?? `${status}`)
      .writeHeader('content-type', 'application/json')
      .end(JSON.stringify({ success: false, error: { code, message } }));
  });
}

/** overrides: values a test sets directly (small intervals), checked by the same rules as config.gateway. */
export async function startGateway(
  config: Config,
  databaseUrl: string,
  log: Logger,
  port = config.gatewayPort,
  overrides: Partial<GatewayOptions> = {},
): Promise<GatewayHandle> {
  const uws = loadNativeUws();
  const options = checkedGatewayOptions({ ...config.gateway, ...overrides });
  const pool = makePool(databaseUrl, { role: 'oriva_system', max: 8, applicationName: 'oriva-gateway' });
  let hub: Hub | null = null;
  let watch: RevocationWatch | null = null;
  const listener = new EventListener(databaseUrl, pool, log, options, {
    onEvents: (rows, notifiedAt) => hub?.release(rows, notifiedAt),
    onConnected: () => watch?.checkAll(),
    onKeysChanged: (appId) => watch?.changed(appId),
    onPreferencesChanged: (change) => hub?.preferencesChanged(change),
  });
  const metrics = new GatewayMetrics({ connections: () => hub?.counts() ?? { user: 0, app: 0 }, hwm: () => listener.hwm, listening: () => listener.listening, releaseLagMs: () => listener.releaseLagMs() });
  hub = new Hub(pool, log, options, metrics, () => listener.hwm, (token) => verifyUserToken(config.jwtSecret, token));
  const connections = hub;
  const revocations = (watch = new RevocationWatch(pool, log, options, connections));
  const limits = { perUser: config.rateLimits.wsConnectionsPerUser, perApp: config.rateLimits.wsConnectionsPerApp };
  const registry = new ConnectionRegistry(pool, log, options, limits, () => connections.holders());
  let closing = false;
  /** Stop every part, in order: connections, key checks, LISTEN, registry, then the pool. */
  const stopParts = async () => {
    await connections.shutdown();
    await revocations.stop();
    await listener.close();
    await registry.stop();
    await pool.end();
  };

  try {
    await registry.start();
    await listener.start();
  } catch (err) {
    await stopParts();
    throw err;
  }

  const app = uws.App();
  app.get('/healthz', (res) => {
    // Degraded (503) while the LISTEN connection is down or events wait longer than the allowed release lag.
    const lagMs = Math.round(listener.releaseLagMs());
    const healthy = listener.listening && lagMs <= options.maxReleaseLagMs;
    res.cork(() => res.writeStatus(healthy ? '200 OK' : '503 Service Unavailable').writeHeader('content-type', 'application/json')
      .end(JSON.stringify({ status: healthy ? 'ok' : 'degraded', listening: listener.listening, release_lag_ms: lagMs })));
  });
  app.get('/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    metrics.registry.metrics().then(
      (text) => {
        if (!aborted) res.cork(() => res.writeHeader('content-type', metrics.registry.contentType).end(text));
      },
      () => {
        if (!aborted) res.cork(() => res.writeStatus('503 Service Unavailable').end());
      },
    );
  });

  pollRoutes(app, { pool, config, options, hub: connections, log, metrics, hwm: () => listener.hwm, closing: () => closing, refuse });

  app.ws<Conn>(STREAM_PATH, {
    // uWS cuts anything over this hard cap without a close frame (1006); between the option and the
    // cap the hub closes with 1009, so a client learns why.
    maxPayloadLength: options.maxPayloadLength * 4,
    idleTimeout: options.idleTimeoutSeconds,
    maxBackpressure: options.maxBackpressure * 2, // hard cap; the hub closes slow consumers at 1×
    closeOnBackpressureLimit: 0,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      // Copy everything from req now: it is invalid after the first await.
      const input: UpgradeInput = {
        authorization: req.getHeader('authorization'),
        protocols: req.getHeader('sec-websocket-protocol'),
        origin: req.getHeader('origin'),
        query: req.getQuery() ?? '',
      };
      const key = req.getHeader('sec-websocket-key');
      const extensions = req.getHeader('sec-websocket-extensions');
      let aborted = false;
      res.onAborted(() => (aborted = true));
      void (async () => {
        if (closing) return refuse(res, 503, 'shutting_down', 'The gateway is shutting down');
        const admission = await admitUpgrade(pool, config, input);
        if (aborted) return;
        if (!admission.ok) {
          metrics.refused.inc({ reason: admission.reason });
          log.debug({ status: admission.status, reason: admission.reason, query: redactQuery(input.query) }, 'upgrade refused');
          return refuse(res, admission.status, admission.reason, admission.message);
        }
        if (admission.after !== null && admission.after > listener.hwm) {
          const newest = await connections.newestSeq();
          if (aborted) return;
          if (admission.after > newest) {
            metrics.refused.inc({ reason: 'bad_query' });
            return refuse(res, 400, 'bad_query', afterBeyondNewest(admission.after, newest));
          }
        }
        const id = randomUUID();
        const route = admission.route;
        if (!(await registry.admit(id, holderOf(route)))) {
          metrics.refused.inc({ reason: 'too_many_connections' });
          const limit = route.kind === 'user' ? `${limits.perUser} connections per user` : `${limits.perApp} connections per app`;
          if (!aborted) refuse(res, 429, 'too_many_connections', `At most ${limit}`);
          return;
        }
        if (aborted) {
          registry.release(id);
          return;
        }
        const conn = newConn(id, route, admission.after, admission.protocol, options.messageBurst);
        res.cork(() => res.upgrade(conn, key, admission.protocol, extensions, context));
      })().catch((err: Error) => {
        log.error({ err }, 'upgrade failed');
        if (!aborted) refuse(res, 503, 'unavailable', 'Try again');
      });
    },
    open: (ws) => {
      const conn = ws.getUserData();
      // Nothing is sent from inside open: after an asynchronous, corked upgrade, a send here can make
      // uWS v20.30 close the fresh socket (uWebSockets issue #1928, fixed upstream by PR #1929).
      const transport = new WsTransport(ws);
      conn.transport = transport;
      setImmediate(() => {
        connections.open(conn, transport);
        revocations.opened(conn);
      });
    },
    message: (ws, data) => connections.message(ws.getUserData(), data),
    drain: (ws) => connections.drain(ws.getUserData()),
    close: (ws, code, message) => {
      const conn = ws.getUserData();
      log.debug({ connectionId: conn.id, code, reason: Buffer.from(message).toString() }, 'connection closed');
      connections.closed(conn);
      // On shutdown the instance row is deleted with all its connections at once.
      if (!closing) registry.release(conn.id);
    },
  });

  const listenSocket = await new Promise<unknown>((resolve, reject) => {
    app.listen(config.host, port, (socket) => (socket ? resolve(socket) : reject(new Error(`port ${port} on ${config.host} is already in use`))));
  }).catch(async (err) => {
    await stopParts();
    throw err;
  });
  const bound = uws.us_socket_local_port(listenSocket as never);
  log.debug({ port: bound, instanceId: registry.instanceId }, 'gateway listening');

  let closed: Promise<void> | null = null;
  return {
    url: `ws://${config.host}:${bound}`,
    port: bound,
    instanceId: registry.instanceId,
    hwm: () => listener.hwm,
    close: () => {
      closed ??= (async () => {
        closing = true;
        uws.us_listen_socket_close(listenSocket as never);
        await stopParts();
      })();
      return closed;
    },
  };
}
