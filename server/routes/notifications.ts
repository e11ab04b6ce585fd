// Notifications: create (one or a batch), the user's feed, state changes (one, or read-all) and
// delete. Every write is one transaction: rows + platform event (+ an expiry job when expires_at).
import type Router from '@koa/router';
import { run, type PoolClient } from '../../lib/db.js';
import { storedAppJson } from '../../lib/app-json.js';
import { insertNotifications, type CreateOutcome, type NewNotification } from '../../lib/notifications.js';
import { saveEmailContent } from '../../lib/templates.js';
import { contentProblems, renderItems, type Problem, type Rendered } from './from-template.js';
import { AppError, badRequest, duplicateExternalId, forbidden, notFound, notInstalled } from '../../lib/errors.js';
import {
  BATCH_MAX, feed, feedQuery, notificationBatch, notificationBatchEnvelope, notificationBatchResult, notificationCreate,
  notificationCreated, notificationCreateExample, readAll, readAllResult, stateChange, stateChanged,
} from '../../lib/schemas/notifications.js';
import { userParams, uuid } from '../../lib/schemas/common.js';
import { sqlFile, sqlStatement } from '../../lib/sql.js';
import { callerKey, type Caller } from '../../lib/callers.js';
import { check } from '../middleware/validate.js';
import { decodeCursor, encodeCursor, INTEGER, UUID } from './cursor.js';
import { defineRoute, type RouteDeps } from './define.js';
import type { GroupKind } from '../group-commit.js';
import type { Reply } from '../middleware/idempotency.js';

const feedQueryStatement = sqlStatement<{
  user_id: string; app_id: string | null; category: string | null; notification_type: string | null; status: string | null; limit: number; offset: number;
  cursor_rank: string | null; cursor_created_us: string | null; cursor_id: string | null;
}, FeedRow>('notifications/feed');
const updateState = sqlStatement<{
  id: string; app_id: string | null; user_id: string | null; status: string; dismissed_from: string | null; click_action: string | null; source: string;
}, { id: string; outcome: 'changed' | 'unchanged' | 'invalid' | 'expired'; previous_status: string; status: string; updated_at: Date }>('notifications/update_state');
const readAllStatement = sqlFile('notifications/read_all');
const deleteNotification = sqlFile('notifications/delete');
const notificationOwner = sqlFile('notifications/owner');
const touchBroadcast = sqlStatement<{ id: string; user_id: string }, never>('broadcasts/touch');

/** A batch item's 400 result. */
const invalid = (index: number, errors: { path: string; message: string }[]) =>
  ({ index, success: false, status: 400, error: { code: 'validation_error', message: `${errors[0]!.path} ${errors[0]!.message}`, details: errors } });

/** 400 when expires_at is not in the future (checked after the schema). */
function expiryProblem(n: NewNotification, now: number): string | null {
  return n.expires_at !== undefined && Date.parse(n.expires_at) <= now ? 'must be in the future' : null;
}

const sourceOf = (caller: Caller, given?: string) => given ?? (caller.kind === 'app' ? caller.appId : 'user');

const idParams = { type: 'object', required: ['id'], properties: { id: { ...uuid, description: 'the notification id (a UUID)' } } } as const;

/** Who may read or change a user's notifications: the user, a platform app, or an app (its own only). */
function feedScope(caller: Caller, userId: string, appFilter: string | undefined): string | null {
  if (caller.kind === 'user') {
    if (caller.userId !== userId) throw forbidden("A user token reads only its own user's notifications");
    return appFilter ?? null;
  }
  if (caller.platform) return appFilter ?? null;
  if (appFilter !== undefined && appFilter !== caller.appId) throw forbidden("An app reads only its own notifications (app_id must be the key's app)");
  return caller.appId;
}


/** After a scoped statement found nothing: 403 when the notification exists but is not the caller's. */
async function notVisible(client: PoolClient, id: string): Promise<AppError> {
  const [owner] = await run<{ app_id: string; user_id: string | null }>(client, notificationOwner, [id]);
  if (owner && owner.user_id === null) return forbidden("This is a broadcast: each recipient's state is their own (change it with their user token; it must have reached them)");
  return owner ? forbidden('This notification belongs to another app or user') : notFound('Notification not found');
}

interface FeedRow {
  unread_count: number;
  total: number;
  notifications: (Record<string, unknown> & { id: string; priority_rank: number; created_us: number })[];
}

type ItemOutcome = CreateOutcome | { outcome: 'invalid'; problems: Problem[] };

/**
 * Write one app's items — a batch, or single creates sharing a transaction: render the ones with
 * template_data, route and insert them in one statement, keep their rendered email parts. One
 * outcome per item, in order.
 */
async function writeNotifications(client: PoolClient, appId: string, items: { item: NewNotification; prefix: string }[], installRequired: boolean): Promise<ItemOutcome[]> {
  const rendered = await renderItems(client, appId, items);
  const ready = rendered.filter((r): r is Rendered => !Array.isArray(r));
  const outcomes = ready.length ? await insertNotifications(client, appId, ready.map((r) => r.item), { installRequired }) : [];
  await saveEmailContent(client, appId, ready.flatMap(({ email }, i) => {
    const result = outcomes[i]!;
    return email && result.outcome === 'created' ? [{ id: result.id, ...email }] : [];
  }));
  let next = 0;
  return rendered.map((r): ItemOutcome => (Array.isArray(r) ? { outcome: 'invalid', problems: r } : outcomes[next++]!));
}

export function notificationRoutes(router: Router, deps: RouteDeps): void {
  /** POST /apps/:appId/notifications: each create's answer, alone or sharing a transaction with others. */
  const singleCreate: GroupKind<NewNotification> = {
    name: 'notification',
    async write(client, appId, items) {
      const outcomes = await writeNotifications(client, appId, items.map((item) => ({ item, prefix: 'body' })), deps.config.installRequired);
      return outcomes.map((result, i): Reply | AppError => {
        switch (result.outcome) {
          case 'invalid': return badRequest(`${result.problems[0]!.path} ${result.problems[0]!.message}`, result.problems);
          case 'refused': return notInstalled(items[i]!.user_id);
          case 'duplicate': return duplicateExternalId(items[i]!.external_id);
          case 'created': return { status: 201, body: { success: true, notification_id: result.id, created_at: result.created_at.toISOString(), suppressed: result.suppressed } };
        }
      });
    },
  };
  const perApp = (caller: Caller) => `app:${caller.kind === 'app' ? caller.appId : ''}`;

  defineRoute<{ appId: string }, Record<string, never>, NewNotification>(router, deps, {
    method: 'post',
    path: '/apps/:appId/notifications',
    operationId: 'createNotification',
    summary: 'Create a notification for a user',
    description: 'Stores the notification with state unread, records notification.created (carrying the notification) and, with expires_at, schedules its expiry — one transaction. A user who has not installed the app is a 403 not_installed and nothing is written (platform apps are exempt; INSTALL_REQUIRED=false turns the rule off). A duplicate external_id for the app is a 409. Titles and bodies are plain text.',
    tag: 'Notifications',
    who: 'app',
    body: notificationCreate,
    bodyRequired: true,
    requestExample: notificationCreateExample,
    rateLimit: { name: 'notifications', key: perApp, takenWhenShared: true },
    idempotent: true,
    success: { status: 201, description: 'Created', schema: notificationCreated, example: { success: true, notification_id: '6f1c2b8e-2f7a-4a51-8d7e-0a4b9c3d2e1f', created_at: '2025-09-30T10:00:00.000Z', suppressed: [] } },
    errors: [400, 403, 409, 413, 415, 422, 429],
  }, async ({ body, share }) => {
    const problems = contentProblems(body, 'body');
    const expiry = expiryProblem(body, Date.now());
    if (expiry) problems.push({ path: 'body/expires_at', message: expiry });
    if (problems.length) throw badRequest(`${problems[0]!.path} ${problems[0]!.message}`, problems);
    return share(singleCreate, body);
  });

  defineRoute<{ appId: string }, Record<string, never>, { notifications: unknown[] }>(router, deps, {
    method: 'post',
    path: '/apps/:appId/notifications/batch',
    operationId: 'createNotificationBatch',
    summary: `Create up to ${BATCH_MAX} notifications in one transaction`,
    description: 'Each item is validated like a single create. Valid items are written in one transaction; the answer has one result per item, in order (201 created, 400 invalid, 403 not_installed: the user has not installed the app, 409 duplicate external_id). Each item counts against the notification rate limit.',
    tag: 'Notifications',
    who: 'app',
    body: notificationBatch,
    bodyValidation: notificationBatchEnvelope,
    bodyRequired: true,
    bodyLimit: 1024 * 1024,
    requestExample: { notifications: [notificationCreateExample] },
    rateLimit: { name: 'notifications', key: perApp },
    idempotent: true,
    success: {
      status: 200, description: 'Per-item results', schema: notificationBatchResult,
      example: { success: true, created: 1, failed: 0, results: [{ index: 0, success: true, status: 201, notification_id: '6f1c2b8e-2f7a-4a51-8d7e-0a4b9c3d2e1f', external_id: 'wb_notif_123', created_at: '2025-09-30T10:00:00.000Z', suppressed: [] }] },
    },
    errors: [400, 403, 413, 415, 422, 429],
  }, async ({ ctx, caller, params, body, write }) => {
    await deps.limits.charge(ctx, 'notifications', perApp(caller), body.notifications.length - 1);
    const now = Date.now();
    const results: Record<string, unknown>[] = [];
    const valid: { index: number; item: NewNotification }[] = [];
    body.notifications.forEach((raw, index) => {
      const errors = check(notificationCreate, 'body', raw).map((e) => ({ ...e, path: e.path.replace(/^body/, `body/notifications/${index}`) }));
      const item = raw as NewNotification;
      if (errors.length === 0) errors.push(...contentProblems(item, `body/notifications/${index}`));
      const expiry = errors.length === 0 ? expiryProblem(item, now) : null;
      if (expiry) errors.push({ path: `body/notifications/${index}/expires_at`, message: expiry });
      if (errors.length) results[index] = invalid(index, errors);
      else valid.push({ index, item });
    });
    return write(async (client) => {
      const outcomes = await writeNotifications(client, params.appId, valid.map(({ index, item }) => ({ item, prefix: `body/notifications/${index}` })), deps.config.installRequired);
      valid.forEach(({ index, item }, i) => {
        const result = outcomes[i]!;
        if (result.outcome === 'invalid') results[index] = invalid(index, result.problems);
        else if (result.outcome === 'created') {
          results[index] = { index, success: true, status: 201, notification_id: result.id, external_id: result.external_id, created_at: result.created_at.toISOString(), suppressed: result.suppressed };
        } else {
          const error = result.outcome === 'refused' ? notInstalled(item.user_id) : duplicateExternalId(item.external_id);
          results[index] = { index, success: false, status: error.status, external_id: item.external_id, error: { code: error.code, message: error.message } };
        }
      });
      const ok = outcomes.filter((o) => o.outcome === 'created').length;
      return { status: 200, body: { success: ok === body.notifications.length, created: ok, failed: body.notifications.length - ok, results } };
    });
  });

  defineRoute<{ userId: string }, { status?: string; app_id?: string; category?: string; notification_type?: string; limit: number; offset: number; cursor?: string }>(router, deps, {
    method: 'get',
    path: '/users/:userId/notifications',
    operationId: 'listUserNotifications',
    summary: "A user's notifications from every app (the aggregated feed)",
    description: 'Unexpired notifications, sorted by priority then created_at (newest first), with the app branding (app_name, app_icon) and the exact unread_count. A user token reads only its own feed; a platform app reads anyone’s; another app only its own notifications. Paginate with limit/offset or with cursor (next_cursor).',
    tag: 'Notifications',
    who: 'any',
    params: userParams,
    query: feedQuery,
    rateLimit: { name: 'queries', key: (_caller, params) => `user:${params.userId}` },
    success: {
      status: 200, description: 'A page of the feed', schema: feed,
      example: {
        success: true,
        notifications: [{ id: '6f1c2b8e-2f7a-4a51-8d7e-0a4b9c3d2e1f', app_id: 'work-buddy', app_name: 'Work Buddy', app_icon: 'https://workbuddy.com/icon.png', external_id: 'wb_notif_123', user_id: 'user_456', notification_type: 'session_reminder', title: 'Session starting in 10 minutes', body: 'Your session with Sarah starts soon', action_url: 'workbuddy://session/789', action_label: 'View Session', image_url: null, icon_url: null, priority: 'high', category: 'task', status: 'unread', context_data: { session_id: 'session_789' }, expires_at: null, created_at: '2025-09-30T10:00:00.000Z', updated_at: '2025-09-30T10:00:00.000Z', read_at: null, clicked_at: null, dismissed_at: null, dismissed_from: null, click_action: null }],
        unread_count: 1,
        pagination: { total: 1, limit: 50, offset: 0, has_more: false, next_cursor: null },
      },
    },
    errors: [400, 403, 429],
  }, async ({ caller, params, query, read }) => {
    const appFilter = feedScope(caller, params.userId, query.app_id);
    const [rank, createdUs, lastId] = query.cursor ? decodeCursor(query.cursor, [/^[0-3]$/, INTEGER, UUID]) : [null, null, null];
    const [row] = await read((client) =>
      run(client, feedQueryStatement, {
        user_id: params.userId, app_id: appFilter, category: query.category ?? null, notification_type: query.notification_type ?? null, status: query.status ?? null, limit: query.limit, offset: query.offset,
        cursor_rank: rank, cursor_created_us: createdUs, cursor_id: lastId,
      }));
    const items = row?.notifications ?? [];
    const total = Number(row?.total ?? 0);
    const last = items[items.length - 1];
    const hasMore = items.length === query.limit && (query.cursor ? true : query.offset + items.length < total);
    return {
      status: 200,
      body: {
        success: true,
        notifications: items.map(({ priority_rank: _r, created_us: _c, ...item }) => ({
          ...item,
          context_data: storedAppJson('context_data', item.context_data),
          created_at: new Date(item.created_at as string).toISOString(),
          updated_at: new Date(item.updated_at as string).toISOString(),
          expires_at: item.expires_at ? new Date(item.expires_at as string).toISOString() : null,
          read_at: item.read_at ? new Date(item.read_at as string).toISOString() : null,
          clicked_at: item.clicked_at ? new Date(item.clicked_at as string).toISOString() : null,
          dismissed_at: item.dismissed_at ? new Date(item.dismissed_at as string).toISOString() : null,
        })),
        unread_count: Number(row?.unread_count ?? 0),
        pagination: { total, limit: query.limit, offset: query.offset, has_more: hasMore, next_cursor: hasMore && last ? encodeCursor([last.priority_rank, last.created_us, last.id]) : null },
      },
    };
  });

  defineRoute<{ id: string }, Record<string, never>, { status: string; dismissed_from?: string; click_action?: string }>(router, deps, {
    method: 'patch',
    path: '/notifications/:id',
    operationId: 'updateNotificationState',
    summary: "Change a notification's state (read, unread, clicked, dismissed)",
    description: 'The state is the same in every app. A broadcast\'s state is each recipient\'s own: they change it with their user token (dismiss once, for them). Allowed: unread→read, read→unread, unread/read→clicked, unread/read/clicked→dismissed; the current status again is a 200 no-op (changed: false); anything from dismissed or expired is a 400. Records notification.<status> with event_data.source (dismissed_from when given, else the calling app id, else "user"). Callers: the notification\'s user, its app, or a platform app.',
    tag: 'Notifications',
    who: 'any',
    params: idParams,
    body: stateChange,
    bodyRequired: true,
    requestExample: { status: 'dismissed', dismissed_from: 'oriva_core' },
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 200, description: 'The state now', schema: stateChanged, example: { success: true, notification_id: '6f1c2b8e-2f7a-4a51-8d7e-0a4b9c3d2e1f', status: 'dismissed', previous_status: 'unread', changed: true, updated_at: '2025-09-30T10:35:00.000Z' } },
    errors: [400, 403, 404, 413, 415, 429],
  }, async ({ caller, params, body, write }) =>
    write(async (client) => {
      const scopeApp = caller.kind === 'app' && !caller.platform ? caller.appId : null;
      const scopeUser = caller.kind === 'user' ? caller.userId : null;
      if (scopeUser) await run(client, touchBroadcast, { id: params.id, user_id: scopeUser });
      const [row] = await run(client, updateState, {
        id: params.id, app_id: scopeApp, user_id: scopeUser, status: body.status, dismissed_from: body.dismissed_from ?? null,
        click_action: body.click_action ?? null, source: sourceOf(caller, body.status === 'dismissed' ? body.dismissed_from : undefined),
      });
      if (!row) throw await notVisible(client, params.id);
      if (row.outcome === 'expired') throw new AppError(400, 'invalid_transition', 'The notification has expired; its state can no longer change', { status: 'expired' });
      if (row.outcome === 'invalid') {
        throw new AppError(400, 'invalid_transition', `A notification cannot go from ${row.previous_status} to ${body.status}`, { from: row.previous_status, to: body.status });
      }
      return {
        status: 200,
        body: { success: true, notification_id: row.id, status: row.status, previous_status: row.previous_status, changed: row.outcome === 'changed', updated_at: row.updated_at.toISOString() },
      };
    }));

  defineRoute<{ userId: string }, Record<string, never>, { app_id?: string }>(router, deps, {
    method: 'post',
    path: '/users/:userId/notifications/read-all',
    operationId: 'markAllRead',
    summary: "Mark all of a user's unread notifications read (optionally of one app)",
    description: 'One transaction; one notification.read event per notification changed. Callers: the user or a platform app.',
    tag: 'Notifications',
    who: 'any',
    params: userParams,
    body: readAll,
    requestExample: { app_id: 'work-buddy' },
    rateLimit: { name: 'queries', key: (_caller, params) => `user:${params.userId}` },
    success: { status: 200, description: 'How many changed', schema: readAllResult, example: { success: true, updated: 3, unread_count: 0 } },
    errors: [400, 403, 413, 415, 429],
  }, async ({ caller, params, body, write }) => {
    if (caller.kind === 'app' && !caller.platform) throw forbidden('Only the user or a platform app may mark all notifications read');
    if (caller.kind === 'user' && caller.userId !== params.userId) throw forbidden("A user token changes only its own user's notifications");
    return write(async (client) => {
      const [row] = await run<{ updated: number }>(client, readAllStatement, [params.userId, body.app_id ?? null, sourceOf(caller)]);
      const [counts] = await run(client, feedQueryStatement, {
        user_id: params.userId, app_id: body.app_id ?? null, category: null, notification_type: null, status: 'unread', limit: 1, offset: 0, cursor_rank: null, cursor_created_us: null, cursor_id: null,
      });
      return { status: 200, body: { success: true, updated: row?.updated ?? 0, unread_count: Number(counts?.unread_count ?? 0) } };
    });
  });

  defineRoute<{ id: string }>(router, deps, {
    method: 'delete',
    path: '/notifications/:id',
    operationId: 'deleteNotification',
    summary: 'Delete a notification (owner app only)',
    description: 'Hard delete; its state rows cascade; records notification.deleted. Another app (or a user token) gets 403.',
    tag: 'Notifications',
    who: 'app',
    params: idParams,
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 204, description: 'Deleted' },
    errors: [400, 403, 404, 429],
  }, async ({ caller, params, write }) => {
    if (caller.kind !== 'app') throw forbidden('Only the app that created a notification may delete it');
    return write(async (client) => {
      const [row] = await run(client, deleteNotification, [params.id, caller.appId, caller.appId]);
      if (!row) throw await notVisible(client, params.id);
      return { status: 204, body: null };
    });
  });
}

