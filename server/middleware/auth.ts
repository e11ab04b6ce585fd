// Who is calling: an app (Bearer oriva_sk_…, looked up by SHA-256 digest) or a user (Bearer JWT).
// Sets ctx.state.caller; the guards below turn a missing or wrong caller into 401/403.
import type { Context, Middleware } from 'koa';
import type { Config } from '../../lib/config.js';
import { run, type Actor, type Pool } from '../../lib/db.js';
import { forbidden, unauthorized } from '../../lib/errors.js';
import { API_KEY_PREFIX, hashApiKey } from '../../lib/keys.js';
import { sqlFile } from '../../lib/sql.js';
import { verifyUserToken } from '../../lib/tokens.js';

export type Caller =
  | { kind: 'app'; appId: string; appName: string; platform: boolean }
  | { kind: 'user'; userId: string; expiresAt: number };

const findByKey = sqlFile('apps/find_by_key');

/** Resolve the caller of a bearer credential; null when it is missing, malformed, revoked or expired. */
export async function resolveCaller(pool: Pool, config: Config, bearer: string): Promise<Caller | null> {
  if (bearer.startsWith(API_KEY_PREFIX)) {
    const [app] = await run<{ id: string; name: string; is_platform: boolean }>(pool, findByKey, [hashApiKey(bearer)]);
    return app ? { kind: 'app', appId: app.id, appName: app.name, platform: app.is_platform } : null;
  }
  const claims = await verifyUserToken(config.jwtSecret, bearer);
  return claims ? { kind: 'user', userId: claims.userId, expiresAt: claims.expiresAt } : null;
}

export function bearerOf(header: string | undefined): string | null {
  const match = /^Bearer ([^\s]{1,4096})$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/** Authenticate every request that carries credentials; routes decide whether they are required. */
export function authenticate(pool: Pool, config: Config): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    if (header) {
      const bearer = bearerOf(header);
      const caller = bearer ? await resolveCaller(pool, config, bearer) : null;
      if (!caller) throw unauthorized('Invalid, expired or revoked credentials');
      ctx.state.caller = caller;
    }
    await next();
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

/** The actor row-level security sees for this caller. */
export function actorOf(caller: Caller): Actor {
  return caller.kind === 'app' ? { appId: caller.appId, platform: caller.platform } : { userId: caller.userId };
}
