// Notification templates (DESIGN §10): an app stores Liquid templates per notification_type (title,
// body, email subject, email body); a create with template_data renders them. One Liquid engine,
// sandboxed: strict variables and filters (a missing variable is an error naming it), no file system
// (include/render/layout find nothing: the in-memory template map is empty), bounded parse size,
// render time and memory (a hostile loop is a 400, not a hung request). Title, body and subject are
// plain text (escaped later by whoever renders HTML); the email body is HTML and escapes every output.
import { Liquid } from 'liquidjs';
import sanitizeHtml from 'sanitize-html';
import { run, type Queryable } from './db.js';
import { sqlStatement } from './sql.js';

const LIMITS = { parseLimit: 50_000, renderLimit: 200, memoryLimit: 2_000_000 };
const common = { strictVariables: true, strictFilters: true, ownPropertyOnly: true, templates: {}, cache: 200, ...LIMITS };
const text = new Liquid(common);
const html = new Liquid({ ...common, outputEscape: 'escape' });

export interface NotificationTemplate {
  title: string;
  body: string;
  email_subject: string | null;
  email_body: string | null;
}

export const TEMPLATE_FIELDS = ['title', 'body', 'email_subject', 'email_body'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

const engineOf = (field: TemplateField) => (field === 'email_body' ? html : text);
const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);

/** Why a template does not parse (liquidjs's message), or null. */
export function parseProblem(field: TemplateField, source: string): string | null {
  try {
    engineOf(field).parse(source);
    return null;
  } catch (err) {
    return `does not parse: ${firstLine(err)}`;
  }
}

export class TemplateRenderError extends Error {}

/**
 * The app's email HTML, as an email may carry it: formatting tags only, links and images only over
 * http(s) (images: https), no scripts, styles, forms, frames or event handlers.
 */
export function emailSafe(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: ['p', 'br', 'b', 'strong', 'i', 'em', 'u', 'a', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'blockquote', 'code', 'pre', 'span', 'div', 'img', 'table', 'tr', 'td', 'th', 'thead', 'tbody', 'hr'],
    allowedAttributes: { a: ['href', 'title'], img: ['src', 'alt', 'width', 'height'] },
    allowedSchemes: ['http', 'https'],
    allowedSchemesByTag: { img: ['https'] },
    allowProtocolRelative: false,
  });
}

/** Each stored part rendered with data; a missing variable, a hostile loop or a limit is a TemplateRenderError. */
export async function renderTemplate(template: NotificationTemplate, data: Record<string, unknown>): Promise<NotificationTemplate> {
  const render = async (field: TemplateField, source: string) => {
    try {
      return (await engineOf(field).parseAndRender(source, data)) as string;
    } catch (err) {
      throw new TemplateRenderError(`${field}: ${firstLine(err)}`);
    }
  };
  return {
    title: (await render('title', template.title)).trim(),
    body: (await render('body', template.body)).trim(),
    email_subject: template.email_subject === null ? null : (await render('email_subject', template.email_subject)).trim(),
    email_body: template.email_body === null ? null : emailSafe(await render('email_body', template.email_body)),
  };
}

export type StoredTemplate = NotificationTemplate & { notification_type: string; created_at: Date; updated_at: Date };

const getTemplates = sqlStatement<{ app_id: string; notification_types: string[] }, StoredTemplate>('templates/get');
const storeEmailContent = sqlStatement<{ app_id: string; notification_ids: string[]; subjects: (string | null)[]; htmls: (string | null)[] }, Record<string, never>>('templates/store_email_content');

/** The acting app's stored templates for these types, by type. */
export async function loadTemplates(db: Queryable, appId: string, types: string[]): Promise<Map<string, StoredTemplate>> {
  const rows = types.length ? await run(db, getTemplates, { app_id: appId, notification_types: [...new Set(types)] }) : [];
  return new Map(rows.map((r) => [r.notification_type, r]));
}

/** Keep the rendered email parts of created notifications (only those whose template has them). */
export async function saveEmailContent(db: Queryable, appId: string, rendered: { id: string; email_subject: string | null; email_body: string | null }[]): Promise<void> {
  const withEmail = rendered.filter((r) => r.email_subject !== null || r.email_body !== null);
  if (withEmail.length === 0) return;
  await run(db, storeEmailContent, {
    app_id: appId, notification_ids: withEmail.map((r) => r.id), subjects: withEmail.map((r) => r.email_subject), htmls: withEmail.map((r) => r.email_body),
  });
}
