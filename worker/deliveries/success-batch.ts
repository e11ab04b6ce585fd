// Successful attempts are recorded together in one statement (one commit, one update of each
// webhook's counters and of the app's hourly stats row), one write in flight per worker process
// (lib/coalesce.ts): the successes that finish while it runs are recorded together next. Several
// writes in flight each took the webhook's row until their commit and queued behind one another.
// A task awaits the write of its success before it completes, so a recorded success is never lost:
// if the write fails, every task of the batch fails and graphile-worker runs those attempts again
// (same webhook-id).
import { Coalescer } from '../../lib/coalesce.js';
import { run, type Pool } from '../../lib/db.js';
import { sqlStatement } from '../../lib/sql.js';

/** One attempt's log row (webhook_delivery_log), as record_attempt.sql and record_successes.sql take it. */
export interface AttemptRow {
  webhook_id: string;
  app_id: string;
  event_id: string;
  delivery_id: string;
  event_type: string;
  payload: string;
  status_code: number | null;
  response_body: string | null;
  response_headers: string | null;
  delivery_attempt: number;
  response_time_ms: number;
}

const ATTEMPT_COLUMNS = [
  'webhook_id', 'app_id', 'event_id', 'delivery_id', 'event_type', 'payload', 'status_code', 'response_body',
  'response_headers', 'delivery_attempt', 'response_time_ms',
] as const satisfies readonly (keyof AttemptRow)[];

/** One array per column, a value per attempt. */
type AttemptColumns = { [K in keyof AttemptRow]: AttemptRow[K][] };

const recordSuccesses = sqlStatement<AttemptColumns, { id: string }>('deliveries/record_successes');

export interface SuccessBatcher {
  /** Resolves to false when the row's webhook was deleted meanwhile (nothing recorded for it). */
  record(row: AttemptRow): Promise<boolean>;
}

export function makeSuccessBatcher(pool: Pool): SuccessBatcher {
  const writes = new Coalescer<AttemptRow, boolean>(async (_key, rows) => {
    const columns = Object.fromEntries(ATTEMPT_COLUMNS.map((column) => [column, rows.map((row) => row[column])])) as AttemptColumns;
    const recorded = new Set((await run(pool, recordSuccesses, columns)).map((row) => row.id));
    return rows.map((row) => recorded.has(row.webhook_id));
  });
  return { record: (row) => writes.add('successes', row) };
}
