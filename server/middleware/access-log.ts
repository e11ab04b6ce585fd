// One pino line per request: method, route pattern (never the raw path or query, which may carry
// ids or `?auth=`), status, duration, request id and the caller's app id or user id. Credentials
// are never read here.
import type { Middleware } from 'koa';
import type { Logger } from '../../lib/log.js';
import type { Caller } from '../../lib/callers.js';

export function accessLog(log: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const caller = ctx.state.caller as Caller | undefined;
      log.info({
        requestId: ctx.state.requestId,
        method: ctx.method,
        route: (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched',
        status: ctx.status,
        ms: Number((Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)),
        ...(caller?.kind === 'app' ? { appId: caller.appId } : caller?.kind === 'user' ? { userId: caller.userId } : {}),
      }, 'request');
    }
  };
}
