// Who is connecting, decided at the upgrade from what was copied out of the request.
// Credentials: `Authorization: Bearer …`, else a `bearer.<token>` subprotocol (browsers cannot set
// headers), else `?auth=` (seed compatibility). The query string is logged with auth redacted.
import type { Config } from '../lib/config.js';
import type { Pool } from '../lib/db.js';
import { USER_ID_PATTERN } from '../lib/tokens.js';
import { bearerOf, resolveCaller, type Caller } from '../lib/callers.js';
import { BEARER_PROTOCOL_PREFIX, parseSeq, SUBPROTOCOL } from './protocol.js';

/** What the upgrade handler copies from uWS's HttpRequest before its first await. */
export interface UpgradeInput {
  authorization: string;
  protocols: string;
  origin: string;
  query: string;
}

export type Route =
  | { kind: 'user'; userId: string; expiresAt: number }
  | { kind: 'app'; appId: string; platform: boolean; userId: string | null; keyHash: Buffer };

export type Admission =
  | { ok: true; route: Route; after: number | null; protocol: string }
  | { ok: false; status: 400 | 401 | 403; reason: string; message: string };

export function offeredProtocols(header: string): string[] {
  return header.split(',').map((p) => p.trim()).filter(Boolean);
}

function bearerFrom(input: UpgradeInput, params: URLSearchParams): string | null | undefined {
  if (input.authorization) return bearerOf(input.authorization); // null: present but malformed
  const fromProtocol = offeredProtocols(input.protocols).find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (fromProtocol) return fromProtocol.slice(BEARER_PROTOCOL_PREFIX.length) || null;
  const fromQuery = params.get('auth');
  if (fromQuery !== null) return fromQuery || null;
  return undefined;
}

export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  if (!origin) return true; // not a browser
  return allowed.includes('*') || allowed.includes(origin);
}

/** The query string for logs: the credential replaced. */
export function redactQuery(query: string): string {
  const params = new URLSearchParams(query);
  if (params.has('auth')) params.set('auth', '[redacted]');
  return params.toString();
}

const refuse = (status: 400 | 401 | 403, reason: string, message: string): Admission => ({ ok: false, status, reason, message });

export async function admitUpgrade(pool: Pool, config: Config, input: UpgradeInput): Promise<Admission> {
  const params = new URLSearchParams(input.query);
  if (!originAllowed(input.origin, config.allowedOrigins)) return refuse(403, 'origin', `Origin ${input.origin} is not allowed`);
  // A client that offers subprotocols fails a 101 that picks none of them: say why instead.
  const offered = offeredProtocols(input.protocols);
  if (offered.length > 0 && !offered.includes(SUBPROTOCOL)) {
    return refuse(400, 'bad_subprotocol', `Offer the ${SUBPROTOCOL} subprotocol (next to ${BEARER_PROTOCOL_PREFIX}<token>)`);
  }
  const bearer = bearerFrom(input, params);
  if (bearer === undefined) return refuse(401, 'missing_credentials', 'Send Authorization: Bearer <token>, a bearer.<token> subprotocol or ?auth=<token>');
  let caller: Caller | null = null;
  if (bearer !== null) caller = await resolveCaller(pool, config, bearer);
  if (!caller) return refuse(401, 'bad_credentials', 'Invalid, expired or revoked credentials');

  let after: number | null = null;
  const afterRaw = params.get('after');
  if (afterRaw !== null) {
    after = parseSeq(afterRaw);
    if (after === null) return refuse(400, 'bad_query', 'after must be a non-negative integer seq');
  }
  const userFilter = params.get('user_id');
  if (userFilter !== null && !USER_ID_PATTERN.test(userFilter)) return refuse(400, 'bad_query', 'user_id is not a valid user id');

  let route: Route;
  if (caller.kind === 'user') {
    if (userFilter !== null && userFilter !== caller.userId) return refuse(403, 'other_user', 'A user token streams only its own events');
    route = { kind: 'user', userId: caller.userId, expiresAt: caller.expiresAt * 1000 };
  } else {
    // keyHash: the digest the connection was admitted with, checked again when the app's keys change (revocation.ts).
    route = { kind: 'app', appId: caller.appId, platform: caller.platform, userId: userFilter, keyHash: caller.keyHash };
  }
  const protocol = offered.length > 0 ? SUBPROTOCOL : '';
  return { ok: true, route, after, protocol };
}
