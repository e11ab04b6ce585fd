import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

/** Every request gets an id (or keeps a sane X-Request-Id) that logs and 5xx bodies carry. */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = /^[A-Za-z0-9_-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}
