// Prometheus metrics of one worker process, served as text on WORKER_METRICS_PORT at /metrics.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { listen } from '../lib/listen.js';

export interface WorkerMetrics {
  registry: Registry;
  deliveries: Counter<'outcome'>;
  deliveryFailures: Counter<'reason'>;
  deliveriesDeferred: Counter<'reason'>;
  deliverySeconds: Histogram<'outcome'>;
  jobs: Counter<'task' | 'outcome'>;
  emails: Counter<'outcome'>;
  webhookAlerts: Counter<'alert'>;
  webhooksFailing: Gauge;
}

export function makeWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    deliveries: new Counter({
      name: 'oriva_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by outcome (success, failure)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    deliveriesDeferred: new Counter({
      name: 'oriva_webhook_deliveries_deferred_total',
      help: 'Attempts put off without calling: breaker_open (the endpoint keeps failing) or busy (its app or endpoint used its share of the worker)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deliveryFailures: new Counter({
      name: 'oriva_webhook_delivery_failures_total',
      help: 'Failed webhook delivery attempts, by reason (status class, timeout, refused, network)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deliverySeconds: new Histogram({
      name: 'oriva_webhook_delivery_duration_seconds',
      help: 'Time from request start to the end of the (capped) response, per attempt',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    emails: new Counter({
      name: 'oriva_emails_total',
      help: 'Email sends, by outcome (sent, retry, failed, bouncing)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookAlerts: new Counter({
      name: 'oriva_webhook_alerts_total',
      help: 'Webhook health alerts raised by this worker, by alert (failing, recovered, disabled)',
      labelNames: ['alert'],
      registers: [registry],
    }),
    webhooksFailing: new Gauge({
      name: 'oriva_webhooks_failing',
      help: 'Active webhooks in a failing episode (more than 10% of at least 20 attempts failed in 15 minutes), as of the last health check',
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'oriva_worker_jobs_total',
      help: 'Jobs run by this worker, by task and outcome',
      labelNames: ['task', 'outcome'],
      registers: [registry],
    }),
  };
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: WorkerMetrics, port: number, host: string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500).end();
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const bound = await listen(server, port, host);
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => undefined),
  };
}
