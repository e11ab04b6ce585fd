// Creating notifications: the typed wrapper of sql/notifications/create.sql, shared by the REST API
// (single and batch creates) and the API bench. The statement names its parameters; they are built
// here from the items' fields, one array per column.
import { run, type Queryable } from './db.js';
import type { Route } from './routing.js';
import { sqlStatement } from './sql.js';

const createNotifications = sqlStatement<{
  app_id: string;
  source: string;
  external_ids: string[];
  user_ids: string[];
  notification_types: string[];
  titles: string[];
  bodies: string[];
  action_urls: (string | null)[];
  action_labels: (string | null)[];
  image_urls: (string | null)[];
  icon_urls: (string | null)[];
  context_data: string[];
  priorities: string[];
  expires_at: (string | null)[];
}, CreatedNotification>('notifications/create');

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
  /** The routing step's decision for each channel. */
  routes: Route[];
}

/** Insert valid notifications in one statement; the ones whose external_id exists are left out. */
export async function insertNotifications(db: Queryable, appId: string, items: NewNotification[]): Promise<CreatedNotification[]> {
  const column = <K extends keyof NewNotification>(k: K) => items.map((n) => n[k] ?? null);
  return run(db, createNotifications, {
    app_id: appId,
    source: appId,
    external_ids: items.map((n) => n.external_id),
    user_ids: items.map((n) => n.user_id),
    notification_types: items.map((n) => n.notification_type),
    titles: items.map((n) => n.title),
    bodies: items.map((n) => n.body),
    action_urls: column('action_url'),
    action_labels: column('action_label'),
    image_urls: column('image_url'),
    icon_urls: column('icon_url'),
    context_data: items.map((n) => JSON.stringify(n.context_data ?? {})),
    priorities: items.map((n) => n.priority ?? 'normal'),
    expires_at: column('expires_at'),
  });
}
