// User tokens: HS256 JWTs signed with JWT_SECRET, `sub` = the opaque user id, `exp` enforced.
import { SignJWT, jwtVerify } from 'jose';

export const USER_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;

export interface UserClaims {
  userId: string;
  expiresAt: number; // seconds since the epoch
}

const key = (secret: string) => new TextEncoder().encode(secret);

export async function signUserToken(secret: string, userId: string, ttlSeconds = 3600): Promise<string> {
  if (!USER_ID_PATTERN.test(userId)) throw new Error(`invalid user id ${JSON.stringify(userId)}: 1-128 of [A-Za-z0-9_.:@-]`);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key(secret));
}

/** The claims of a valid, unexpired token; null for anything else. */
export async function verifyUserToken(secret: string, token: string): Promise<UserClaims | null> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
    if (typeof payload.sub !== 'string' || !USER_ID_PATTERN.test(payload.sub)) return null;
    return { userId: payload.sub, expiresAt: payload.exp as number };
  } catch {
    return null;
  }
}
