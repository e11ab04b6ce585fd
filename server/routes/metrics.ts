// GET /metrics: Prometheus text for this server process — requests by route and status, their
// latency, how creates shared transactions (group commit), and the process' default metrics.
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GroupCommitStats } from '../group-commit.js';

export interface ServerMetrics {
  /** First in the chain: counts and times every request, labelled by the matched route. */
  measure: Middleware;
  routes: Router;
}

export function serverMetrics(groupCommit: GroupCommitStats): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counted = (name: string, help: string, value: () => number) =>
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(value()); } });
  counted('oriva_group_commit_flushes_total', 'Transactions single creates shared (group commit), committed', () => groupCommit.flushes);
  counted('oriva_group_commit_members_total', 'Creates written in those transactions (members / flushes: the mean group)', () => groupCommit.members);
  counted('oriva_group_commit_splits_total', 'Shared transactions a failing statement rolled back: their members were written again one by one', () => groupCommit.splits);
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
