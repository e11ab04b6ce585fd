// Keyset-pagination cursors: the sort key of the last row of a page, opaque to clients
// (base64url of its parts). A cursor that does not decode is a 400.
import { AppError } from '../../lib/errors.js';

export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(parts.join('|'), 'utf8').toString('base64url');
}

/** The parts of a cursor, checked against one pattern per part. */
export function decodeCursor(cursor: string, patterns: RegExp[]): string[] {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (parts.length !== patterns.length || parts.some((p, i) => !patterns[i]!.test(p))) {
    throw new AppError(400, 'validation_error', 'query/cursor is not a cursor this endpoint issued', [{ path: 'query/cursor', message: 'is invalid' }]);
  }
  return parts;
}

export const INTEGER = /^-?\d{1,19}$/;
/** A timestamptz as Postgres prints it (`delivered_at::text`), exact to the microsecond. */
export const TIMESTAMP_TEXT = /^[0-9 :.+-]{10,40}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
