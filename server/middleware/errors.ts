// First in the chain: every failure leaves as {"success": false, "error": {code, message, details?}}.
// Postgres refusing a value (bad text, a check, a duplicate) is the client's input: a 4xx, never a
// 500. 5xx say nothing internal; they are logged with the request id.
import type { Middleware } from 'koa';
import { AppError, isDatabaseUnavailable, unavailable } from '../../lib/errors.js';
import { errorEnvelope as errorEnvelopeSchema } from '../../lib/schemas/common.js';
import { responseProblems } from './validate.js';
import type { Logger } from '../../lib/log.js';

/** checkBodies (outside production): every error body is checked against the documented envelope too. */
export function errorEnvelope(log: Logger, { checkBodies = false } = {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const known = err instanceof AppError ? err : (fromPostgresError(err) ?? fromHttpError(err) ?? (isDatabaseUnavailable(err) ? unavailable() : null));
      if (known) {
        if (known.status >= 500) log.warn({ err, requestId: ctx.state.requestId }, 'service unavailable');
        ctx.status = known.status;
        ctx.set(known.headers);
        ctx.body = { success: false, error: { code: known.code, message: known.message, ...(known.details === undefined ? {} : { details: known.details }) } };
        const problems = checkBodies ? responseProblems(errorEnvelopeSchema, ctx.body) : null;
        if (problems) {
          ctx.status = 500;
          ctx.body = { success: false, error: { code: 'undocumented_response', message: `an error answered outside its OpenAPI description: ${problems.join('; ')}`, details: problems } };
        }
        return;
      }
      log.error({ err, requestId: ctx.state.requestId }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { success: false, error: { code: 'internal_error', message: 'Internal error', details: { request_id: ctx.state.requestId as string } } };
    }
  };
}

/** Errors thrown by Koa or its middleware with an `expose`d 4xx status (e.g. a body parser). */
function fromHttpError(err: unknown): AppError | null {
  const e = err as { status?: number; expose?: boolean; message?: string };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    return new AppError(e.status, `http_${e.status}`, e.message ?? 'Bad request');
  }
  return null;
}

/** SQLSTATEs that mean "this input cannot be stored", and the conflicts of concurrent writers. */
export function fromPostgresError(err: unknown): AppError | null {
  const e = err as { code?: unknown; constraint?: string; severity?: unknown };
  if (typeof e?.code !== 'string' || typeof e.severity !== 'string') return null;
  const code = e.code;
  if (code === '23505') {
    return new AppError(409, 'conflict', e.constraint === 'platform_notifications_app_external_key'
      ? 'A notification with this external_id already exists for this app'
      : 'This resource already exists');
  }
  if (code === '42501') return new AppError(403, 'forbidden', 'Not allowed to act on this resource');
  if (code === '40001' || code === '40P01' || code === '55P03' || code === '57014') {
    return new AppError(503, 'try_again', 'The request conflicted with another one; retry it', undefined, { 'Retry-After': '1' });
  }
  // 22xxx data exceptions (bad text, out of range, untranslatable character such as \u0000),
  // 23xxx integrity (check, not null, foreign key).
  if (code.startsWith('22') || code.startsWith('23')) {
    return new AppError(400, 'invalid_value', 'A value in the request cannot be stored', { sqlstate: code });
  }
  return null;
}
