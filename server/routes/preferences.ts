// Preferences (issue 14, DESIGN §9): GET, PUT and PATCH (JSON Merge Patch) /users/:userId/preferences
// for the user or a platform app. The document is versioned: ETag "<revision>", If-Match → 412 when
// another write got there first. The rule itself is part of the routing step
// (oriva.preference_suppression, applied by sql/notifications/create.sql).
import type Router from '@koa/router';
import type { Caller } from '../../lib/callers.js';
import { forbidden, preconditionFailed } from '../../lib/errors.js';
import {
  checked, loadPreferences, mergePatch, normalise, savePreferences, type StoredPreferences, type WrittenDocument,
} from '../../lib/preferences.js';
import { preferencesExample, preferencesParams, preferencesResult, preferencesWrite } from '../../lib/schemas/preferences.js';
import type { Reply } from '../middleware/idempotency.js';
import { validate } from '../middleware/validate.js';
import { defineRoute, ifMatchRevision, revisionTag, type RouteDeps } from './define.js';

/** Only the user themself or a platform app; an app never reads or writes a user's preferences. */
function mayAccess(caller: Caller, userId: string): void {
  if (caller.kind === 'user') {
    if (caller.userId !== userId) throw forbidden("A user token reads and changes only its own user's preferences");
  } else if (!caller.platform) {
    throw forbidden("An app cannot read or change a user's preferences: only the user or a platform app");
  }
}

const answer = (stored: StoredPreferences, status = 200): Reply => ({
  status,
  headers: { ETag: revisionTag(stored.revision) },
  body: {
    success: true,
    preferences: {
      ...stored.document,
      email: { ...stored.document.email, bouncing_since: stored.email_bounced_at?.toISOString() ?? null },
      updated_at: stored.updated_at?.toISOString() ?? null,
      revision: stored.revision,
    },
  },
});

const stale = () => preconditionFailed('The preferences changed since the If-Match revision (another tab or device): read them again and retry');

const PATCH_ATTEMPTS = 3;

export function preferenceRoutes(router: Router, deps: RouteDeps): void {
  const common = {
    tag: 'Preferences',
    who: 'any' as const,
    params: preferencesParams,
    rateLimit: { name: 'queries' as const, key: (_caller: Caller, params: Record<string, string>) => `user:${params.userId}` },
    versioned: true,
  };
  const success = { status: 200, description: 'The whole document, every key present', schema: preferencesResult, example: { success: true, preferences: preferencesExample } };

  defineRoute<{ userId: string }>(router, deps, {
    ...common,
    method: 'get',
    path: '/users/:userId/preferences',
    operationId: 'getPreferences',
    summary: "A user's preference document",
    description: 'The same document in every app. The defaults (everything on, no quiet hours, revision 0) until the user first saves. For the user themself or a platform app.',
    success,
    errors: [400, 403, 429],
  }, async ({ caller, params, read }) => {
    mayAccess(caller, params.userId);
    return answer(await read((client) => loadPreferences(client, params.userId)));
  });

  defineRoute<{ userId: string }, Record<string, never>, WrittenDocument>(router, deps, {
    ...common,
    method: 'put',
    path: '/users/:userId/preferences',
    operationId: 'replacePreferences',
    summary: "Replace a user's preference document",
    description: 'Every key optional: what is left out takes its default. Applies to notifications created from now on (what was already delivered or suppressed stays so). Pushes preferences.updated to the user\'s live connections. For the user themself or a platform app.',
    body: preferencesWrite,
    bodyRequired: true,
    requestExample: { categories: { social: { email: false } }, apps: { 'hugo-ai': { muted: true } }, quiet_hours: { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' } },
    success,
    errors: [400, 403, 412, 413, 415, 429],
  }, async ({ ctx, caller, params, body, write }) => {
    mayAccess(caller, params.userId);
    const expected = ifMatchRevision(ctx);
    const document = checked(normalise(body));
    return write(async (client) => {
      const saved = await savePreferences(client, params.userId, document, expected);
      if (!saved) throw stale();
      return answer(saved);
    });
  });

  defineRoute<{ userId: string }, Record<string, never>, Record<string, unknown>>(router, deps, {
    ...common,
    method: 'patch',
    path: '/users/:userId/preferences',
    operationId: 'patchPreferences',
    summary: "Change part of a user's preference document (JSON Merge Patch)",
    description: 'RFC 7386 (Content-Type application/merge-patch+json or application/json): objects merge key by key, null removes a key (quiet_hours: null removes the quiet hours; apps: {"hugo-ai": null} forgets that app\'s settings). The result is checked like a PUT. Pushes preferences.updated to the user\'s live connections. For the user themself or a platform app.',
    body: { ...preferencesWrite, description: 'a merge patch of the document' },
    bodyValidation: { type: 'object', description: 'any JSON object; the merged document is validated' },
    bodyRequired: true,
    requestExample: { apps: { 'hugo-ai': { muted: true } }, quiet_hours: null },
    success,
    errors: [400, 403, 412, 413, 415, 429],
  }, async ({ ctx, caller, params, body, write }) => {
    mayAccess(caller, params.userId);
    const expected = ifMatchRevision(ctx);
    return write(async (client) => {
      for (let attempt = 1; ; attempt++) {
        const current = await loadPreferences(client, params.userId);
        if (expected !== null && current.revision !== expected) throw stale();
        const merged = validate<WrittenDocument>(preferencesWrite, 'body', mergePatch(current.document, body));
        const saved = await savePreferences(client, params.userId, checked(normalise(merged)), current.revision);
        if (saved) return answer(saved);
        // another write landed between our read and our write: with If-Match that is a 412; without, merge again
        if (expected !== null || attempt === PATCH_ATTEMPTS) throw stale();
      }
    });
  });
}
