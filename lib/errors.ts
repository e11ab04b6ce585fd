// The one error type. Routes throw AppError; the error middleware turns it into
// {"success": false, "error": {"code", "message", "details"?}} with the given status.
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, details?: unknown, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

export const badRequest = (message: string, details?: unknown) => new AppError(400, 'validation_error', message, details);
/** RFC 9110: a 401 says which scheme to use. */
export const WWW_AUTHENTICATE = 'Bearer realm="oriva"';
export const unauthorized = (message = 'Missing or invalid credentials') => new AppError(401, 'unauthorized', message, undefined, { 'WWW-Authenticate': WWW_AUTHENTICATE });
export const forbidden = (message = 'Not allowed to act on this resource') => new AppError(403, 'forbidden', message);
export const notFound = (message = 'Not found') => new AppError(404, 'not_found', message);
export const conflict = (message: string, details?: unknown) => new AppError(409, 'conflict', message, details);
export const preconditionFailed = (message: string) => new AppError(412, 'precondition_failed', message);

/** Node socket errors and Postgres SQLSTATEs that mean "the database cannot be reached right now". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const LOST_CONNECTION = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended)/;

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && (UNREACHABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith('08'))) return true;
  return typeof e?.message === 'string' && LOST_CONNECTION.test(e.message);
}

/** Seconds a client should wait before retrying while the database is away. */
export const UNAVAILABLE_RETRY_AFTER_S = 5;
export const unavailable = () =>
  new AppError(503, 'unavailable', 'The service cannot reach its database right now; retry later', undefined, { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_S) });

/** The installation rule (lib/routing.ts) refused the recipient: 403, and nothing was written. */
export const notInstalled = (userId: string): AppError =>
  new AppError(403, 'not_installed', `User ${userId} has not installed this app`, { user_id: userId });

/** A second notification (or broadcast) with an external_id the app already used: 409, nothing written. */
export const duplicateExternalId = (externalId: string): AppError =>
  new AppError(409, 'conflict', 'A notification with this external_id already exists for this app', { external_id: externalId });
