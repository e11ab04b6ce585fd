// /metrics (Prometheus text). Hot-path counters are plain numbers read at scrape time, so a
// fan-out of thousands of messages costs no prom-client call per message. Plus prom-client's
// default process metrics (memory, CPU, event-loop lag, handles), as the server and worker export.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GatewayStats {
  connections(): { user: number; app: number };
  hwm(): number;
  listening(): boolean;
  /** ms since the oldest committed, unreleased event became known (0 when caught up). */
  releaseLagMs(): number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  messagesOut = 0;
  readonly refused: Counter<'reason'>;
  readonly closed: Counter<'reason'>;
  readonly lag: Histogram;
  readonly unserialisable: Counter;

  constructor(stats: GatewayStats) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client binds `this` in collect() to the metric
    const self = this;
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'oriva_gateway_connections',
      help: 'Open WebSocket connections on this instance',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        const { user, app } = stats.connections();
        this.set({ kind: 'user' }, user);
        this.set({ kind: 'app' }, app);
      },
    });
    new Counter({
      name: 'oriva_gateway_messages_out_total',
      help: 'Messages sent to clients (events, counts, control)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(self.messagesOut);
      },
    });
    new Gauge({
      name: 'oriva_gateway_released_seq',
      help: 'Safe high-water mark: every event seq at or below it has been released',
      registers: [this.registry],
      collect() {
        this.set(stats.hwm());
      },
    });
    new Gauge({
      name: 'oriva_gateway_listening',
      help: '1 while the LISTEN connection is up',
      registers: [this.registry],
      collect() {
        this.set(stats.listening() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'oriva_gateway_release_lag_seconds',
      help: 'How long the oldest committed but unreleased event has waited (0 when caught up)',
      registers: [this.registry],
      collect() {
        this.set(stats.releaseLagMs() / 1000);
      },
    });
    this.unserialisable = new Counter({
      name: 'oriva_gateway_unserialisable_events_total',
      help: 'Events whose event_data could not be serialised; sent without it',
      registers: [this.registry],
    });
    this.refused = new Counter({ name: 'oriva_gateway_upgrades_refused_total', help: 'Upgrades refused, by reason', labelNames: ['reason'], registers: [this.registry] });
    this.closed = new Counter({ name: 'oriva_gateway_closed_by_server_total', help: 'Connections closed by the gateway, by reason', labelNames: ['reason'], registers: [this.registry] });
    this.lag = new Histogram({
      name: 'oriva_gateway_commit_to_push_seconds',
      help: 'From the NOTIFY of an event (sent at its commit) to its push to the connections',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [this.registry],
    });
  }
}
