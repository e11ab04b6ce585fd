// GET /metrics: Prometheus text for this server process — requests by route and status, their
// latency, and the process' default metrics.
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  /** First in the chain: counts and times every request, labelled by the matched route. */
  measure: Middleware;
  routes: Router;
}

export function serverMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'oriva_http_requests_total',
    help: 'HTTP requests, by method, matched route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'oriva_http_request_duration_seconds',
    help: 'HTTP request latency, by method and matched route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const measure: Middleware = async (ctx, next) => {
    const stop = seconds.startTimer();
    try {
      await next();
    } finally {
      // the route pattern, never the raw path: ids must not become label values
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      stop({ method: ctx.method, route });
      requests.inc({ method: ctx.method, route, status: String(ctx.status) });
    }
  };
  const routes = new Router();
  routes.get('/metrics', async (ctx) => {
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return { measure, routes };
}
