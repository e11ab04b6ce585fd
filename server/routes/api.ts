// The /api/v1 router: each resource installs its routes here.
import Router from '@koa/router';
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
