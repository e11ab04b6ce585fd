// A webhook's delivery log and replays: list every attempt, resend one delivery, resend every
// failed delivery since a time. Replays keep the original webhook-id (the delivery id is derived
// from webhook and event) and go through the worker like any attempt. Row-level security limits
// both tables to the calling app; another app's webhook is 403, an unknown one 404 (as the other
// webhook routes answer).
import type Router from '@koa/router';
import { run, type PoolClient } from '../../lib/db.js';
import { AppError, forbidden, notFound } from '../../lib/errors.js';
import { closed } from '../../lib/schemas/common.js';
import { sqlFile, sqlStatement } from '../../lib/sql.js';
import { decodeCursor, encodeCursor, TIMESTAMP_TEXT, UUID } from './cursor.js';
import { defineRoute, type RouteDeps } from './define.js';
import { webhookNotVisible, webhookRateLimit, webhookReadRateLimit } from './webhooks.js';

const findWebhook = sqlFile('deliveries/find_webhook');
const listDeliveries = sqlStatement<{
  webhook_id: string; delivery_id: string | null; success: boolean | null; cursor_at: string | null; cursor_id: string | null; limit: number;
}, AttemptRow>('deliveries/list');
const findDelivery = sqlFile('deliveries/find_delivery');
const scheduleAttempt = sqlFile('deliveries/schedule_attempt');
const replayFailedSince = sqlFile('deliveries/replay_failed_since');


const webhookParams = {
  type: 'object',
  required: ['appId', 'id'],
  properties: { appId: { type: 'string' }, id: { type: 'string', format: 'uuid', description: 'the webhook id' } },
} as const;

const deliveryAttempt = closed({
    id: { type: 'string', format: 'uuid' },
    delivery_id: { type: 'string', description: 'the webhook-id header: the same for every attempt and replay of one event to one webhook' },
    event_id: { type: ['string', 'null'], format: 'uuid' },
    event_type: { type: 'string' },
    delivery_attempt: { type: 'integer' },
    success: { type: 'boolean' },
    status_code: { type: ['integer', 'null'] },
    response_time_ms: { type: ['integer', 'null'] },
    error_message: { type: ['string', 'null'] },
    response_body: { type: ['string', 'null'], description: 'the first 4 KiB of the response' },
    delivered_at: { type: 'string', format: 'date-time' },
});

const replayed = closed({ success: { const: true }, replayed: { type: 'integer' }, delivery_ids: { type: 'array', items: { type: 'string' } } });

type AttemptRow = Record<string, unknown> & { id: string; delivered_at: Date; cursor_at: string };

interface ListQuery {
  limit?: number;
  cursor?: string;
  success?: boolean;
  delivery_id?: string;
}

/** The app's webhook (appId null: any the caller may read), or 403/404; a disabled one cannot be replayed to (409). */
async function visibleWebhook(client: PoolClient, id: string, appId: string | null, { mustBeActive = false } = {}): Promise<void> {
  const [hook] = await run<{ is_active: boolean; disabled_reason: string | null }>(client, findWebhook, [id, appId]);
  if (!hook) throw await webhookNotVisible(client, id);
  if (mustBeActive && !hook.is_active) {
    throw new AppError(409, 'webhook_disabled', `The webhook is disabled (${hook.disabled_reason ?? 'turned off'}); turn it back on with PATCH {"is_active": true} first`);
  }
}

/** Queue a fresh attempt of every failed delivery of the webhook since `since` (the two replay routes). */
async function replayFailed(client: PoolClient, webhookId: string, appId: string | null, since: string) {
  await visibleWebhook(client, webhookId, appId, { mustBeActive: true });
  const rows = await run<{ delivery_id: string }>(client, replayFailedSince, [webhookId, since]);
  return { status: 202, body: { success: true, replayed: rows.length, delivery_ids: rows.map((r) => r.delivery_id) } };
}

export function webhookDeliveryRoutes(router: Router, deps: RouteDeps): void {
  defineRoute<{ appId: string; id: string }, ListQuery>(router, deps, {
    method: 'get',
    path: '/apps/:appId/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: "A webhook's delivery log (every attempt, newest first)",
    description: 'Each row is one attempt: its status code, time taken, error and the first 4 KiB of the answer. Reading it spends the query budget, not the webhook-management budget. Page with next_cursor.',
    tag: 'Webhooks',
    who: 'app',
    params: webhookParams,
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
        cursor: { type: 'string', maxLength: 200, description: 'next_cursor of the previous page' },
        success: { type: 'boolean', description: 'only successful (true) or failed (false) attempts' },
        delivery_id: { type: 'string', maxLength: 100, description: 'only the attempts of this delivery' },
      },
    },
    rateLimit: webhookReadRateLimit,
    success: {
      status: 200,
      description: 'One page of attempts',
      schema: closed({ success: { const: true }, deliveries: { type: 'array', items: deliveryAttempt }, next_cursor: { type: ['string', 'null'] } }),
    },
    errors: [400, 403, 404, 429],
  }, async ({ params, query, read }) => {
    const limit = query.limit ?? 100;
    const [cursorAt, cursorId] = query.cursor ? decodeCursor(query.cursor, [TIMESTAMP_TEXT, UUID]) : [null, null];
    const rows = await read(async (client) => {
      await visibleWebhook(client, params.id, params.appId);
      return run(client, listDeliveries, {
        webhook_id: params.id, delivery_id: query.delivery_id ?? null, success: query.success ?? null, cursor_at: cursorAt, cursor_id: cursorId, limit: limit + 1,
      });
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      status: 200,
      body: {
        success: true,
        deliveries: page.map(({ cursor_at: _cursor, delivered_at, ...row }) => ({ ...row, delivered_at: delivered_at.toISOString() })),
        next_cursor: rows.length > limit && last ? encodeCursor([last.cursor_at, last.id]) : null,
      },
    };
  });

  defineRoute<{ appId: string; id: string; deliveryId: string }>(router, deps, {
    method: 'post',
    path: '/apps/:appId/webhooks/:id/deliveries/:deliveryId/replay',
    operationId: 'replayWebhookDelivery',
    summary: 'Send one delivery again (same webhook-id)',
    description: 'Queues a fresh attempt (with its own retry schedule) of the delivery; the receiver sees the same webhook-id.',
    tag: 'Webhooks',
    who: 'app',
    params: { ...webhookParams, required: ['appId', 'id', 'deliveryId'], properties: { ...webhookParams.properties, deliveryId: { type: 'string', maxLength: 100 } } },
    body: { type: 'object', additionalProperties: false, maxProperties: 0, description: 'no body, or {}' },
    rateLimit: webhookRateLimit,
    success: { status: 202, description: 'Queued', schema: closed({ success: { const: true }, delivery_id: { type: 'string' }, queued: { const: true } }), example: { success: true, delivery_id: 'msg_2b1e…', queued: true } },
    errors: [400, 403, 404, 409, 429],
  }, async ({ params, write }) =>
    write(async (client) => {
      await visibleWebhook(client, params.id, params.appId, { mustBeActive: true });
      const [delivery] = await run<{ event_id: string; delivery_id: string }>(client, findDelivery, [params.id, params.deliveryId]);
      if (!delivery) throw notFound('No delivery with this id for this webhook');
      await run(client, scheduleAttempt, [params.id, delivery.event_id, 1, 0]);
      return { status: 202, body: { success: true, delivery_id: delivery.delivery_id, queued: true } };
    }));

  defineRoute<{ appId: string; id: string }, Record<string, never>, { since: string }>(router, deps, {
    method: 'post',
    path: '/apps/:appId/webhooks/:id/replay',
    operationId: 'replayFailedWebhookDeliveries',
    summary: 'Send again every failed delivery since a time',
    description: 'Every delivery of this webhook attempted at or after `since` whose attempts all failed gets a fresh attempt (same webhook-id).',
    tag: 'Webhooks',
    who: 'app',
    params: webhookParams,
    body: { type: 'object', required: ['since'], additionalProperties: false, properties: { since: { type: 'string', format: 'date-time' } } },
    bodyRequired: true,
    requestExample: { since: '2025-09-30T00:00:00Z' },
    rateLimit: webhookRateLimit,
    success: { status: 202, description: 'Queued', schema: replayed, example: { success: true, replayed: 2, delivery_ids: ['msg_…', 'msg_…'] } },
    errors: [400, 403, 404, 409, 413, 415, 429],
  }, async ({ params, body, write }) => write((client) => replayFailed(client, params.id, params.appId, body.since)));

  defineRoute<{ id: string }, Record<string, never>, { since?: string }>(router, deps, {
    method: 'post',
    path: '/webhook-health/:id/replay',
    operationId: 'replayFailedDeliveriesAsOperator',
    summary: "Send again any app's failed deliveries (platform apps)",
    description: 'The admin console\'s replay: what POST /apps/{appId}/webhooks/{id}/replay does, for a webhook of any app, since `since` (default: 24 hours ago). For platform apps only.',
    tag: 'Operators',
    who: 'app',
    params: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid', description: 'the webhook id' } } },
    body: { type: 'object', additionalProperties: false, properties: { since: { type: 'string', format: 'date-time', description: 'default: 24 hours ago' } } },
    rateLimit: webhookRateLimit,
    success: { status: 202, description: 'Queued', schema: replayed, example: { success: true, replayed: 2, delivery_ids: ['msg_…', 'msg_…'] } },
    errors: [400, 403, 404, 409, 413, 415, 429],
  }, async ({ caller, params, body, write }) => {
    if (caller.kind !== 'app' || !caller.platform) throw forbidden('Webhook health is for platform apps');
    const since = body?.since ?? new Date(Date.now() - 24 * 3_600_000).toISOString();
    return write((client) => replayFailed(client, params.id, null, since));
  });
}
