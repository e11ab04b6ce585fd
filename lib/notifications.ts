// Creating notifications: the typed wrapper of sql/notifications/create.sql, shared by the REST API
// (single and batch creates) and the API bench. Its parameters are built here from named fields, one
// array per column, so no caller depends on the statement's parameter order.
import { run, type Queryable } from './db.js';
import { sqlFile } from './sql.js';

const createNotifications = sqlFile('notifications/create');

export interface NewNotification {
  external_id: string;
  user_id: string;
  notification_type: string;
  title: string;
  body: string;
  action_url?: string;
  action_label?: string;
  image_url?: string;
  icon_url?: string;
  priority?: string;
  context_data?: Record<string, unknown>;
  expires_at?: string;
}

export interface CreatedNotification {
  id: string;
  external_id: string;
  created_at: Date;
}

/** Insert valid notifications in one statement; the ones whose external_id exists are left out. */
export async function insertNotifications(db: Queryable, appId: string, items: NewNotification[]): Promise<CreatedNotification[]> {
  const column = <K extends keyof NewNotification>(k: K) => items.map((n) => n[k] ?? null);
  return run<CreatedNotification>(db, createNotifications, [
    appId, column('external_id'), column('user_id'), column('notification_type'), column('title'), column('body'),
    column('action_url'), column('action_label'), column('image_url'), column('icon_url'),
    items.map((n) => JSON.stringify(n.context_data ?? {})), items.map((n) => n.priority ?? 'normal'), column('expires_at'),
    appId,
  ]);
}
