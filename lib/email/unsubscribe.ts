// One-click unsubscribe tokens (RFC 8058): the email's List-Unsubscribe link carries who, what to
// switch off (email for one category, or all email) and until when the link works, signed with a
// key derived from JWT_SECRET for this purpose only — so a token is never a user token, and a user
// token is never one of these. Signed by the worker, verified by the server.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { NOTIFICATION_CATEGORIES, type NotificationCategory } from '../schemas/notifications.js';
import { USER_ID_PATTERN } from '../tokens.js';

/** What an unsubscribe switches off: email for one category, or email altogether. */
export type UnsubscribeScope = { category: NotificationCategory } | { all: true };

export interface Unsubscribe {
  userId: string;
  scope: UnsubscribeScope;
  expiresAt: Date;
}

const keyOf = (secret: string) => createHmac('sha256', secret).update('oriva unsubscribe v1').digest();
const mac = (secret: string, body: string) => createHmac('sha256', keyOf(secret)).update(body).digest();

export function signUnsubscribe(secret: string, { userId, scope, expiresAt }: Unsubscribe): string {
  const claims = { u: userId, s: 'all' in scope ? '*' : scope.category, e: Math.floor(expiresAt.getTime() / 1000) };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

/** The token's claims, or why it is refused ('invalid': forged, altered or malformed; 'expired'). */
export function verifyUnsubscribe(secret: string, token: string, now = new Date()): Unsubscribe | 'invalid' | 'expired' {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined || token.length > 1024) return 'invalid';
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(secret, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  let claims: { u?: unknown; s?: unknown; e?: unknown };
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return 'invalid';
  }
  const { u, s, e } = claims;
  if (typeof u !== 'string' || !USER_ID_PATTERN.test(u) || typeof e !== 'number' || typeof s !== 'string') return 'invalid';
  const scope: UnsubscribeScope | null = s === '*' ? { all: true }
    : (NOTIFICATION_CATEGORIES as readonly string[]).includes(s) ? { category: s as NotificationCategory } : null;
  if (!scope) return 'invalid';
  if (e * 1000 <= now.getTime()) return 'expired';
  return { userId: u, scope, expiresAt: new Date(e * 1000) };
}
