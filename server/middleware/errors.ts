// First in the chain: every failure leaves as {"success": false, "error": {code, message, details?}}.
// 5xx say nothing internal; they are logged with the request id.
import type { Middleware } from 'koa';
import { AppError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';

export function errorEnvelope(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const known = err instanceof AppError ? err : fromHttpError(err);
      if (known) {
        ctx.status = known.status;
        ctx.set(known.headers);
        ctx.body = { success: false, error: { code: known.code, message: known.message, ...(known.details === undefined ? {} : { details: known.details }) } };
        return;
      }
      log.error({ err, requestId: ctx.state.requestId }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { success: false, error: { code: 'internal_error', message: 'Internal error', details: { request_id: ctx.state.requestId } } };
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
