// The REST API's side of caller resolution (lib/callers.ts): sets ctx.state.caller from the
// Authorization header; the guards below turn a missing or wrong caller into 401/403. A revoked key
// gets 401 on its next request: every transaction checks it again (lib/db.ts).
import type { Context, Middleware } from 'koa';
import { bearerOf, KeyCache, resolveCaller, type Caller } from '../../lib/callers.js';
import type { Config } from '../../lib/config.js';
import type { Pool } from '../../lib/db.js';
import { AppError, forbidden, unauthorized } from '../../lib/errors.js';

/** Authenticate every request that carries credentials; routes decide whether they are required. */
export function authenticate(pool: Pool, config: Config): Middleware {
  const keys = new KeyCache();
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    if (!header) return next() as Promise<void>;
    const bearer = bearerOf(header);
    const caller = bearer ? await resolveCaller(pool, config, bearer, keys) : null;
    if (!caller) throw unauthorized('Invalid, expired or revoked credentials');
    ctx.state.caller = caller;
    try {
      await next();
    } catch (err) {
      // The transaction found the key revoked (or its app changed): look it up afresh next time.
      if (caller.kind === 'app' && err instanceof AppError && err.status === 401) keys.forget(caller.keyHash);
      throw err;
    }
  };
}

export function callerOf(ctx: Context): Caller {
  const caller = ctx.state.caller as Caller | undefined;
  if (!caller) throw unauthorized('Authorization: Bearer <API key or user token> is required');
  return caller;
}

/** The calling app, which must be the app named in the path. */
export function requireApp(ctx: Context, pathAppId?: string): Extract<Caller, { kind: 'app' }> {
  const caller = callerOf(ctx);
  if (caller.kind !== 'app') throw forbidden('This endpoint is for apps (API key), not user tokens');
  if (pathAppId !== undefined && pathAppId !== caller.appId) throw forbidden('An API key acts only for its own app');
  return caller;
}
