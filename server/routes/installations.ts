// Installations (issue 13): PUT/DELETE /users/:userId/apps/:appId (the user or a platform app),
// GET /users/:userId/apps (the user's installed apps) and GET /apps/:appId/installations (an app's
// own users). The installation rule itself is part of the routing step (oriva.app_reachable_users).
import type Router from '@koa/router';
import { callerKey, type Caller } from '../../lib/callers.js';
import { run } from '../../lib/db.js';
import { forbidden, notFound } from '../../lib/errors.js';
import { appId, userId, userParams } from '../../lib/schemas/common.js';
import {
  installationList, installationParams, installationQuery, installationResult, installedAppList,
} from '../../lib/schemas/installations.js';
import { installApp, uninstallApp, type InstalledApp } from '../../lib/installations.js';
import { sqlFile } from '../../lib/sql.js';
import { decodeCursor, encodeCursor, TIMESTAMP_TEXT } from './cursor.js';
import { defineRoute, type RouteDeps } from './define.js';

const appsOfUser = sqlFile('installations/of_user');
const usersOfApp = sqlFile('installations/of_app');

const USER_ID = new RegExp(userId.pattern);

/** Who may change or list a user's installations: that user, or a platform app (never an app for itself). */
function mayManage(caller: Caller, userId: string, what: string): void {
  if (caller.kind === 'user') {
    if (caller.userId !== userId) throw forbidden(`A user token ${what} only its own user's apps`);
  } else if (!caller.platform) {
    throw forbidden(`An app cannot do this: the user or a platform app ${what} a user's apps`);
  }
}

const sourceOf = (caller: Caller) => (caller.kind === 'app' ? caller.appId : 'oriva_core');

const toInstalledApp = (row: InstalledApp) =>
  ({ app_id: row.app_id, app_name: row.app_name, app_icon: row.app_icon, installed_at: row.installed_at.toISOString() });

export function installationRoutes(router: Router, deps: RouteDeps): void {
  const example = { app_id: 'work-buddy', app_name: 'Work Buddy', app_icon: 'https://workbuddy.com/icon.png', installed_at: '2025-09-30T10:00:00.000Z' };

  defineRoute<{ userId: string; appId: string }>(router, deps, {
    method: 'put',
    path: '/users/:userId/apps/:appId',
    operationId: 'installApp',
    summary: 'Install an app for a user',
    description: 'Lets the app reach the user (notifications, events). The user themself or a platform app may install; an app cannot install itself. Records app.installed (owned by the app) when new, which reaches the app\'s webhooks and the user\'s live connections. 201 when installed now, 200 when it already was.',
    tag: 'Installations',
    who: 'any',
    params: installationParams,
    body: { type: 'object', additionalProperties: false, properties: {}, description: 'none (an empty object at most)' },
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 201, description: 'Installed now', schema: installationResult, example: { success: true, installation: example }, also: { status: 200, description: 'It already was (nothing changed)' } },
    errors: [400, 403, 404, 429],
  }, async ({ caller, params, write }) => {
    mayManage(caller, params.userId, 'installs');
    return write(async (client) => {
      const row = await installApp(client, { user_id: params.userId, app_id: params.appId, source: sourceOf(caller) });
      if (!row) throw notFound(`App ${params.appId} not found`);
      return { status: row.created ? 201 : 200, body: { success: true, installation: toInstalledApp(row) } };
    });
  });

  defineRoute<{ userId: string; appId: string }>(router, deps, {
    method: 'delete',
    path: '/users/:userId/apps/:appId',
    operationId: 'uninstallApp',
    summary: 'Uninstall an app for a user',
    description: 'From now on the app can no longer reach the user (403 not_installed). What it already delivered stays in the feed. Records app.uninstalled (owned by the app). The user themself or a platform app may uninstall.',
    tag: 'Installations',
    who: 'any',
    params: installationParams,
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 204, description: 'Uninstalled' },
    errors: [400, 403, 404, 429],
  }, async ({ caller, params, write }) => {
    mayManage(caller, params.userId, 'uninstalls');
    return write(async (client) => {
      const removed = await uninstallApp(client, { user_id: params.userId, app_id: params.appId, source: sourceOf(caller) });
      if (!removed) throw notFound(`App ${params.appId} is not installed for this user`);
      return { status: 204, body: undefined };
    });
  });

  defineRoute<{ userId: string }>(router, deps, {
    method: 'get',
    path: '/users/:userId/apps',
    operationId: 'listInstalledApps',
    summary: "A user's installed apps, newest first",
    description: 'For the user themself or a platform app.',
    tag: 'Installations',
    who: 'any',
    params: userParams,
    rateLimit: { name: 'queries', key: callerKey },
    success: { status: 200, description: 'The installed apps', schema: installedAppList, example: { success: true, apps: [example] } },
    errors: [400, 403, 429],
  }, async ({ caller, params, read }) => {
    mayManage(caller, params.userId, 'lists');
    const rows = await read((client) => run<InstalledApp>(client, appsOfUser, [params.userId]));
    return { status: 200, body: { success: true, apps: rows.map(toInstalledApp) } };
  });

  defineRoute<{ appId: string }, { limit?: number; cursor?: string }>(router, deps, {
    method: 'get',
    path: '/apps/:appId/installations',
    operationId: 'listInstallations',
    summary: 'The users who installed the app, oldest first',
    description: 'Only the app itself. Page with next_cursor.',
    tag: 'Installations',
    who: 'app',
    params: { type: 'object', required: ['appId'], properties: { appId } },
    query: installationQuery,
    rateLimit: { name: 'queries', key: callerKey },
    success: {
      status: 200, description: 'A page of installations', schema: installationList,
      example: { success: true, installations: [{ user_id: 'user_456', installed_at: '2025-09-30T10:00:00.000Z' }], next_cursor: null },
    },
    errors: [400, 403, 429],
  }, async ({ params, query, read }) => {
    const limit = query.limit ?? 100;
    const [cursorAt, cursorUser] = query.cursor ? decodeCursor(query.cursor, [TIMESTAMP_TEXT, USER_ID]) : [null, null];
    const rows = await read((client) =>
      run<{ user_id: string; installed_at: Date; cursor_at: string }>(client, usersOfApp, [params.appId, cursorAt, cursorUser, limit + 1]));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      status: 200,
      body: {
        success: true,
        installations: page.map((row) => ({ user_id: row.user_id, installed_at: row.installed_at.toISOString() })),
        next_cursor: rows.length > limit && last ? encodeCursor([last.cursor_at, last.user_id]) : null,
      },
    };
  });
}
