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
export const unauthorized = (message = 'Missing or invalid credentials') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'Not allowed to act on this resource') => new AppError(403, 'forbidden', message);
export const notFound = (message = 'Not found') => new AppError(404, 'not_found', message);
export const conflict = (message: string, details?: unknown) => new AppError(409, 'conflict', message, details);
