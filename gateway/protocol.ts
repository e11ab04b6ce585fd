// The wire protocol of /api/v1/events/stream: what clients may send, what the server sends, and
// the close codes. Messages are JSON text frames.
import { EVENT_PATTERN, toEventMessage, type EventRow } from '../lib/events.js';

export const STREAM_PATH = '/api/v1/events/stream';
/** The non-secret subprotocol a browser offers next to `bearer.<token>`; echoed back when offered. */
export const SUBPROTOCOL = 'oriva.v1';
export const BEARER_PROTOCOL_PREFIX = 'bearer.';

/** Close codes (HTTP refusals at the upgrade: 400 bad query, 401 credentials, 403 origin, 429 too many connections). */
export const CLOSE = {
  goingAway: 1001, // gateway shutting down: reconnect with after=<last seq>
  policy: 1008, // token expired, or message flood
  tooBig: 1009, // message over maxPayloadLength (over 4× it, uWS cuts the connection: 1006)
  tryAgain: 1013, // slow consumer: reconnect with after=<last seq>
} as const;

export const MAX_PATTERNS = 50;
/** An in-band token refresh carries a user JWT; anything longer is not one of ours. */
export const MAX_TOKEN_LENGTH = 4096;

export type ClientMessage =
  | { type: 'subscribe'; events: string[] }
  | { type: 'resume'; after: number }
  | { type: 'ping' }
  | { type: 'auth'; token: string };

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: string };

export function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** `?after=` as a seq, or null when it is not a non-negative integer. */
export function parseSeq(raw: string): number | null {
  if (!/^\d{1,15}$/.test(raw)) return null;
  return Number(raw);
}

export function parseClientMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'message is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'message must be a JSON object' };
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'subscribe': {
      const events = message.events;
      if (!Array.isArray(events) || events.length === 0 || events.length > MAX_PATTERNS) {
        return { ok: false, error: `subscribe.events must be 1-${MAX_PATTERNS} patterns` };
      }
      const bad = (events as unknown[]).find((p) => typeof p !== 'string' || !EVENT_PATTERN.test(p));
      if (bad !== undefined) return { ok: false, error: `not an event pattern: ${JSON.stringify(bad)} (exact type, "category.*" or "*")` };
      return { ok: true, message: { type: 'subscribe', events: [...new Set(events as string[])] } };
    }
    case 'resume':
      if (!isSeq(message.after)) return { ok: false, error: 'resume.after must be a non-negative integer seq' };
      return { ok: true, message: { type: 'resume', after: message.after } };
    case 'ping':
      return { ok: true, message: { type: 'ping' } };
    case 'auth':
      if (typeof message.token !== 'string' || message.token.length === 0 || message.token.length > MAX_TOKEN_LENGTH) {
        return { ok: false, error: `auth.token must be a user token (1-${MAX_TOKEN_LENGTH} characters)` };
      }
      return { ok: true, message: { type: 'auth', token: message.token } };
    default:
      return { ok: false, error: 'type must be subscribe, resume, ping or auth' };
  }
}

/**
 * An event frame. With `omitted` (a reason), the event goes out without its event_data and with
 * `event_data_omitted: <reason>`: a row that cannot be serialised (nested deeper than the stack allows,
 * written before the API bounded app JSON or by SQL) still moves every stream past its seq.
 */
export const eventFrame = (row: EventRow, omitted?: string): Buffer =>
  Buffer.from(JSON.stringify(omitted
    ? { type: 'event', ...toEventMessage({ ...row, event_data: {} }), event_data_omitted: omitted }
    : { type: 'event', ...toEventMessage(row) }));
export const readyFrame = (connectionId: string, seq: number) => JSON.stringify({ type: 'ready', connection_id: connectionId, seq });
export const countsFrame = (unread: number) => JSON.stringify({ type: 'counts', unread });
/** The user's preference document changed (not replayed on resume: a client reads it again on ready). */
export const preferencesFrame = (revision: number, updatedAt: string) =>
  JSON.stringify({ type: 'preferences.updated', revision, updated_at: new Date(updatedAt).toISOString() });
export const subscribedFrame = (events: string[]) => JSON.stringify({ type: 'subscribed', events });
export const errorFrame = (code: string, message: string) => JSON.stringify({ type: 'error', code, message });
export const pongFrame = () => '{"type":"pong"}';
/** An in-band token refresh was accepted: the connection now lives until the new token's expiry. */
export const authenticatedFrame = (expiresAt: number) => JSON.stringify({ type: 'authenticated', expires_at: new Date(expiresAt).toISOString() });
/**
 * Events in (after, resume_seq] are not replayed: `archived` (older than the live table keeps) or
 * `too_far_behind` (more than the replay limit). Refetch state over REST; live events follow.
 */
export const gapFrame = (after: number, resumeSeq: number, reason: 'archived' | 'too_far_behind') =>
  JSON.stringify({ type: 'gap', after, resume_seq: resumeSeq, reason });
