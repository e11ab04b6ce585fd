// JSON Schemas (2020-12) shared by the endpoints: ajv validates with them and /openapi.json is
// generated from them, so the documentation cannot drift from what the API accepts.

import { APP_JSON_MAX_BYTES, APP_JSON_MAX_DEPTH } from '../app-json.js';

export type JsonSchema = Record<string, unknown>;

/** Opaque user ids: UUIDs, `user_456`, emails (DESIGN §3). */
export const userId = { type: 'string', pattern: '^[A-Za-z0-9_.:@-]{1,128}$', examples: ['user_456'] } as const;
/** Path parameters of /users/:userId/… */
export const userParams = { type: 'object', required: ['userId'], properties: { userId } } as const;
export const appId = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', examples: ['work-buddy'] } as const;
export const uuid = { type: 'string', format: 'uuid' } as const;
export const timestamp = { type: 'string', format: 'date-time' } as const;
export const nullableTimestamp = { type: ['string', 'null'], format: 'date-time' } as const;

/** One line of plain text: no control characters at all. */
export const plainLine = (minLength: number, maxLength: number) =>
  ({ type: 'string', minLength, maxLength, pattern: '^[^\\p{Cc}\\u2028\\u2029]*$' }) as const;
/** Plain text that may contain tabs and line breaks, but no other control characters. */
export const plainText = (minLength: number, maxLength: number) =>
  ({ type: 'string', minLength, maxLength, pattern: '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$' }) as const;

/** A link a client may open: any scheme (deep links like workbuddy://…) except script-bearing ones. */
export const link = {
  type: 'string',
  maxLength: 2048,
  format: 'uri',
  not: { pattern: '^\\s*([jJ][aA][vV][aA][sS][cC][rR][iI][pP][tT]|[vV][bB][sS][cC][rR][iI][pP][tT]|[dD][aA][tT][aA]):' },
} as const;

/**
 * Free-form JSON object an app attaches (context_data, event_data): bounded in depth and size
 * (lib/app-json.ts) by the `x-app-json` keyword that server/middleware/validate.ts defines.
 */
export const jsonObject = {
  type: 'object',
  additionalProperties: true,
  maxProperties: 100,
  'x-app-json': true,
  description: `Any JSON object of the app's, at most ${APP_JSON_MAX_DEPTH} levels deep and ${APP_JSON_MAX_BYTES} bytes as JSON.`,
} as const;

/**
 * A response object the service owns: every property listed is always sent (unless named optional),
 * and nothing else is (additionalProperties: false). Outside production the route pipeline checks
 * every reply against it (server/routes/define.ts), so the document cannot drift from the service.
 */
export function closed<P extends Record<string, unknown>>(properties: P, optional: readonly string[] = []) {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    properties,
  } as const;
}

/** JSON that belongs to an app (event_data, context_data) as it is sent back: any object. */
export const appJsonOut = { type: 'object', additionalProperties: true, description: "The app's own JSON object, as it sent it" } as const;

export const errorEnvelope = closed({
  success: { const: false },
  error: closed({
    code: { type: 'string', examples: ['validation_error'] },
    message: { type: 'string' },
    details: { description: 'Field errors ({path, message} items) for validation errors; other facts for other codes' },
  }, ['details']),
});

export const limitOffset = (max: number, fallback: number) => ({
  limit: { type: 'integer', minimum: 1, maximum: max, default: fallback },
  offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
  cursor: { type: 'string', minLength: 1, maxLength: 200, description: 'next_cursor of the previous page (keyset pagination; use instead of offset)' },
});

const paginationFields = {
  limit: { type: 'integer' },
  offset: { type: 'integer' },
  has_more: { type: 'boolean' },
  next_cursor: { type: ['string', 'null'], description: 'pass as cursor for the next page; null on the last' },
} as const;
export const pagination = closed(paginationFields);
/** The feed's pagination also says how many notifications match in all. */
export const countedPagination = closed({ total: { type: 'integer', description: 'notifications matching the filters, in all' }, ...paginationFields });
