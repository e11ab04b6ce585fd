// Topics (DESIGN §11): an app's named lists of its users, the audiences of its broadcasts.
// PUT/DELETE /apps/:appId/topics/:topic/subscribers add and remove up to 1,000 users (idempotent);
// GET lists the current members with a cursor. An API key acts only for its own app's topics.
import type Router from '@koa/router';
import { callerKey } from '../../lib/callers.js';
import { run } from '../../lib/db.js';
import { AppError } from '../../lib/errors.js';
import { userId } from '../../lib/schemas/common.js';
import {
  subscriberList, subscribersAdded, subscribersChange, subscribersQuery, subscribersRemoved, SUBSCRIBERS_MAX, topicParams,
} from '../../lib/schemas/audiences.js';
import { sqlStatement } from '../../lib/sql.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { defineRoute, type RouteDeps } from './define.js';

const subscribe = sqlStatement<{ app_id: string; topic: string; user_ids: string[]; install_required: boolean }, { outcome: 'added' | 'refused'; user_id: string }>('topics/subscribe');
const unsubscribe = sqlStatement<{ app_id: string; topic: string; user_ids: string[] }, { removed: number }>('topics/unsubscribe');
const subscribers = sqlStatement<{ app_id: string; topic: string; after: string | null; limit: number }, { user_id: string; subscribed_at: Date }>('topics/subscribers');

const USER_ID = new RegExp(userId.pattern);

export function topicRoutes(router: Router, deps: RouteDeps): void {
  defineRoute<{ appId: string; topic: string }, Record<string, never>, { user_ids: string[] }>(router, deps, {
    method: 'put',
    path: '/apps/:appId/topics/:topic/subscribers',
    operationId: 'addTopicSubscribers',
    summary: `Add up to ${SUBSCRIBERS_MAX} users to a topic of the app`,
    description: 'Idempotent: a user already in the topic stays as they are. A user added now receives the broadcasts sent from now on, not earlier ones. With the installation rule (INSTALL_REQUIRED), every user must have installed the app: otherwise 403 not_installed naming them, and nothing is written. Uninstalling the app removes the user from its topics.',
    tag: 'Audiences',
    who: 'app',
    params: topicParams,
    body: subscribersChange,
    bodyRequired: true,
    requestExample: { user_ids: ['user_456', 'user_789'] },
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 200, description: 'Added', schema: subscribersAdded, example: { success: true, added: 2 } },
    errors: [400, 403, 413, 415, 429],
  }, async ({ params, body, write }) =>
    write(async (client) => {
      const rows = await run(client, subscribe, { app_id: params.appId, topic: params.topic, user_ids: body.user_ids, install_required: deps.config.installRequired });
      const refused = rows.filter((r) => r.outcome === 'refused').map((r) => r.user_id).sort();
      if (refused.length) {
        throw new AppError(403, 'not_installed', `${refused.length} of these users have not installed the app: nothing was added`, { user_ids: refused });
      }
      return { status: 200, body: { success: true, added: rows.length } };
    }));

  defineRoute<{ appId: string; topic: string }, Record<string, never>, { user_ids: string[] }>(router, deps, {
    method: 'delete',
    path: '/apps/:appId/topics/:topic/subscribers',
    operationId: 'removeTopicSubscribers',
    summary: `Remove up to ${SUBSCRIBERS_MAX} users from a topic of the app`,
    description: 'Idempotent. A user removed keeps the broadcasts sent while they were in the topic. The body names the users: {"user_ids": [...]}.',
    tag: 'Audiences',
    who: 'app',
    params: topicParams,
    body: subscribersChange,
    bodyRequired: true,
    requestExample: { user_ids: ['user_456'] },
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 200, description: 'Removed', schema: subscribersRemoved, example: { success: true, removed: 1 } },
    errors: [400, 403, 413, 415, 429],
  }, async ({ params, body, write }) =>
    write(async (client) => {
      const [row] = await run(client, unsubscribe, { app_id: params.appId, topic: params.topic, user_ids: body.user_ids });
      return { status: 200, body: { success: true, removed: row?.removed ?? 0 } };
    }));

  defineRoute<{ appId: string; topic: string }, { limit?: number; cursor?: string }>(router, deps, {
    method: 'get',
    path: '/apps/:appId/topics/:topic/subscribers',
    operationId: 'listTopicSubscribers',
    summary: "A topic's members, by user id",
    description: 'Only the app itself. An empty or unknown topic has no members. Page with next_cursor.',
    tag: 'Audiences',
    who: 'app',
    params: topicParams,
    query: subscribersQuery,
    rateLimit: { name: 'queries', key: callerKey },
    success: {
      status: 200, description: 'A page of members', schema: subscriberList,
      example: { success: true, subscribers: [{ user_id: 'user_456', subscribed_at: '2025-09-30T10:00:00.000Z' }], next_cursor: null },
    },
    errors: [400, 403, 429],
  }, async ({ params, query, read }) => {
    const limit = query.limit ?? 100;
    const [after] = query.cursor ? decodeCursor(query.cursor, [USER_ID]) : [null];
    const rows = await read((client) => run(client, subscribers, { app_id: params.appId, topic: params.topic, after, limit: limit + 1 }));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      status: 200,
      body: {
        success: true,
        subscribers: page.map((r) => ({ user_id: r.user_id, subscribed_at: r.subscribed_at.toISOString() })),
        next_cursor: rows.length > limit && last ? encodeCursor([last.user_id]) : null,
      },
    };
  });
}
