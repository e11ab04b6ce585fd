// makeApp(deps): the middleware list, top to bottom.
import Koa from 'koa';
import type { Config } from '../lib/config.js';
import type { Pool } from '../lib/db.js';
import type { Logger } from '../lib/log.js';
import { errorEnvelope } from './middleware/errors.js';
import { authenticate } from './middleware/auth.js';
import { requestId } from './middleware/request-id.js';
import { apiRouter } from './routes/api.js';
import { healthRoutes } from './routes/health.js';
import { pageRoutes, type DemoCredentials } from './routes/page.js';

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
  app.use(requestId());
  app.use(errorEnvelope(log));
  const health = healthRoutes(pool);
  app.use(health.routes()).use(health.allowedMethods());
  app.use(pageRoutes(deps).routes());
  app.use(authenticate(pool, config));
  const api = apiRouter(deps);
  app.use(api.routes()).use(api.allowedMethods());
  return app;
}
