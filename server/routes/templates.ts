// Templates: PUT/GET/DELETE /apps/:appId/templates/:notificationType — an app's Liquid sources for
// one notification_type (lib/templates.ts). A source that does not parse is a 400 naming the field
// and liquidjs's message; nothing is written. Only the app itself (row-level security: its own rows).
import type Router from '@koa/router';
import { run } from '../../lib/db.js';
import { badRequest, notFound } from '../../lib/errors.js';
import { plainLine } from '../../lib/schemas/common.js';
import { templateExample, templateResult, templateWrite } from '../../lib/schemas/templates.js';
import { sqlStatement } from '../../lib/sql.js';
import { loadTemplates, parseProblem, TEMPLATE_FIELDS, type NotificationTemplate, type StoredTemplate } from '../../lib/templates.js';
import { defineRoute, type RouteDeps } from './define.js';

type TemplateRow = StoredTemplate;

const putTemplate = sqlStatement<{ app_id: string; notification_type: string } & NotificationTemplate, TemplateRow & { inserted: boolean }>('templates/put');
const deleteTemplate = sqlStatement<{ app_id: string; notification_type: string }, { notification_type: string }>('templates/delete');

const params = {
  type: 'object',
  required: ['appId', 'notificationType'],
  properties: { appId: { type: 'string' }, notificationType: { ...plainLine(1, 64), description: 'the notification_type the template renders' } },
} as const;

const out = ({ inserted: _inserted, ...row }: TemplateRow & { inserted?: boolean }) =>
  ({ ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() });

const common = { tag: 'Templates', who: 'app' as const, params, rateLimit: { name: 'webhooks' as const, key: (_c: unknown, p: Record<string, string>) => `app:${p.appId}` } };

export function templateRoutes(router: Router, deps: RouteDeps): void {
  defineRoute<{ appId: string; notificationType: string }, Record<string, never>, NotificationTemplate>(router, deps, {
    ...common,
    method: 'put',
    path: '/apps/:appId/templates/:notificationType',
    operationId: 'putTemplate',
    summary: 'Store the template of one notification_type',
    description: 'Liquid (liquidjs) with strict variables and filters, no file access, bounded render time and memory. A create with template_data instead of title and body renders it; a missing variable is then a 400 naming it. email_subject and email_body (HTML, every output escaped) are used when the notification is emailed on its own. A source that does not parse is a 400.',
    body: templateWrite,
    bodyRequired: true,
    requestExample: templateExample,
    success: { status: 201, description: 'Stored (a new template)', also: { status: 200, description: 'Replaced' }, schema: templateResult, example: { success: true, template: { notification_type: 'session_reminder', ...templateExample, created_at: '2026-12-01T10:00:00.000Z', updated_at: '2026-12-01T10:00:00.000Z' } } },
    errors: [400, 403, 413, 415, 429],
  }, async ({ params, body, write }) => {
    const problems = TEMPLATE_FIELDS.flatMap((field) => {
      const source = body[field];
      const problem = typeof source === 'string' ? parseProblem(field, source) : null;
      return problem ? [{ path: `body/${field}`, message: problem }] : [];
    });
    if (problems.length) throw badRequest(`${problems[0]!.path} ${problems[0]!.message}`, problems);
    return write(async (client) => {
      const [row] = await run(client, putTemplate, {
        app_id: params.appId, notification_type: params.notificationType, title: body.title, body: body.body,
        email_subject: body.email_subject ?? null, email_body: body.email_body ?? null,
      });
      return { status: row!.inserted ? 201 : 200, body: { success: true, template: out(row!) } };
    });
  });

  defineRoute<{ appId: string; notificationType: string }>(router, deps, {
    ...common,
    method: 'get',
    path: '/apps/:appId/templates/:notificationType',
    operationId: 'getTemplate',
    summary: 'Read the template of one notification_type',
    description: 'The stored sources, as written.',
    success: { status: 200, description: 'The template', schema: templateResult },
    errors: [400, 403, 404, 429],
  }, async ({ params, read }) => {
    const row = (await read((client) => loadTemplates(client, params.appId, [params.notificationType]))).get(params.notificationType);
    if (!row) throw notFound(`No template for notification_type "${params.notificationType}"`);
    return { status: 200, body: { success: true, template: out(row) } };
  });

  defineRoute<{ appId: string; notificationType: string }>(router, deps, {
    ...common,
    method: 'delete',
    path: '/apps/:appId/templates/:notificationType',
    operationId: 'deleteTemplate',
    summary: 'Remove the template of one notification_type',
    description: 'Creates with template_data for this type are refused from now on; notifications already created keep their text.',
    success: { status: 204, description: 'Removed' },
    errors: [400, 403, 404, 429],
  }, async ({ params, write }) => write(async (client) => {
    const [row] = await run(client, deleteTemplate, { app_id: params.appId, notification_type: params.notificationType });
    if (!row) throw notFound(`No template for notification_type "${params.notificationType}"`);
    return { status: 204, body: undefined };
  }));
}
