// makeApp(deps): the middleware list, top to bottom.
import Koa from 'koa';
import type { Config } from '../lib/config.js';
import type { Pool } from '../lib/db.js';
import { notFound } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { accessLog } from './middleware/access-log.js';
import { errorEnvelope } from './middleware/errors.js';
import { authenticate } from './middleware/auth.js';
import { requestId } from './middleware/request-id.js';
import { apiRouter, routeDeps } from './routes/api.js';
import { healthRoutes } from './routes/health.js';
import { serverMetrics } from './routes/metrics.js';
import { openApiRoutes } from './routes/openapi.js';
import { pageRoutes, type DemoCredentials } from './routes/page.js';
import { unsubscribeRoutes } from './routes/unsubscribe.js';

export interface AppDeps {
  config: Config;
  pool: Pool; // connections run as oriva_api
  log: Logger;
  demo?: DemoCredentials | undefined; // npm start only: prefills the notification center page
}

export function makeApp(deps: AppDeps): Koa {
  const { config, pool, log } = deps;
  const app = new Koa({ proxy: false });
  app.silent = true;
  const routes = routeDeps(deps);
  const metrics = serverMetrics(routes.commits.stats);
  app.use(metrics.measure);
  app.use(requestId());
  app.use(accessLog(log));
  app.use(errorEnvelope(log, { checkBodies: config.nodeEnv !== 'production' }));
  app.use(plainJsonResponses());
  const health = healthRoutes(pool);
  app.use(health.routes()).use(health.allowedMethods());
  app.use(metrics.routes.routes());
  const openapi = openApiRoutes();
  app.use(openapi.routes()).use(openapi.allowedMethods());
  app.use(pageRoutes(deps).routes());
  app.use(unsubscribeRoutes(deps).routes());
  app.use(unknownEndpoint());
  app.use(authenticate(pool, config));
  const api = apiRouter(routes);
  app.use(api.routes()).use(api.allowedMethods({ throw: true }));
  return app;
}

/** Nothing answered (no route, no method mismatch): a 404 in the one error envelope. */
function unknownEndpoint(): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body == null) throw notFound('No such endpoint');
  };
}

/** Responses are data, never documents a browser would render or sniff. */
function plainJsonResponses(): Koa.Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}
