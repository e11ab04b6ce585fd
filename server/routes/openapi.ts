// GET /openapi.json: OpenAPI 3.1 generated from the route specs — the same JSON Schemas ajv
// validates with — so the document cannot drift from what the API accepts.
import Router from '@koa/router';
import { WWW_AUTHENTICATE } from '../../lib/errors.js';
import { errorEnvelope } from '../../lib/schemas/common.js';
import { PLATFORM_EVENT_TYPES, webhookPayload } from '../../lib/schemas/event-types.js';
import type { JsonSchema } from '../../lib/schemas/common.js';
import { IDEMPOTENCY_HEADER } from '../middleware/idempotency.js';
import { routeSpecs, type RouteSpec } from './define.js';

const API_PREFIX = '/api/v1';

const errorExamples: Record<number, { code: string; message: string; details?: unknown }> = {
  400: { code: 'validation_error', message: 'body/title must NOT have more than 200 characters', details: [{ path: 'body/title', message: 'must NOT have more than 200 characters' }] },
  401: { code: 'unauthorized', message: 'Authorization: Bearer <API key or user token> is required' },
  403: { code: 'forbidden', message: 'An API key acts only for its own app' },
  404: { code: 'not_found', message: 'Notification not found' },
  409: { code: 'conflict', message: 'A notification with this external_id already exists for this app' },
  412: { code: 'precondition_failed', message: 'The preferences changed since the If-Match revision (another tab or device): read them again and retry' },
  413: { code: 'payload_too_large', message: 'The request body is larger than 65536 bytes' },
  415: { code: 'unsupported_media_type', message: 'The request body must be JSON (Content-Type: application/json)' },
  422: { code: 'idempotency_key_reused', message: 'This Idempotency-Key was used with a different request in the last 24 hours' },
  429: { code: 'rate_limited', message: 'Rate limit exceeded (500 notifications requests per 15 min)', details: { retry_after: 120 } },
  500: { code: 'internal_error', message: 'Internal error', details: { request_id: '7c0e…' } },
  503: { code: 'unavailable', message: 'The service cannot reach its database right now; retry later' },
};

const descriptions: Record<number, string> = {
  400: 'Invalid input (ajv messages with field paths), or a state transition that is not allowed',
  401: 'Missing, invalid, expired or revoked credentials',
  403: "Another app's path or object, or another user's feed",
  404: 'Not found',
  409: 'Duplicate (external_id for this app), or the same Idempotency-Key still in flight',
  412: 'If-Match names a revision that is no longer current: read the resource again and retry',
  413: 'Body too large',
  415: 'Body is not JSON',
  422: 'Idempotency-Key reused with a different request',
  429: 'Rate limited',
  500: 'Unexpected; says nothing internal',
  503: 'The database is unreachable (or a conflict to retry); retry after Retry-After seconds',
};

const rateLimitHeaders = {
  'X-RateLimit-Limit': { $ref: '#/components/headers/X-RateLimit-Limit' },
  'X-RateLimit-Remaining': { $ref: '#/components/headers/X-RateLimit-Remaining' },
  'X-RateLimit-Reset': { $ref: '#/components/headers/X-RateLimit-Reset' },
};

function errorResponse(status: number, limited: boolean) {
  return {
    description: descriptions[status] ?? 'Error',
    ...(status === 429 ? { headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' }, ...rateLimitHeaders } }
      : status === 401 ? { headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } } }
      : status === 503 ? { headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' } } }
      : limited ? { headers: rateLimitHeaders } : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, example: { success: false, error: errorExamples[status] } } },
  };
}

function parameters(spec: RouteSpec) {
  const params: Record<string, unknown>[] = [];
  const pathProps = (spec.params?.properties ?? {}) as Record<string, JsonSchema>;
  for (const [, name] of spec.path.matchAll(/:(\w+)/g)) {
    params.push({ name, in: 'path', required: true, schema: pathProps[name!] ?? { type: 'string' } });
  }
  const queryProps = (spec.query?.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, schema] of Object.entries(queryProps)) {
    params.push({ name, in: 'query', required: false, schema, ...(schema.description ? { description: schema.description } : {}) });
  }
  if (spec.idempotent) {
    params.push({
      name: IDEMPOTENCY_HEADER, in: 'header', required: false,
      description: 'Same key and same request within 24 h: the stored response (Idempotent-Replayed: true). Same key, different request: 422.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  if (spec.versioned && spec.method !== 'get') {
    params.push({
      name: 'If-Match', in: 'header', required: false,
      description: 'The ETag this change is based on: 412 when the resource has changed since (another tab, another device). Without it the change applies to whatever is current.',
      schema: { type: 'string', pattern: '^"\\d+"$', examples: ['"3"'] },
    });
  }
  return params;
}

/** The spec's request example; an empty object where the body is optional and has no example. */
function requestExample(spec: RouteSpec): { example?: unknown } {
  if (spec.requestExample !== undefined) return { example: spec.requestExample };
  const required = (spec.body?.required as string[] | undefined) ?? [];
  return spec.bodyRequired || required.length ? {} : { example: {} };
}

function operation(spec: RouteSpec) {
  const limited = spec.rateLimit !== undefined;
  const success = spec.success;
  const documented = (description: string) => ({
    description,
    ...(limited || spec.idempotent || spec.versioned
      ? {
          headers: {
            ...(limited ? rateLimitHeaders : {}),
            ...(spec.idempotent ? { 'Idempotent-Replayed': { $ref: '#/components/headers/Idempotent-Replayed' } } : {}),
            ...(spec.versioned ? { ETag: { $ref: '#/components/headers/ETag' } } : {}),
          },
        }
      : {}),
    ...(success.schema || success.example !== undefined
      ? { content: { 'application/json': { schema: success.schema ?? { type: 'object' }, ...(success.example !== undefined ? { example: success.example } : {}) } } }
      : {}),
  });
  const responses: Record<string, unknown> = { [success.status]: documented(success.description) };
  if (success.also) responses[success.also.status] = documented(success.also.description);
  for (const status of [...new Set([...spec.errors, 401, 500, 503])].sort()) responses[status] = errorResponse(status, limited);
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: spec.who === 'app' ? [{ appKey: [] }] : [{ userToken: [] }, { appKey: [] }],
    parameters: parameters(spec),
    ...(spec.body
      ? { requestBody: { required: spec.bodyRequired ?? false, content: { 'application/json': { schema: spec.body, ...requestExample(spec) } } } }
      : {}),
    responses,
  };
}

/** Headers of every webhook delivery (lib/webhooks/signature.ts, worker/deliveries/call.ts, lib/webhooks/http-client.ts). */
const webhookHeaders = [
  { name: 'webhook-id', description: 'msg_…: the same on every retry and replay of one event to one webhook (deduplicate on it)' },
  { name: 'webhook-timestamp', description: 'Unix seconds of this attempt; reject ones too far from now (Standard Webhooks: 5 min)' },
  { name: 'webhook-signature', description: 'v1,<base64 HMAC-SHA256 of "id.timestamp.body"> keyed with the base64 part of the whsec_ secret; space-separated list of two while a secret rotates' },
  { name: 'X-Oriva-Signature', description: 'sha256=<hex HMAC-SHA256 of the body> keyed with the whole whsec_ string (the seed plan\'s header)' },
  { name: 'X-Oriva-Event-Type', description: 'the event type, e.g. notification.dismissed' },
  { name: 'X-Oriva-Delivery-Attempt', description: '1 for the first attempt, 2 for the first retry, …' },
  { name: 'User-Agent', description: 'Oriva-Webhooks/1.0' },
].map(({ name, description }) => ({ name, in: 'header', required: true, description, schema: { type: 'string' } }));

/** OpenAPI 3.1 `webhooks`: what a subscribed endpoint receives for each event type the platform emits. */
function webhookDescriptions(): Record<string, unknown> {
  return Object.fromEntries(PLATFORM_EVENT_TYPES.map((info) => [info.name, {
    post: {
      operationId: `webhook_${info.name.replace('.', '_')}`,
      summary: info.name,
      description: `${info.description} Answer 2xx within 10 s; anything else is retried with backoff (410 disables the webhook).`,
      tags: ['Webhooks'],
      security: [], // our call to the app's endpoint: authenticated by the signature headers
      parameters: webhookHeaders,
      requestBody: { required: true, content: { 'application/json': { schema: webhookPayload(info) } } },
      responses: { 200: { description: 'Received (any 2xx)' }, 410: { description: 'Gone: the webhook is disabled' } },
    },
  }]));
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routeSpecs()) {
    const path = API_PREFIX + spec.path.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[spec.method] = operation(spec);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Oriva Events & Notifications API',
      version: '1.0.0',
      description: 'Apps publish events and notifications for users; notification state is the same in every app; apps subscribe with webhooks. Every error has the shape {"success": false, "error": {"code", "message", "details"?}}.',
      contact: { name: 'Oriva platform team' },
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    tags: [
      { name: 'Events', description: 'Generic events an app publishes, and its event log' },
      { name: 'Installations', description: 'Which apps a user lets reach them: an app reaches only the users who installed it' },
      { name: 'Preferences', description: 'What reaches a user: channels, categories, apps and types, quiet hours, email — one document, applied when a notification is created' },
      { name: 'Notifications', description: "Notifications for users, their shared state, a user's aggregated feed, and what happened on each channel" },
      { name: 'Audiences', description: 'Topics (an app\'s named lists of its users) and broadcasts: one notification to a topic or to every user, each recipient with their own state' },
      { name: 'Templates', description: 'Liquid templates per notification_type: a create with template_data renders the title, the body and the email parts' },
      { name: 'Webhooks', description: 'Subscriptions to event types, signed deliveries, the delivery log and replays' },
      { name: 'Operators', description: 'The admin console\'s reads and actions: who the caller is; for platform apps, webhook health across apps with replay, and notification search' },
      { name: 'Stats', description: 'What happened, per hour or day: notifications created, delivered, read, acted on; emails; webhook attempts; the success rates' },
    ],
    paths,
    webhooks: webhookDescriptions(),
    components: {
      securitySchemes: {
        appKey: { type: 'http', scheme: 'bearer', bearerFormat: 'oriva_sk_…', description: "An app's API key: acts only for its own app (platform apps may act for any user)" },
        userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A user token (HS256, sub = user id, exp enforced)' },
      },
      schemas: { Error: errorEnvelope },
      headers: {
        'X-RateLimit-Limit': { description: 'Requests allowed in the window', schema: { type: 'integer' } },
        'X-RateLimit-Remaining': { description: 'Requests left in the window', schema: { type: 'integer' } },
        'X-RateLimit-Reset': { description: 'When the window ends (Unix seconds)', schema: { type: 'integer' } },
        'Retry-After': { description: 'Seconds until a request may succeed', schema: { type: 'integer' } },
        'WWW-Authenticate': { description: 'The scheme to authenticate with', schema: { const: WWW_AUTHENTICATE } },
        ETag: { description: 'The revision of a versioned resource, e.g. "3": send it back as If-Match to change it only if nobody else has', required: true, schema: { type: 'string', pattern: '^"\\d+"$' } },
        'Idempotent-Replayed': { description: 'Present when this is the stored answer to an earlier request with the same Idempotency-Key', schema: { const: 'true' } },
      },
    },
  };
}

export function openApiRoutes(): Router {
  const router = new Router();
  let document: Record<string, unknown> | undefined;
  router.get('/openapi.json', (ctx) => {
    ctx.body = (document ??= openApiDocument());
  });
  return router;
}
