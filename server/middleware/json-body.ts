// Read a JSON request body: 415 unless it is JSON, 413 past the route's limit, 400 when malformed.
// An absent body is `undefined` (the route's schema decides whether that is fine).
import type { Context } from 'koa';
import { AppError } from '../../lib/errors.js';

export const DEFAULT_BODY_LIMIT = 64 * 1024;

export interface JsonBody {
  value: unknown;
  raw: string;
}

const tooLarge = (limit: number) => new AppError(413, 'payload_too_large', `The request body is larger than ${limit} bytes`, { limit });

export async function readJsonBody(ctx: Context, limit = DEFAULT_BODY_LIMIT): Promise<JsonBody> {
  const length = ctx.get('content-length');
  const chunked = /chunked/i.test(ctx.get('transfer-encoding'));
  if (!chunked && (length === '' || length === '0')) return { value: undefined, raw: '' };
  if (!ctx.is('application/json', '+json')) {
    throw new AppError(415, 'unsupported_media_type', 'The request body must be JSON (Content-Type: application/json)');
  }
  if (length !== '' && Number(length) > limit) throw tooLarge(limit);
  const raw = await readLimited(ctx, limit);
  if (raw === '') return { value: undefined, raw };
  try {
    return { value: JSON.parse(raw), raw };
  } catch (err) {
    throw new AppError(400, 'invalid_json', `The request body is not valid JSON: ${(err as Error).message}`);
  }
}

function readLimited(ctx: Context, limit: number): Promise<string> {
  const req = ctx.req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      const buffer = Buffer.concat(chunks);
      const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
      try {
        resolve(text.decode(buffer));
      } catch {
        reject(new AppError(400, 'invalid_json', 'The request body is not valid UTF-8'));
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new AppError(400, 'invalid_body', `The request body could not be read: ${err.message}`));
    };
    const onAborted = () => {
      cleanup();
      reject(new AppError(400, 'invalid_body', 'The request was aborted'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
