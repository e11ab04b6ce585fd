// Who is calling: an app (Bearer oriva_sk_…, looked up by SHA-256 digest) or a user (Bearer JWT).
// Shared by the REST API (server/middleware/auth.ts) and the gateway (gateway/auth.ts). A KeyCache
// remembers which app a key belongs to for a minute, which saves a query per request; it is not
// trusted for revocation: every API transaction checks the key again through oriva.act_as()
// (lib/db.ts), and the gateway closes connections whose key is revoked (gateway/revocation.ts).
import type { Config } from './config.js';
import { run, type Actor, type Pool } from './db.js';
import { API_KEY_PREFIX, hashApiKey } from './keys.js';
import { sqlFile } from './sql.js';
import { verifyUserToken } from './tokens.js';

export type Caller =
  | { kind: 'app'; appId: string; appName: string; platform: boolean; keyHash: Buffer }
  | { kind: 'user'; userId: string; expiresAt: number };

const findByKey = sqlFile('apps/find_by_key');

/** Resolve the caller of a bearer credential; null when it is missing, malformed, revoked or expired. */
export async function resolveCaller(pool: Pool, config: Config, bearer: string, keys?: KeyCache): Promise<Caller | null> {
  if (bearer.startsWith(API_KEY_PREFIX)) {
    const keyHash = hashApiKey(bearer);
    const known = keys?.get(keyHash);
    if (known) return known;
    const [app] = await run<{ id: string; name: string; is_platform: boolean }>(pool, findByKey, [keyHash]);
    if (!app) return null;
    const caller: Caller = { kind: 'app', appId: app.id, appName: app.name, platform: app.is_platform, keyHash };
    keys?.set(caller);
    return caller;
  }
  const claims = await verifyUserToken(config.jwtSecret, bearer);
  return claims ? { kind: 'user', userId: claims.userId, expiresAt: claims.expiresAt } : null;
}

export function bearerOf(header: string | undefined): string | null {
  const match = /^Bearer ([^\s]{1,4096})$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/** Which app a key digest belongs to, for `ttlMs`; at most `size` keys (the oldest go first). */
export class KeyCache {
  private readonly apps = new Map<string, { caller: Extract<Caller, { kind: 'app' }>; until: number }>();

  constructor(private readonly ttlMs = 60_000, private readonly size = 10_000) {}

  get(keyHash: Buffer): Caller | undefined {
    const id = keyHash.toString('hex');
    const entry = this.apps.get(id);
    if (entry && entry.until > Date.now()) return entry.caller;
    if (entry) this.apps.delete(id);
    return undefined;
  }

  set(caller: Extract<Caller, { kind: 'app' }>): void {
    if (this.apps.size >= this.size) this.apps.delete(this.apps.keys().next().value!);
    this.apps.set(caller.keyHash.toString('hex'), { caller, until: Date.now() + this.ttlMs });
  }

  forget(keyHash: Buffer): void {
    this.apps.delete(keyHash.toString('hex'));
  }
}

/** A caller's own rate-limit bucket: its app, or its user. */
export const callerKey = (caller: Caller): string => (caller.kind === 'app' ? `app:${caller.appId}` : `user:${caller.userId}`);

/** The actor row-level security sees for this caller. */
export function actorOf(caller: Caller): Actor {
  return caller.kind === 'app' ? { appId: caller.appId, platform: caller.platform, keyHash: caller.keyHash } : { userId: caller.userId };
}
