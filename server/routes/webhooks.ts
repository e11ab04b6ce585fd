// Webhook management: create (the secret is shown once), list (never the secret), update, delete,
// rotate the secret (the old one keeps signing for 24 hours). URLs pass the SSRF policy.
import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import { run, type PoolClient } from '../../lib/db.js';
import { AppError, forbidden, notFound } from '../../lib/errors.js';
import { uuid } from '../../lib/schemas/common.js';
import { secretRotated, webhookCreate, webhookCreated, webhookCreateExample, webhookList, webhookUpdate, webhookUpdated } from '../../lib/schemas/webhooks.js';
import { encryptSecret } from '../../lib/secrets.js';
import { sqlFile, sqlStatement } from '../../lib/sql.js';
import { checkWebhookUrl } from '../../lib/webhooks/url-policy.js';
import type { Caller } from '../../lib/callers.js';
import { defineRoute, type RouteDeps } from './define.js';

const insertWebhook = sqlStatement<{
  app_id: string; webhook_url: string; webhook_secret: string; subscribed_events: string[]; is_active: boolean;
  max_retries: number | null; retry_backoff_seconds: number | null; max_webhooks: number;
}, WebhookRow>('webhooks/insert');
const lockAppWebhooks = sqlFile('webhooks/lock_app');
const listWebhooks = sqlFile('webhooks/list');
const updateWebhook = sqlStatement<{
  id: string; app_id: string; webhook_url: string | null; subscribed_events: string[] | null; is_active: boolean | null;
  max_retries: number | null; retry_backoff_seconds: number | null;
}, WebhookRow>('webhooks/update');
const deleteWebhook = sqlFile('webhooks/delete');
const rotateSecret = sqlFile('webhooks/rotate_secret');
const webhookOwner = sqlFile('webhooks/owner');

/** Standard Webhooks secret: whsec_ + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

interface WebhookInput {
  webhook_url?: string;
  subscribed_events?: string[];
  is_active?: boolean;
  max_retries?: number;
  retry_backoff_seconds?: number;
}

type WebhookRow = Record<string, unknown> & { id: string; created_at: Date };

const exampleWebhook = { id: '2d7c9f0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f', app_id: 'work-buddy', webhook_url: 'https://workbuddy.com/api/oriva-events', subscribed_events: ['notification.*'], is_active: true, disabled_reason: null, max_retries: 5, retry_backoff_seconds: 1, consecutive_failures: 0, total_deliveries: 0, total_failures: 0, last_delivery_at: null, last_success_at: null, last_failure_at: null, created_at: '2025-09-30T10:00:00.000Z', updated_at: '2025-09-30T10:00:00.000Z' };

const webhookParams = {
  type: 'object',
  required: ['appId', 'id'],
  properties: { appId: { type: 'string' }, id: { ...uuid, description: 'the webhook id' } },
} as const;

/** Every webhook route counts against the app's webhook-management limit. */
export const webhookRateLimit = { name: 'webhooks' as const, key: (caller: Caller) => `app:${caller.kind === 'app' ? caller.appId : ''}` };
/** Reading the delivery log is a query: it spends the app's query budget, not webhook management's. */
export const webhookReadRateLimit = { name: 'queries' as const, key: webhookRateLimit.key };

/** After a scoped statement found nothing: 403 when the webhook belongs to another app. */
export async function webhookNotVisible(client: PoolClient, id: string): Promise<AppError> {
  const [owner] = await run<{ app_id: string | null }>(client, webhookOwner, [id]);
  return owner?.app_id ? forbidden('This webhook belongs to another app') : notFound('Webhook not found');
}

/** A row as JSON: its timestamps as ISO strings. */
export function serialize(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
}

export function webhookRoutes(router: Router, deps: RouteDeps): void {
  const urlRefusal = async (url: string | undefined) => {
    if (url === undefined) return;
    const reason = await checkWebhookUrl(url, deps.config.webhookAllowlist);
    if (reason) throw new AppError(400, 'invalid_webhook_url', reason, [{ path: 'body/webhook_url', message: reason }]);
  };

  defineRoute<{ appId: string }, Record<string, never>, WebhookInput & { webhook_url: string; subscribed_events: string[] }>(router, deps, {
    method: 'post',
    path: '/apps/:appId/webhooks',
    operationId: 'createWebhook',
    summary: 'Subscribe a URL to event patterns',
    description: 'Patterns: an exact type (notification.dismissed), category.* or *. The URL must be https and not resolve to a private, loopback, link-local, CGNAT or metadata address (unless allowlisted). webhook_secret (whsec_…) is returned once. An app has at most WEBHOOKS_PER_APP_MAX webhooks (default 20); one more is 409 webhook_limit.',
    tag: 'Webhooks',
    who: 'app',
    body: webhookCreate,
    bodyRequired: true,
    requestExample: webhookCreateExample,
    rateLimit: webhookRateLimit,
    idempotent: true,
    replyHoldsSecret: true,
    success: {
      status: 201, description: 'Created', schema: webhookCreated,
      example: { success: true, webhook_id: exampleWebhook.id, webhook_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', webhook: exampleWebhook, created_at: '2025-09-30T10:00:00.000Z' },
    },
    errors: [400, 403, 409, 413, 415, 422, 429],
  }, async ({ params, body, write }) => {
    await urlRefusal(body.webhook_url);
    const secret = newWebhookSecret();
    const cap = deps.config.webhooksPerApp;
    return write(async (client) => {
      await run(client, lockAppWebhooks, [params.appId]);
      const [row] = await run(client, insertWebhook, {
        app_id: params.appId, webhook_url: body.webhook_url, webhook_secret: encryptSecret(deps.config.secrets, secret, params.appId),
        subscribed_events: body.subscribed_events, is_active: body.is_active ?? true, max_retries: body.max_retries ?? null,
        retry_backoff_seconds: body.retry_backoff_seconds ?? null, max_webhooks: cap,
      });
      if (!row) throw new AppError(409, 'webhook_limit', `An app may have at most ${cap} webhooks; delete one before adding another`, { limit: cap });
      return { status: 201, body: { success: true, webhook_id: row.id, webhook_secret: secret, webhook: serialize(row), created_at: row.created_at.toISOString() } };
    });
  });

  defineRoute<{ appId: string }>(router, deps, {
    method: 'get',
    path: '/apps/:appId/webhooks',
    operationId: 'listWebhooks',
    summary: "The app's webhooks (never their secrets)",
    description: 'Every webhook of the calling app with its delivery counters and, when disabled, why.',
    tag: 'Webhooks',
    who: 'app',
    rateLimit: webhookRateLimit,
    success: {
      status: 200, description: 'Every webhook of the app', schema: webhookList,
      example: { success: true, webhooks: [exampleWebhook] },
    },
    errors: [403, 429],
  }, async ({ params, read }) => {
    const rows = await read((client) => run<WebhookRow>(client, listWebhooks, [params.appId]));
    return { status: 200, body: { success: true, webhooks: rows.map(serialize) } };
  });

  defineRoute<{ appId: string; id: string }, Record<string, never>, WebhookInput>(router, deps, {
    method: 'patch',
    path: '/apps/:appId/webhooks/:id',
    operationId: 'updateWebhook',
    summary: 'Change a webhook (URL, patterns, active, retries)',
    description: 'Turning a webhook back on (is_active: true) clears its failure streak and disabled_reason.',
    tag: 'Webhooks',
    who: 'app',
    params: webhookParams,
    body: webhookUpdate,
    bodyRequired: true,
    requestExample: { subscribed_events: ['notification.*'], is_active: true },
    rateLimit: webhookRateLimit,
    success: { status: 200, description: 'The webhook now', schema: webhookUpdated, example: { success: true, webhook: exampleWebhook } },
    errors: [400, 403, 404, 413, 415, 429],
  }, async ({ params, body, write }) => {
    await urlRefusal(body.webhook_url);
    return write(async (client) => {
      const [row] = await run(client, updateWebhook, {
        id: params.id, app_id: params.appId, webhook_url: body.webhook_url ?? null, subscribed_events: body.subscribed_events ?? null,
        is_active: body.is_active ?? null, max_retries: body.max_retries ?? null, retry_backoff_seconds: body.retry_backoff_seconds ?? null,
      });
      if (!row) throw await webhookNotVisible(client, params.id);
      return { status: 200, body: { success: true, webhook: serialize(row) } };
    });
  });

  defineRoute<{ appId: string; id: string }>(router, deps, {
    method: 'delete',
    path: '/apps/:appId/webhooks/:id',
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook (its delivery log goes with it)',
    description: 'Pending attempts are dropped; an attempt already in flight finishes and is not recorded.',
    tag: 'Webhooks',
    who: 'app',
    params: webhookParams,
    rateLimit: webhookRateLimit,
    success: { status: 204, description: 'Deleted' },
    errors: [400, 403, 404, 429],
  }, async ({ params, write }) =>
    write(async (client) => {
      const [row] = await run(client, deleteWebhook, [params.id, params.appId]);
      if (!row) throw await webhookNotVisible(client, params.id);
      return { status: 204, body: null };
    }));

  defineRoute<{ appId: string; id: string }>(router, deps, {
    method: 'post',
    path: '/apps/:appId/webhooks/:id/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary: "Rotate a webhook's signing secret",
    description: 'Returns the new secret once. For 24 hours deliveries carry two signatures (new and previous secret) so receivers can switch without losing messages.',
    tag: 'Webhooks',
    who: 'app',
    params: webhookParams,
    body: { type: 'object', additionalProperties: false, maxProperties: 0, description: 'no body, or {}' },
    requestExample: {},
    rateLimit: webhookRateLimit,
    success: { status: 200, description: 'The new secret', schema: secretRotated, example: { success: true, webhook_id: '2d7c9f0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f', webhook_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', previous_secret_expires_at: '2025-10-01T10:00:00.000Z' } },
    errors: [400, 403, 404, 429],
  }, async ({ params, write }) => {
    const secret = newWebhookSecret();
    return write(async (client) => {
      const [row] = await run<{ id: string; previous_secret_expires_at: Date }>(client, rotateSecret, [params.id, params.appId, encryptSecret(deps.config.secrets, secret, params.appId)]);
      if (!row) throw await webhookNotVisible(client, params.id);
      return { status: 200, body: { success: true, webhook_id: row.id, webhook_secret: secret, previous_secret_expires_at: row.previous_secret_expires_at.toISOString() } };
    });
  });
}
