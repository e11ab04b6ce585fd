// Real HTTP against a test server: small fetch helpers that return status, headers and parsed JSON.
import type { ServerHandle } from '../../server/server.js';

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export type Send = (method: string, path: string, options?: { headers?: Record<string, string>; json?: unknown; raw?: string | Uint8Array }) => Promise<Answer>;

/** call('POST', '/apps/a/events', { headers: auth, json: {...} }) against /api/v1 of this server. */
export function client(server: ServerHandle): Send {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    const url = path.startsWith('/api/') || path.startsWith('/openapi') ? `${server.url}${path}` : `${server.url}/api/v1${path}`;
    const response = await fetch(url, { method, headers, body: body as BodyInit | undefined });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };
}

export const notification = (overrides: Record<string, unknown> = {}) => ({
  external_id: `ext_${Math.random().toString(36).slice(2)}`,
  user_id: 'user_456',
  notification_type: 'session_reminder',
  title: 'Session starting in 10 minutes',
  body: 'Your session with Sarah starts soon',
  ...overrides,
});

export interface RowCounts {
  notifications: number;
  states: number;
  events: number;
  webhooks: number;
  idempotency_keys: number;
}

/** Row counts of everything the API writes: a rejected request must leave them unchanged. */
export async function rowCounts(db: { system: { query: (text: string) => Promise<{ rows: any[] }> } }): Promise<RowCounts> {
  const { rows } = await db.system.query(`select
      (select count(*)::int from oriva.platform_notifications) as notifications,
      (select count(*)::int from oriva.notification_state) as states,
      (select count(*)::int from oriva.platform_events) as events,
      (select count(*)::int from oriva.app_webhooks) as webhooks,
      (select count(*)::int from oriva.idempotency_keys) as idempotency_keys`);
  return rows[0];
}

/** The error envelope of a failure, for t.match. */
export const failure = (code: string) => ({ success: false, error: { code, message: String } });
