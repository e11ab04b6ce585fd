// The /api/v1 router: each resource installs its routes here.
import Router from '@koa/router';
import type { AppDeps } from '../app.js';
import { GroupCommit } from '../group-commit.js';
import { rateLimiters } from '../middleware/rate-limit.js';
import type { RouteDeps } from './define.js';
import { broadcastRoutes } from './broadcasts.js';
import { eventRoutes } from './events.js';
import { eventTypeRoutes } from './event-types.js';
import { installationRoutes } from './installations.js';
import { preferenceRoutes } from './preferences.js';
import { deliveryRoutes } from './deliveries.js';
import { operatorRoutes } from './operators.js';
import { statsRoutes } from './stats.js';
import { templateRoutes } from './templates.js';
import { topicRoutes } from './topics.js';
import { notificationRoutes } from './notifications.js';
import { webhookRoutes } from './webhooks.js';
import { webhookDeliveryRoutes } from './webhook-deliveries.js';

/** What the routes share: the rate limiters, and the group commit that takes its members' hits through them. */
export function routeDeps(deps: AppDeps): RouteDeps {
  const limits = rateLimiters(deps.pool, deps.config);
  return { ...deps, limits, commits: new GroupCommit(deps.pool, deps.config.groupCommit, (hits) => limits.takeShared(hits)) };
}

export function apiRouter(deps: RouteDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  eventRoutes(router, deps);
  eventTypeRoutes(router, deps);
  installationRoutes(router, deps);
  preferenceRoutes(router, deps);
  deliveryRoutes(router, deps);
  templateRoutes(router, deps);
  notificationRoutes(router, deps);
  topicRoutes(router, deps);
  broadcastRoutes(router, deps);
  webhookRoutes(router, deps);
  webhookDeliveryRoutes(router, deps);
  statsRoutes(router, deps);
  operatorRoutes(router, deps);
  return router;
}
