// Successful attempts that finish at about the same time are recorded together in one statement
// (one commit, one update of each webhook's counters). A task awaits the write of its batch before
// it completes, so a recorded success is never lost: if the write fails, every task of the batch
// fails and graphile-worker runs those attempts again (same webhook-id).
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

export function makeSuccessBatcher(pool: Pool, maxBatch = 200): SuccessBatcher {
  let pending: { rows: AttemptRow[]; done: Promise<Set<string>> } | null = null;

  /** Writes the batch; the ids of the webhooks still there. */
  const write = async (rows: AttemptRow[]) => {
    const columns = Object.fromEntries(ATTEMPT_COLUMNS.map((column) => [column, rows.map((row) => row[column])])) as AttemptColumns;
    const recorded = await run(pool, recordSuccesses, columns);
    return new Set(recorded.map((row) => row.id));
  };

  return {
    record(row) {
      if (!pending || pending.rows.length >= maxBatch) {
        const rows: AttemptRow[] = [];
        // Flush on the next turn of the event loop: whatever finished meanwhile joins the batch.
        const done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          if (pending?.rows === rows) pending = null;
          return write(rows);
        });
        pending = { rows, done };
      }
      pending.rows.push(row);
      return pending.done.then((webhookIds) => webhookIds.has(row.webhook_id));
    },
  };
}
