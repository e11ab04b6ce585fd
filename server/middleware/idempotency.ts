// Idempotency-Key on POSTs (as Stripe and Svix do): the first successful response is stored with
// the key in the write's own transaction; the same key with the same request replays it, with a
// different request is a 422. Keys are kept 24 hours. A failed request stores nothing (its
// transaction rolled back), so it may be retried with the same key.
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { run, type PoolClient } from '../../lib/db.js';
import { AppError } from '../../lib/errors.js';
import { sqlFile } from '../../lib/sql.js';

const claim = sqlFile('idempotency/claim');
const store = sqlFile('idempotency/store');

export interface Reply {
  status: number;
  body: unknown;
  /** Answered from the stored response of an earlier request with the same key. */
  replayed?: boolean;
  /** Headers of this reply (the documented ones only: ETag on a versioned resource). */
  headers?: Record<string, string>;
}

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** The key of this request, null when none was sent; 400 when it is not 1–255 visible characters. */
export function idempotencyKeyOf(ctx: Context): string | null {
  const key = ctx.get(IDEMPOTENCY_HEADER);
  if (key === '') return null;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new AppError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters');
  }
  return key;
}

export function requestHash(ctx: Context, rawBody: string): string {
  return createHash('sha256').update(`${ctx.method} ${ctx.path}\n${rawBody}`).digest('hex');
}

/** Claim the key; a stored reply when this request was already answered. */
export async function claimKey(client: PoolClient, appId: string, key: string, hash: string): Promise<Reply | null> {
  const [row] = await run<{ claimed: boolean; request_hash: string | null; response_status: number | null; response_body: unknown }>(
    client, claim, [appId, key, hash]);
  if (row?.claimed) return null;
  if (!row?.request_hash || row.response_status === null) {
    throw new AppError(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed; retry later', undefined, { 'Retry-After': '1' });
  }
  if (row.request_hash !== hash) {
    throw new AppError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request in the last 24 hours');
  }
  return { status: row.response_status, body: row.response_body };
}

export async function storeReply(client: PoolClient, appId: string, key: string, reply: Reply): Promise<void> {
  await run(client, store, [appId, key, reply.status, JSON.stringify(reply.body)]);
}
