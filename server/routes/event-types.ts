// GET /event-types: the catalog of the event types the platform emits, each with the JSON Schema of
// its event_data (the same catalog as the `webhooks` section of /openapi.json).
import type Router from '@koa/router';
import { callerKey } from '../../lib/callers.js';
import { eventTypeList, PLATFORM_EVENT_TYPES } from '../../lib/schemas/event-types.js';
import { defineRoute, type RouteDeps } from './define.js';

export function eventTypeRoutes(router: Router, deps: RouteDeps): void {
  defineRoute(router, deps, {
    method: 'get',
    path: '/event-types',
    operationId: 'listEventTypes',
    summary: 'The event types the platform emits',
    description: "Each with its name, what it means and the JSON Schema of its event_data. Apps' own categories are theirs to describe; every event's event_data.source is set by the platform.",
    tag: 'Events',
    who: 'any',
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 200, description: 'The catalog', schema: eventTypeList, example: { success: true, event_types: [{ name: PLATFORM_EVENT_TYPES[0]!.name, description: PLATFORM_EVENT_TYPES[0]!.description, data: { type: 'object' } }] } },
    errors: [429],
  }, () => Promise.resolve({ status: 200, body: { success: true, event_types: PLATFORM_EVENT_TYPES } }));
}
