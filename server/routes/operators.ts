// What the admin console (/admin, DESIGN §12) reads besides the stats: who the caller is, webhook
// health across apps (failing and disabled endpoints with their last errors; the replay is in
// webhook-deliveries.ts), and notification search by words, app, user, type and category. Webhook
// health and search are for platform apps only.
import type Router from '@koa/router';
import { run } from '../../lib/db.js';
import { forbidden } from '../../lib/errors.js';
import { callerKey, type Caller } from '../../lib/callers.js';
import { appId, closed, nullableTimestamp, plainLine, timestamp, userId, uuid } from '../../lib/schemas/common.js';
import { NOTIFICATION_CATEGORIES, PRIORITIES } from '../../lib/schemas/notifications.js';
import { NOTIFICATION_STATUSES } from '../../lib/notification-states.js';
import { sqlFile, sqlStatement } from '../../lib/sql.js';
import { defineRoute, type RouteDeps } from './define.js';
import { serialize } from './webhooks.js';

const webhookHealth = sqlFile('operators/webhook_health');
const searchNotifications = sqlStatement<
  { q: string | null; app_id: string | null; user_id: string | null; notification_type: string | null; category: string | null; limit: number },
  Record<string, unknown> & { created_at: Date }
>('operators/search_notifications');

const perCaller = { name: 'queries' as const, key: callerKey };

function requirePlatform(caller: Caller, what: string): void {
  if (caller.kind !== 'app' || !caller.platform) throw forbidden(`${what} is for platform apps`);
}

const me = closed({
  success: { const: true },
  caller: {
    oneOf: [
      closed({ kind: { const: 'app' }, app_id: appId, name: { type: 'string' }, platform: { type: 'boolean' } }),
      closed({ kind: { const: 'user' }, user_id: userId }),
    ],
  },
});

const webhookHealthItem = closed({
  webhook_id: uuid,
  app_id: appId,
  app_name: { type: 'string' },
  url: { type: 'string' },
  is_active: { type: 'boolean' },
  disabled_reason: { type: ['string', 'null'] },
  failing_since: { ...nullableTimestamp, description: 'set while more than 10% of at least 20 attempts in 15 minutes fail (webhook.failing)' },
  last_success_at: nullableTimestamp,
  last_failure_at: nullableTimestamp,
  consecutive_failures: { type: 'integer' },
  attempts: { type: 'integer', description: 'attempts in the last 15 minutes' },
  failed: { type: 'integer', description: 'failed attempts in the last 15 minutes' },
  last_errors: {
    type: 'array',
    maxItems: 3,
    items: closed({ delivery_id: { type: 'string' }, at: timestamp, status_code: { type: ['integer', 'null'] }, error: { type: ['string', 'null'] } }),
  },
});

const searchItem = closed({
  id: uuid, app_id: appId, user_id: { type: ['string', 'null'], description: 'null: a broadcast' },
  notification_type: { type: 'string' }, category: { enum: NOTIFICATION_CATEGORIES }, priority: { enum: PRIORITIES },
  title: { type: 'string' }, body: { type: 'string' }, created_at: timestamp,
  status: { type: ['string', 'null'], enum: [...NOTIFICATION_STATUSES, null], description: "the user's state; null for a broadcast or one their preferences kept out of the feed" },
});

interface SearchQuery { q?: string; app_id?: string; user_id?: string; notification_type?: string; category?: string; limit?: number }

export function operatorRoutes(router: Router, deps: RouteDeps): void {
  defineRoute(router, deps, {
    method: 'get',
    path: '/me',
    operationId: 'getCaller',
    summary: 'Who the credentials belong to',
    description: 'An API key: its app, and whether it is a platform app; a user token: its user. The admin console signs in with it.',
    tag: 'Operators',
    who: 'any',
    rateLimit: perCaller,
    success: { status: 200, description: 'The caller', schema: me, example: { success: true, caller: { kind: 'app', app_id: 'oriva-core', name: 'Oriva Core', platform: true } } },
    errors: [429],
  }, ({ caller }) => Promise.resolve({
    status: 200,
    body: {
      success: true,
      caller: caller.kind === 'app'
        ? { kind: 'app', app_id: caller.appId, name: caller.appName, platform: caller.platform }
        : { kind: 'user', user_id: caller.userId },
    },
  }));

  defineRoute(router, deps, {
    method: 'get',
    path: '/webhook-health',
    operationId: 'getWebhookHealth',
    summary: 'Failing and disabled webhooks of every app (platform apps)',
    description: 'Webhooks failing now (webhook.failing), disabled, or with a failed attempt in the last 24 hours, each with its last 15 minutes and its last three errors: failing first, then disabled. At most 200. Replay with POST /webhook-health/{id}/replay.',
    tag: 'Operators',
    who: 'app',
    rateLimit: perCaller,
    success: { status: 200, description: 'The webhooks that need attention', schema: closed({ success: { const: true }, webhooks: { type: 'array', items: webhookHealthItem } }) },
    errors: [403, 429],
  }, async ({ caller, read }) => {
    requirePlatform(caller, 'Webhook health');
    const rows = await read((client) => run(client, webhookHealth));
    const webhooks = rows.map(serialize);
    return { status: 200, body: { success: true, webhooks } };
  });

  defineRoute<Record<string, never>, SearchQuery>(router, deps, {
    method: 'get',
    path: '/search/notifications',
    operationId: 'searchNotifications',
    summary: 'Find notifications of any app by words, app, user, type and category (platform apps)',
    description: 'q is matched against the words of the title and body (full-text, web-search syntax: words, "a phrase", -word, or); filters combine (AND). Newest first, at most limit (default 50).',
    tag: 'Operators',
    who: 'app',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        q: plainLine(1, 200),
        app_id: appId,
        user_id: userId,
        notification_type: plainLine(1, 64),
        category: { enum: NOTIFICATION_CATEGORIES },
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
      },
    },
    rateLimit: perCaller,
    success: { status: 200, description: 'The notifications found', schema: closed({ success: { const: true }, notifications: { type: 'array', items: searchItem } }) },
    errors: [400, 403, 429],
  }, async ({ caller, query, read }) => {
    requirePlatform(caller, 'Notification search');
    const rows = await read((client) => run(client, searchNotifications, {
      q: query.q ?? null, app_id: query.app_id ?? null, user_id: query.user_id ?? null,
      notification_type: query.notification_type ?? null, category: query.category ?? null, limit: query.limit ?? 50,
    }));
    return { status: 200, body: { success: true, notifications: rows.map((row) => ({ ...row, created_at: row.created_at.toISOString() })) } };
  });
}
