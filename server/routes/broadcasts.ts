// Broadcasts (DESIGN §11): one call sends one notification to a topic of the app, or (platform apps
// only) to every user the system knows. The write is one notification row, its audience and one
// broadcast.sent event (sql/broadcasts/send.sql): it does not grow with the audience. Each recipient
// gets it in their feed, count and stream with their own state; GET reads its figures, DELETE
// retracts it from every feed.
import type Router from '@koa/router';
import { storedAppJson } from '../../lib/app-json.js';
import { callerKey, type Caller } from '../../lib/callers.js';
import { run } from '../../lib/db.js';
import { badRequest, duplicateExternalId, forbidden, notFound } from '../../lib/errors.js';
import type { NewNotification } from '../../lib/notifications.js';
import { saveEmailContent } from '../../lib/templates.js';
import {
  broadcastCreate, broadcastDetail, broadcastList, broadcastParams, broadcastSent,
} from '../../lib/schemas/audiences.js';
import { appId } from '../../lib/schemas/common.js';
import { sqlStatement } from '../../lib/sql.js';
import { decodeCursor, encodeCursor, UUID } from './cursor.js';
import { defineRoute, type RouteDeps } from './define.js';
import { contentProblems, renderItems } from './from-template.js';

type BroadcastRequest = Omit<NewNotification, 'user_id'> & { audience: { topic: string } | { all: true } };

const send = sqlStatement<{
  app_id: string; external_id: string; notification_type: string; title: string; body: string; action_url: string | null; action_label: string | null;
  image_url: string | null; icon_url: string | null; context_data: string; priority: string; expires_at: string | null; category: string; topic: string | null;
}, { id: string; created_at: Date }>('broadcasts/send');
const retract = sqlStatement<{ id: string; app_id: string; source: string }, { id: string }>('broadcasts/retract');
const list = sqlStatement<{ app_id: string; before_at: string | null; before_id: string | null; limit: number }, BroadcastRow>('broadcasts/list');
const getOne = sqlStatement<{ id: string; app_id: string }, BroadcastRow & {
  action_url: string | null; action_label: string | null; image_url: string | null; icon_url: string | null; context_data: unknown;
  recipients: number; suppressed: number; read: number; clicked: number; dismissed: number;
}>('broadcasts/get');

interface BroadcastRow {
  id: string; external_id: string; topic: string | null; sent_at: Date; notification_type: string; category: string;
  title: string; body: string; priority: string; expires_at: Date | null;
}

const summary = (row: BroadcastRow) => ({
  id: row.id, external_id: row.external_id, audience: row.topic === null ? { all: true } : { topic: row.topic },
  notification_type: row.notification_type, category: row.category, title: row.title, body: row.body, priority: row.priority,
  expires_at: row.expires_at ? row.expires_at.toISOString() : null, sent_at: row.sent_at.toISOString(),
});

const TIMESTAMP_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function broadcastRoutes(router: Router, deps: RouteDeps): void {
  const perApp = (caller: Caller) => `app:${caller.kind === 'app' ? caller.appId : ''}`;
  const example = { id: '0b7f4c1e-8a3d-4f5e-9c2b-1d6e7f8a9b0c', external_id: 'release_2025_10', audience: { topic: 'beta' }, notification_type: 'release', category: 'system', title: 'Version 2 is out', body: 'See what is new', priority: 'normal', expires_at: null, sent_at: '2025-09-30T10:00:00.000Z' };

  defineRoute<{ appId: string }, Record<string, never>, BroadcastRequest>(router, deps, {
    method: 'post',
    path: '/apps/:appId/broadcasts',
    operationId: 'sendBroadcast',
    summary: 'Send one notification to a topic, or (platform apps) to every user',
    description: 'The notification fields of a single create (title and body, or template_data), without user_id, plus audience: {"topic": "beta"} (the app\'s topic: its members now) or {"all": true} (every user the system knows; platform apps only, 403 for any other app). One write whatever the audience: each recipient gets it in their feed, unread count and stream with their own state (PATCH /notifications/:id with their token), unless their preferences keep it out; their email digest includes it. The app\'s webhooks get one broadcast.sent. Its own rate limit (RATE_LIMIT_BROADCASTS per RATE_LIMIT_BROADCASTS_WINDOW_MS). A duplicate external_id is a 409.',
    tag: 'Audiences',
    who: 'app',
    body: broadcastCreate,
    bodyRequired: true,
    requestExample: { external_id: 'release_2025_10', notification_type: 'release', title: 'Version 2 is out', body: 'See what is new', audience: { topic: 'beta' } },
    rateLimit: { name: 'broadcasts', key: perApp },
    idempotent: true,
    success: { status: 202, description: 'Sent: recipients see it now', schema: broadcastSent, example: { success: true, broadcast_id: example.id, sent_at: example.sent_at } },
    errors: [400, 403, 409, 413, 415, 429],
  }, async ({ caller, params, body, write }) => {
    const everyone = 'all' in body.audience;
    if (everyone && !(caller.kind === 'app' && caller.platform)) throw forbidden('Only a platform app may broadcast to every user (audience.all)');
    const problems = contentProblems(body, 'body');
    if (body.expires_at !== undefined && Date.parse(body.expires_at) <= Date.now()) problems.push({ path: 'body/expires_at', message: 'must be in the future' });
    if (problems.length) throw badRequest(`${problems[0]!.path} ${problems[0]!.message}`, problems);
    return write(async (client) => {
      const { audience: _audience, ...fields } = body;
      // rendered like a single create's item; a broadcast has no user (the template sees only template_data)
      const [rendered] = await renderItems(client, params.appId, [{ item: { ...fields, user_id: '' }, prefix: 'body' }]);
      if (Array.isArray(rendered)) throw badRequest(`${rendered[0]!.path} ${rendered[0]!.message}`, rendered);
      const item = rendered!.item;
      const [row] = await run(client, send, {
        app_id: params.appId, external_id: item.external_id, notification_type: item.notification_type, title: item.title, body: item.body,
        action_url: item.action_url ?? null, action_label: item.action_label ?? null, image_url: item.image_url ?? null, icon_url: item.icon_url ?? null,
        context_data: JSON.stringify(item.context_data ?? {}), priority: item.priority ?? 'normal', expires_at: item.expires_at ?? null,
        category: item.category ?? 'system', topic: 'topic' in body.audience ? body.audience.topic : null,
      });
      if (!row) throw duplicateExternalId(item.external_id);
      if (rendered!.email) await saveEmailContent(client, params.appId, [{ id: row.id, ...rendered!.email }]);
      return { status: 202, body: { success: true, broadcast_id: row.id, sent_at: row.created_at.toISOString() } };
    });
  });

  defineRoute<{ appId: string }, { limit?: number; cursor?: string }>(router, deps, {
    method: 'get',
    path: '/apps/:appId/broadcasts',
    operationId: 'listBroadcasts',
    summary: "The app's broadcasts, newest first",
    description: 'Only the app itself; a retracted broadcast is gone. Page with next_cursor; GET one for its figures.',
    tag: 'Audiences',
    who: 'app',
    params: { type: 'object', required: ['appId'], properties: { appId } },
    query: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, cursor: { type: 'string', maxLength: 512 } } },
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 200, description: 'A page of broadcasts', schema: broadcastList, example: { success: true, broadcasts: [example], next_cursor: null } },
    errors: [400, 403, 429],
  }, async ({ params, query, read }) => {
    const limit = query.limit ?? 20;
    const [beforeAt, beforeId] = query.cursor ? decodeCursor(query.cursor, [TIMESTAMP_ISO, UUID]) : [null, null];
    const rows = await read((client) => run(client, list, { app_id: params.appId, before_at: beforeAt, before_id: beforeId, limit: limit + 1 }));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      status: 200,
      body: { success: true, broadcasts: page.map(summary), next_cursor: rows.length > limit && last ? encodeCursor([last.sent_at.toISOString(), last.id]) : null },
    };
  });

  defineRoute<{ appId: string; id: string }>(router, deps, {
    method: 'get',
    path: '/apps/:appId/broadcasts/:id',
    operationId: 'getBroadcast',
    summary: 'One broadcast with its delivery figures',
    description: 'recipients: its audience when it was sent; suppressed: recipients whose preferences keep it out of their feed; delivered: the rest; read (read or clicked), clicked, dismissed: from the recipients\' own states. Counted when asked.',
    tag: 'Audiences',
    who: 'app',
    params: broadcastParams,
    rateLimit: { name: 'queries', key: callerKey },
    success: {
      status: 200, description: 'The broadcast', schema: broadcastDetail,
      example: { success: true, broadcast: { ...example, action_url: null, action_label: null, image_url: null, icon_url: null, context_data: {}, figures: { recipients: 3, suppressed: 1, delivered: 2, read: 1, clicked: 0, dismissed: 1 } } },
    },
    errors: [400, 403, 404, 429],
  }, async ({ params, read }) => {
    const [row] = await read((client) => run(client, getOne, { id: params.id, app_id: params.appId }));
    if (!row) throw notFound('Broadcast not found');
    return {
      status: 200,
      body: {
        success: true,
        broadcast: {
          ...summary(row), action_url: row.action_url, action_label: row.action_label, image_url: row.image_url, icon_url: row.icon_url,
          context_data: storedAppJson('context_data', row.context_data),
          figures: { recipients: row.recipients, suppressed: row.suppressed, delivered: row.recipients - row.suppressed, read: row.read, clicked: row.clicked, dismissed: row.dismissed },
        },
      },
    };
  });

  defineRoute<{ appId: string; id: string }>(router, deps, {
    method: 'delete',
    path: '/apps/:appId/broadcasts/:id',
    operationId: 'retractBroadcast',
    summary: 'Retract a broadcast from every feed',
    description: 'Deletes it (its recipients\' states go with it) and records broadcast.retracted: connected recipients see it leave their feed, and their counts, at once.',
    tag: 'Audiences',
    who: 'app',
    params: broadcastParams,
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 204, description: 'Retracted' },
    errors: [400, 403, 404, 429],
  }, async ({ params, write }) =>
    write(async (client) => {
      const [row] = await run(client, retract, { id: params.id, app_id: params.appId, source: params.appId });
      if (!row) throw notFound('Broadcast not found');
      return { status: 204, body: null };
    }));
}
