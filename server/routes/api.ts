// The /api/v1 router: each resource installs its routes here.
import Router from '@koa/router';
import type { AppDeps } from '../app.js';

export function apiRouter(_deps: AppDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  return router;
}
