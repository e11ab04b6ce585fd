// Successful attempts that finish at about the same time are recorded together in one statement
// (one commit, one update of each webhook's counters). A task awaits the write of its batch before
// it completes, so a recorded success is never lost: if the write fails, every task of the batch
// fails and graphile-worker runs those attempts again (same webhook-id).
import { run, type Pool } from '../../lib/db.js';
import { sqlFile } from '../../lib/sql.js';

const recordSuccesses = sqlFile('deliveries/record_successes');

/** One success, in the column order of record_successes.sql. */
export type SuccessRow = [string, string, string, string, string, string, number, string, string | null, number, number];

export interface SuccessBatcher {
  /** Resolves to false when the row's webhook was deleted meanwhile (nothing recorded for it). */
  record(row: SuccessRow): Promise<boolean>;
}

export function makeSuccessBatcher(pool: Pool, maxBatch = 200): SuccessBatcher {
  let pending: { rows: SuccessRow[]; done: Promise<Set<string>> } | null = null;

  /** Writes the batch; the ids of the webhooks still there. */
  const write = async (rows: SuccessRow[]) => {
    const columns = rows[0]!.map((_, i) => rows.map((row) => row[i]));
    const recorded = await run<{ id: string }>(pool, recordSuccesses, columns);
    return new Set(recorded.map((row) => row.id));
  };

  return {
    record(row) {
      if (!pending || pending.rows.length >= maxBatch) {
        const rows: SuccessRow[] = [];
        // Flush on the next turn of the event loop: whatever finished meanwhile joins the batch.
        const done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          if (pending?.rows === rows) pending = null;
          return write(rows);
        });
        pending = { rows, done };
      }
      pending.rows.push(row);
      return pending.done.then((webhookIds) => webhookIds.has(row[0]));
    },
  };
}
