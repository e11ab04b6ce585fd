// One way to declare an endpoint: its spec (who may call it, its JSON schemas, rate limit, examples)
// and its handler. defineRoute runs the same pipeline for every endpoint — caller (401/403) → rate
// limit (429) → body (415/413/400) → ajv validation (400) → handler — and records the spec, from
// which /openapi.json is generated. A single create's hit is taken later, with the others of the
// transaction it shares (group commit), and a request that fails before it is charged alone: the
// same answers, one statement per shared transaction instead of one per request.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { inTransaction, type PoolClient } from '../../lib/db.js';
import { AppError, preconditionFailed } from '../../lib/errors.js';
import type { JsonSchema } from '../../lib/schemas/common.js';
import { decryptSecret, encryptSecret, type Keyring } from '../../lib/secrets.js';
import type { AppDeps } from '../app.js';
import type { GroupCommit, GroupKind } from '../group-commit.js';
import { actorOf, type Caller } from '../../lib/callers.js';
import { callerOf, requireApp } from '../middleware/auth.js';
import { claimKey, idempotencyKeyOf, requestHash, storeReply, type Reply } from '../middleware/idempotency.js';
import { DEFAULT_BODY_LIMIT, readJsonBody } from '../middleware/json-body.js';
import type { LimitName, RateLimiters } from '../middleware/rate-limit.js';
import { responseProblems, validate } from '../middleware/validate.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec {
  method: Method;
  /** Koa path under /api/v1, e.g. /apps/:appId/events */
  path: string;
  operationId: string;
  summary: string;
  description: string;
  tag: string;
  /** app: an API key, acting for the path's :appId when there is one; any: an API key or a user token */
  who: 'app' | 'any';
  params?: JsonSchema;
  query?: JsonSchema;
  body?: JsonSchema;
  /** Validate the body with this schema instead of `body` (which the document shows), when the handler checks parts itself. */
  bodyValidation?: JsonSchema;
  bodyRequired?: boolean;
  bodyLimit?: number;
  requestExample?: unknown;
  rateLimit?: {
    name: LimitName;
    key: (caller: Caller, params: Record<string, string>) => string;
    /** Taken when the create joins a shared transaction (RouteRequest.share), with the others in it. */
    takenWhenShared?: boolean;
  };
  /** Honour the Idempotency-Key header (app POSTs that create something). */
  idempotent?: boolean;
  /** The reply holds a secret: the idempotency table keeps it encrypted (lib/secrets.ts), never as text. */
  replyHoldsSecret?: boolean;
  /**
   * A versioned resource: the success reply carries ETag: "<revision>", and a write honours
   * If-Match (412 when the resource moved on). The handler reads If-Match with ifMatchRevision.
   */
  versioned?: boolean;
  success: {
    status: number; description: string; schema?: JsonSchema; example?: unknown;
    /** A second status with the same body, e.g. 200 for a PUT that found it already there (201 when it made it). */
    also?: { status: number; description: string };
  };
  /** Error statuses this endpoint can answer besides 401 and 500. */
  errors: number[];
}

export interface RouteRequest<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  ctx: Context;
  caller: Caller;
  params: P;
  query: Q;
  body: B;
  /** One transaction with this caller as the row-level-security actor. */
  read: <T>(fn: (client: PoolClient) => Promise<T>) => Promise<T>;
  /** One write transaction; with an Idempotency-Key, the key is claimed and the reply stored in it. */
  write: (fn: (client: PoolClient) => Promise<Reply>) => Promise<Reply>;
  /**
   * An app's single create, written in a transaction it may share with concurrent creates (group
   * commit, server/group-commit.ts); the Idempotency-Key is honoured as by write.
   */
  share: <I>(kind: GroupKind<I>, item: I) => Promise<Reply>;
}

const registry = new Map<string, RouteSpec>();

/** Every endpoint defined so far, in definition order (for /openapi.json). */
export function routeSpecs(): RouteSpec[] {
  return [...registry.values()];
}

export interface RouteDeps extends AppDeps {
  limits: RateLimiters;
  commits: GroupCommit;
}

export function defineRoute<P = Record<string, string>, Q = Record<string, unknown>, B = unknown>(
  router: Router,
  deps: RouteDeps,
  spec: RouteSpec,
  handler: (req: RouteRequest<P, Q, B>) => Promise<Reply>,
): void {
  registry.set(`${spec.method} ${spec.path}`, spec);
  const checkResponses = deps.config.nodeEnv !== 'production';
  const limiters = spec.rateLimit
    ? deps.limits.for(spec.rateLimit.name, (ctx) => spec.rateLimit!.key(ctx.state.caller as Caller, ctx.params as Record<string, string>))
    : null;

  const pipeline = async (ctx: Context) => {
    const caller = spec.who === 'app' ? requireApp(ctx, (ctx.params as Record<string, string | undefined>).appId) : callerOf(ctx);
    ctx.state.caller = caller;
    let reply: Reply | undefined;
    const request = { shared: false };
    const rest = async () => {
      reply = await handle(ctx, caller, request);
    };
    if (!limiters) await rest();
    else if (!spec.rateLimit!.takenWhenShared) await limiters(ctx, rest);
    else {
      try {
        await rest();
      } catch (err) {
        // Failed before it joined a shared transaction: its hit, alone (a 429 when none is left).
        if (request.shared) throw err;
        await limiters(ctx, () => {
          throw err;
        });
      }
    }
    if (!reply) return;
    for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
    if (checkResponses) assertDocumented(spec, reply, ctx);
    send(ctx, reply);
  };

  const handle = async (ctx: Context, caller: Caller, request: { shared: boolean }): Promise<Reply> => {
    const { value: rawBody, raw } = (spec.method === 'get' || spec.method === 'delete') && !spec.body
      ? { value: undefined, raw: '' }
      : await readJsonBody(ctx, spec.bodyLimit ?? DEFAULT_BODY_LIMIT);
    const params = spec.params ? validate<P>(spec.params, 'params', { ...ctx.params }) : (ctx.params as P);
    const query = spec.query ? validate<Q>(spec.query, 'query', { ...ctx.query }) : ({} as Q);
    const bodyValue = rawBody === undefined && !spec.bodyRequired ? {} : rawBody;
    const bodySchema = spec.bodyValidation ?? spec.body;
    const body = bodySchema ? validate<B>(bodySchema, 'body', bodyValue) : (undefined as B);
    const key = spec.idempotent ? idempotencyKeyOf(ctx) : null;
    const actor = actorOf(caller);
    return handler({
      ctx,
      caller,
      params,
      query,
      body,
      read: (fn) => inTransaction(deps.pool, actor, fn),
      write: (fn) =>
        inTransaction(deps.pool, actor, async (client) => {
          if (!key || caller.kind !== 'app') return fn(client);
          const hash = requestHash(ctx, raw);
          const stored = await claimKey(client, caller.appId, key, hash);
          if (stored) return { ...(spec.replyHoldsSecret ? unsealReply(deps.config.secrets, stored, caller.appId) : stored), replayed: true };
          const reply = await fn(client);
          await storeReply(client, caller.appId, key, spec.replyHoldsSecret ? sealReply(deps.config.secrets, reply, caller.appId) : reply);
          return reply;
        }, { genericPlans: true }),
      share: (kind, item) => {
        if (caller.kind !== 'app' || spec.replyHoldsSecret) throw new Error(`${spec.operationId}: only an app's create whose reply holds no secret can share a transaction`);
        request.shared = true;
        const hit = spec.rateLimit?.takenWhenShared
          ? { limit: { name: spec.rateLimit.name, id: spec.rateLimit.key(caller, ctx.params as Record<string, string>) }, taken: (headers: Record<string, string>) => ctx.set(headers) }
          : undefined;
        return deps.commits.submit(kind, { actor: { ...actor, appId: caller.appId }, key: key ? { key, hash: requestHash(ctx, raw) } : null, item, hit });
      },
    });
  };

  router[spec.method](spec.path, pipeline);
}

/** A reply kept for replay with its body encrypted: `{"sealed": "enc:v1:…"}`. */
function sealReply(ring: Keyring, reply: Reply, appId: string): Reply {
  return { status: reply.status, body: { sealed: encryptSecret(ring, JSON.stringify(reply.body), appId) } };
}

function unsealReply(ring: Keyring, stored: Reply, appId: string): Reply {
  const { sealed } = stored.body as { sealed: string };
  return { status: stored.status, body: JSON.parse(decryptSecret(ring, sealed, appId)) as unknown };
}

const INTEGER_HEADER = /^\d+$/;
const REVISION_TAG = /^"(\d+)"$/;

/** The ETag of a versioned resource at this revision. */
export const revisionTag = (revision: number) => `"${revision}"`;

/** The revision an If-Match header names: null without one; a 412 when it names none (or several, or *). */
export function ifMatchRevision(ctx: Context): number | null {
  const header = ctx.get('If-Match');
  if (!header) return null;
  const match = REVISION_TAG.exec(header.trim());
  if (!match) throw preconditionFailed('If-Match must be one ETag of this resource, e.g. "3"');
  return Number(match[1]);
}
export const RATE_LIMIT_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'] as const;

/**
 * Outside production every reply is checked against what /openapi.json says of it — status, body
 * schema, documented headers — so a route that drifts from the contract fails the test that hit it
 * (500 undocumented_response naming the differences) instead of reaching a client.
 */
export function undocumented(spec: RouteSpec, reply: Reply, header: (name: string) => string): string[] {
  const problems: string[] = [];
  const statuses = [spec.success.status, ...(spec.success.also ? [spec.success.also.status] : [])];
  if (!statuses.includes(reply.status)) problems.push(`status ${reply.status} is not the documented ${statuses.join(' or ')}`);
  else if (spec.success.schema) problems.push(...(responseProblems(spec.success.schema, reply.body) ?? []));
  else if (reply.status !== 204) problems.push('a body where none is documented');
  if (spec.rateLimit) {
    for (const name of RATE_LIMIT_HEADERS) {
      if (!INTEGER_HEADER.test(header(name))) problems.push(`header ${name} is ${JSON.stringify(header(name))}, not an integer`);
    }
  }
  if (reply.replayed && !spec.idempotent) problems.push('Idempotent-Replayed on an operation without Idempotency-Key');
  if (spec.versioned && !REVISION_TAG.test(header('ETag'))) problems.push(`header ETag is ${JSON.stringify(header('ETag'))}, not a revision tag`);
  for (const name of Object.keys(reply.headers ?? {})) {
    if (!(name === 'ETag' && spec.versioned)) problems.push(`header ${name} is not documented`);
  }
  return problems;
}

function assertDocumented(spec: RouteSpec, reply: Reply, ctx: Context): void {
  const problems = undocumented(spec, reply, (name) => ctx.response.get(name));
  if (problems.length > 0) {
    throw new AppError(500, 'undocumented_response', `${spec.operationId} answered outside its OpenAPI description: ${problems.join('; ')}`, problems);
  }
}

function send(ctx: Context, reply: Reply): void {
  ctx.status = reply.status;
  if (reply.replayed) ctx.set('Idempotent-Replayed', 'true');
  if (reply.status !== 204) ctx.body = reply.body;
}
