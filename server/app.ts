// makeApp(deps): the middleware list, top to bottom.
import Koa from 'koa';
import type { Config } from '../lib/config.js';
import type { Pool } from '../lib/db.js';
import type { Logger } from '../lib/log.js';
import { errorEnvelope } from './middleware/errors.js';
import { requestId } from './middleware/request-id.js';
import { healthRoutes } from './routes/health.js';

export interface AppDeps {
  config: Config;
  pool: Pool; // connections run as oriva_api
  log: Logger;
}

export function makeApp({ pool, log }: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  app.use(requestId());
  app.use(errorEnvelope(log));
  const health = healthRoutes(pool);
  app.use(health.routes()).use(health.allowedMethods());
  return app;
}
