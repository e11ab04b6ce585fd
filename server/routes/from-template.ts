// A create item with template_data: its title and body rendered from the app's stored template for
// its notification_type (lib/templates.ts), then checked like a written title and body. Problems are
// field paths with exact messages, for a single create's 400 or a batch item's result.
import type { PoolClient } from '../../lib/db.js';
import type { NewNotification, ReadyNotification } from '../../lib/notifications.js';
import { notificationCreate } from '../../lib/schemas/notifications.js';
import { loadTemplates, renderTemplate, TemplateRenderError } from '../../lib/templates.js';
import { check } from '../middleware/validate.js';

export type Problem = { path: string; message: string };

/** An item's content: title and body, or template_data — exactly one of the two. */
export function contentProblems(item: Pick<NewNotification, 'title' | 'body' | 'template_data'>, prefix: string): Problem[] {
  if (item.template_data !== undefined) {
    return item.title !== undefined || item.body !== undefined
      ? [{ path: `${prefix}/template_data`, message: 'cannot be given with title or body: the template renders them' }]
      : [];
  }
  return (['title', 'body'] as const).filter((k) => item[k] === undefined).map((k) => ({ path: `${prefix}/${k}`, message: 'is required (or give template_data)' }));
}

export interface Rendered {
  item: ReadyNotification;
  email: { email_subject: string | null; email_body: string | null } | null;
}

/** Each item as it will be written, or the problems that refuse it. Items without template_data pass through. */
export async function renderItems(client: PoolClient, appId: string, items: { item: NewNotification; prefix: string }[]): Promise<(Rendered | Problem[])[]> {
  const templates = await loadTemplates(client, appId, items.filter((i) => i.item.template_data !== undefined).map((i) => i.item.notification_type));
  return Promise.all(items.map(async ({ item, prefix }): Promise<Rendered | Problem[]> => {
    if (item.template_data === undefined) return { item: item as ReadyNotification, email: null };
    const template = templates.get(item.notification_type);
    if (!template) return [{ path: `${prefix}/template_data`, message: `no template for notification_type "${item.notification_type}"` }];
    try {
      const { title, body, email_subject, email_body } = await renderTemplate(template, item.template_data);
      const { template_data: _data, ...rest } = item;
      const rendered = { ...rest, title, body };
      const problems = check(notificationCreate, 'body', rendered)
        .filter((p) => p.path === 'body/title' || p.path === 'body/body')
        .map((p) => ({ path: p.path.replace(/^body/, prefix), message: `(rendered from the template) ${p.message}` }));
      return problems.length ? problems : { item: rendered, email: { email_subject, email_body } };
    } catch (err) {
      if (err instanceof TemplateRenderError) return [{ path: `${prefix}/template_data`, message: err.message }];
      throw err;
    }
  }));
}
