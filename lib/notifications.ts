// Creating notifications: the typed wrapper of sql/notifications/create.sql, shared by the REST API
// (single and batch creates) and the API bench. The statement names its parameters; they are built
// here from the items' fields, one array per column.
import { run, type Queryable } from './db.js';
import type { RefusalReason, SuppressionReason } from './routing.js';
import { sqlStatement } from './sql.js';

const createNotifications = sqlStatement<{
  app_id: string;
  install_required: boolean;
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
  categories: string[];
}, CreateRow>('notifications/create');

export interface NewNotification {
  external_id: string;
  user_id: string;
  notification_type: string;
  /** Given, or rendered from the app's template when the item has template_data instead. */
  title?: string;
  body?: string;
  /** Instead of title and body: the data the app's template for notification_type renders. */
  template_data?: Record<string, unknown>;
  action_url?: string;
  action_label?: string;
  image_url?: string;
  icon_url?: string;
  priority?: string;
  category?: string;
  context_data?: Record<string, unknown>;
  expires_at?: string;
}

/** A channel the user's preferences switched off for one notification, and why. */
export interface Suppression {
  channel: 'in_app' | 'email';
  reason: SuppressionReason;
}

/**
 * What became of one item: written (with the channels the user's preferences suppressed), refused
 * by the routing step, or a duplicate external_id.
 */
export type CreateOutcome =
  | { outcome: 'created'; external_id: string; id: string; created_at: Date; suppressed: Suppression[] }
  | { outcome: 'refused'; external_id: string; reason: RefusalReason }
  | { outcome: 'duplicate'; external_id: string };

/** A notification ready to write: its title and body given or rendered. */
export type ReadyNotification = Omit<NewNotification, 'template_data'> & { title: string; body: string };

type CreateRow =
  | { outcome: 'created'; external_id: string; ord: null; reason: SuppressionReason | null; email_suppressed: SuppressionReason | null; id: string; created_at: Date }
  | { outcome: 'refused'; external_id: null; ord: number; reason: RefusalReason; email_suppressed: null; id: null; created_at: null };

export interface CreateOptions {
  /** INSTALL_REQUIRED: refuse users who have not installed the app (platform apps are exempt). */
  installRequired: boolean;
}

/** Route and insert notifications in one statement: one outcome per item, in item order. */
export async function insertNotifications(db: Queryable, appId: string, items: ReadyNotification[], options: CreateOptions): Promise<CreateOutcome[]> {
  const column = <K extends keyof ReadyNotification>(k: K) => items.map((n) => n[k] ?? null);
  const rows = await run(db, createNotifications, {
    app_id: appId,
    install_required: options.installRequired,
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
    categories: items.map((n) => n.category ?? 'system'),
  });
  const refused = new Map<number, RefusalReason>();
  const created = new Map<string, Extract<CreateRow, { outcome: 'created' }>>();
  for (const row of rows) {
    if (row.outcome === 'refused') refused.set(row.ord, row.reason);
    else created.set(row.external_id, row);
  }
  return items.map((item, index): CreateOutcome => {
    const reason = refused.get(index + 1);
    if (reason) return { outcome: 'refused', external_id: item.external_id, reason };
    const row = created.get(item.external_id);
    if (!row) return { outcome: 'duplicate', external_id: item.external_id };
    created.delete(item.external_id); // a repeat of an external_id later in the batch is a duplicate
    const suppressed: Suppression[] = [];
    if (row.reason) suppressed.push({ channel: 'in_app', reason: row.reason });
    if (row.email_suppressed) suppressed.push({ channel: 'email', reason: row.email_suppressed });
    return { outcome: 'created', external_id: row.external_id, id: row.id, created_at: row.created_at, suppressed };
  });
}
