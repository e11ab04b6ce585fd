// POST /apps/:appId/events (a generic event) and GET /apps/:appId/events (the app's event log).
import type Router from '@koa/router';
import { run } from '../../lib/db.js';
import { storedAppJson } from '../../lib/app-json.js';
import { AppError, notInstalled } from '../../lib/errors.js';
import { isReservedCategory, toEventMessage, type EventRow } from '../../lib/events.js';
import { eventCreate, eventCreated, eventCreateExample, eventList, eventQuery } from '../../lib/schemas/events.js';
import { sqlStatement } from '../../lib/sql.js';
import { decodeCursor, encodeCursor, INTEGER } from './cursor.js';
import { defineRoute, type RouteDeps } from './define.js';
import type { GroupKind } from '../group-commit.js';
import type { Reply } from '../middleware/idempotency.js';

const insertEvents = sqlStatement<{
  app_id: string; install_required: boolean; user_ids: string[]; event_categories: string[]; event_types: string[]; entity_types: string[];
  entity_ids: string[]; event_data: string[]; ip_addresses: (string | null)[]; user_agents: (string | null)[];
}, { ord: number; id: string | null; seq: number | null; created_at: Date | null }>('events/insert');

/** One event as the route received it, ready to record (event_data with its source, as JSON text). */
interface NewEvent {
  user_id: string; event_category: string; event_type: string; entity_type: string; entity_id: string;
  event_data: string; ip_address: string | null; user_agent: string | null;
}

const listEvents = sqlStatement<{
  app_id: string; event_category: string | null; event_type: string | null; user_id: string | null; entity_id: string | null;
  start_date: string | null; end_date: string | null; limit: number; offset: number;
  cursor_created_us: string | null; cursor_seq: string | null;
}, EventRow & { created_us: string }>('events/list');

interface EventBody {
  event_category: string;
  event_type: string;
  entity_type: string;
  entity_id: string;
  user_id: string;
  event_data?: Record<string, unknown>;
}

interface EventQuery {
  event_category?: string;
  event_type?: string;
  user_id?: string;
  entity_id?: string;
  start_date?: string;
  end_date?: string;
  limit: number;
  offset: number;
  cursor?: string;
}

const perApp = (caller: { kind: string; appId?: string }) => `app:${caller.appId}`;

export function eventRoutes(router: Router, deps: RouteDeps): void {
  /** POST /apps/:appId/events: each event's answer, alone or sharing a transaction with others. */
  const publish: GroupKind<NewEvent> = {
    name: 'event',
    async write(client, appId, items) {
      const column = <K extends keyof NewEvent>(k: K) => items.map((e) => e[k]);
      const rows = await run(client, insertEvents, {
        app_id: appId, install_required: deps.config.installRequired, user_ids: column('user_id'), event_categories: column('event_category'),
        event_types: column('event_type'), entity_types: column('entity_type'), entity_ids: column('entity_id'), event_data: column('event_data'),
        ip_addresses: column('ip_address'), user_agents: column('user_agent'),
      });
      return rows.map((row, i): Reply | AppError => row.id === null
        ? notInstalled(items[i]!.user_id)
        : { status: 200, body: { success: true, event_id: row.id, seq: row.seq, timestamp: row.created_at!.toISOString() } });
    },
  };

  defineRoute<{ appId: string }, Record<string, never>, EventBody>(router, deps, {
    method: 'post',
    path: '/apps/:appId/events',
    operationId: 'publishEvent',
    summary: 'Publish a generic platform event',
    description: "Stored in the event log (with a monotonic seq), delivered to matching webhooks of this app and pushed over WebSockets. event_data.source is always the app's id (set by the platform). The platform's own categories (notification, app, webhook, broadcast, preferences) are refused with 400 reserved_category. An event about a user who has not installed the app is a 403 not_installed (platform apps are exempt); a platform app's event also reaches the webhooks and app connections of every app its user installed.",
    tag: 'Events',
    who: 'app',
    body: eventCreate,
    bodyRequired: true,
    requestExample: eventCreateExample,
    rateLimit: { name: 'events', key: perApp, takenWhenShared: true },
    idempotent: true,
    success: { status: 200, description: 'Stored', schema: eventCreated, example: { success: true, event_id: '0b9d3d3e-4c1f-4f57-9d59-0c1e5b0f3a11', seq: 42, timestamp: '2025-09-30T10:30:00.000Z' } },
    errors: [400, 403, 409, 413, 415, 422, 429],
  }, async ({ ctx, params, body, share }) => {
    if (isReservedCategory(body.event_category)) {
      throw new AppError(400, 'reserved_category', `event_category "${body.event_category}" is reserved for events the platform emits`, [
        { path: 'body/event_category', message: 'is reserved for events the platform emits' },
      ]);
    }
    return share(publish, {
      user_id: body.user_id, event_category: body.event_category, event_type: body.event_type, entity_type: body.entity_type,
      entity_id: body.entity_id, event_data: JSON.stringify({ ...body.event_data, source: params.appId }),
      ip_address: ctx.ip || null, user_agent: ctx.get('user-agent').slice(0, 512) || null,
    });
  });

  defineRoute<{ appId: string }, EventQuery>(router, deps, {
    method: 'get',
    path: '/apps/:appId/events',
    operationId: 'listEvents',
    summary: "Query the app's events, newest first",
    description: 'Filters combine (AND). Page with limit and offset, or with the next_cursor of the previous page (keyset: stable while events arrive). Only events the calling app owns are listed.',
    tag: 'Events',
    who: 'app',
    query: eventQuery,
    rateLimit: { name: 'queries', key: perApp },
    success: {
      status: 200, description: 'A page of events', schema: eventList,
      example: {
        success: true,
        events: [{ id: '0b9d3d3e-4c1f-4f57-9d59-0c1e5b0f3a11', event_id: '0b9d3d3e-4c1f-4f57-9d59-0c1e5b0f3a11', seq: 42, app_id: 'work-buddy', event_category: 'notification', event_type: 'dismissed', entity_type: 'notification', entity_id: 'wb_notif_123', user_id: 'user_456', event_data: { source: 'work-buddy' }, timestamp: '2025-09-30T10:30:00.000Z' }],
        pagination: { limit: 100, offset: 0, has_more: false, next_cursor: null },
      },
    },
    errors: [400, 403, 429],
  }, async ({ params, query, read }) => {
    const [createdUs, seq] = query.cursor ? decodeCursor(query.cursor, [INTEGER, INTEGER]) : [null, null];
    const rows = await read((client) =>
      run(client, listEvents, {
        app_id: params.appId, event_category: query.event_category ?? null, event_type: query.event_type ?? null,
        user_id: query.user_id ?? null, entity_id: query.entity_id ?? null, start_date: query.start_date ?? null,
        end_date: query.end_date ?? null, limit: query.limit + 1, offset: query.offset, cursor_created_us: createdUs, cursor_seq: seq,
      }));
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const hasMore = rows.length > query.limit;
    return {
      status: 200,
      body: {
        success: true,
        events: page.map((row) => ({ id: row.id, ...toEventMessage(row), event_data: storedAppJson('event_data', row.event_data) })),
        pagination: { limit: query.limit, offset: query.offset, has_more: hasMore, next_cursor: hasMore && last ? encodeCursor([last.created_us, last.seq]) : null },
      },
    };
  });
}
