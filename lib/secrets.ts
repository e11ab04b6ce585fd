// Webhook signing secrets at rest: AES-256-GCM (node:crypto) under a key from SECRETS_KEY, with the
// key's id stored next to each ciphertext so keys can rotate.
//
//   SECRETS_KEY = <id>:<base64 of 32 bytes>[,<id>:<base64 of 32 bytes>…]
//
// The first key encrypts; every listed key decrypts. Rotation: put the new key first and keep the
// old one after it, run `npx oriva secrets reencrypt` (the worker also does it when it starts), then
// drop the old key. A stored value is `enc:v1:<key id>:<base64 of iv ‖ tag ‖ ciphertext>`, bound to
// its app (the app id is the GCM additional data, so a ciphertext copied to another app's row does
// not decrypt). A value without the prefix is a plaintext secret from before encryption: it still
// works and is encrypted by the next re-encryption.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export interface Keyring {
  /** The key new secrets are encrypted with. */
  primaryId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export class SecretsKeyError extends Error {}

/** Parse SECRETS_KEY; throws SecretsKeyError with a message that names what is wrong (never the key). */
export function parseSecretsKey(raw: string): Keyring {
  const keys = new Map<string, Buffer>();
  let primaryId: string | null = null;
  for (const entry of raw.split(',').map((e) => e.trim())) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!KEY_ID.test(id)) throw new SecretsKeyError('SECRETS_KEY entries must look like <id>:<base64 of 32 bytes> (id: 1-32 letters, digits, _ or -)');
    const encoded = entry.slice(colon + 1);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== 32 || key.toString('base64') !== encoded) throw new SecretsKeyError(`SECRETS_KEY key "${id}" must be 32 bytes in base64`);
    if (keys.has(id)) throw new SecretsKeyError(`SECRETS_KEY lists key "${id}" twice`);
    keys.set(id, key);
    primaryId ??= id;
  }
  return { primaryId: primaryId!, keys };
}

/** A fresh SECRETS_KEY value with one key. */
export function generateSecretsKey(id = 'k1'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export function encryptSecret(ring: Keyring, plaintext: string, appId: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', ring.keys.get(ring.primaryId)!, iv);
  cipher.setAAD(Buffer.from(appId));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${PREFIX}${ring.primaryId}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`;
}

/** The plaintext of a stored secret; throws SecretsKeyError when its key is not configured or it does not decrypt. */
export function decryptSecret(ring: Keyring, stored: string, appId: string): string {
  if (!stored.startsWith(PREFIX)) return stored; // plaintext from before encryption
  const rest = stored.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  const id = rest.slice(0, colon);
  const key = ring.keys.get(id);
  if (!key) throw new SecretsKeyError(`the webhook secret is encrypted with key "${id}", which SECRETS_KEY does not list`);
  const data = Buffer.from(rest.slice(colon + 1), 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
    decipher.setAAD(Buffer.from(appId));
    decipher.setAuthTag(data.subarray(12, 28));
    return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretsKeyError(`the webhook secret does not decrypt with key "${id}" (a different key under the same id?)`);
  }
}

/** Is this stored value encrypted with the ring's primary key (nothing to re-encrypt)? */
export function isCurrent(ring: Keyring, stored: string | null): boolean {
  return stored === null || stored.startsWith(`${PREFIX}${ring.primaryId}:`);
}

/** decryptSecret, keeping what it decrypted (see remembering). */
export type Decrypt = (stored: string, appId: string) => string;

/**
 * decryptSecret that decrypts each stored value once: the worker signs every attempt with its
 * webhook's secret, and decrypting it each time was a twentieth of a delivery's CPU. The plaintexts
 * stay in this process's memory (at most `size`, the oldest dropped first); a rotated or re-encrypted
 * secret is a new stored value, so it is decrypted afresh. Failures are not kept.
 */
export function remembering(ring: Keyring, size = 10_000): Decrypt {
  const known = new Map<string, string>();
  return (stored, appId) => {
    const key = `${appId}\n${stored}`;
    let plain = known.get(key);
    if (plain === undefined) {
      plain = decryptSecret(ring, stored, appId);
      if (known.size >= size) known.delete(known.keys().next().value!);
      known.set(key, plain);
    }
    return plain;
  };
}
