// Emails accepted by the SMTP server at about the same time are recorded together in one statement
// (oriva.email_digests_sent). One write is in flight per worker process: while it runs, the next
// emails gather, and their batch is written when it finishes. Concurrent writes each took the app's
// hourly email counter row (notification_stats_hourly) until their commit and queued behind one
// another; one at a time, the batches grow with the load instead. A task awaits the write of its
// batch before it completes, so a sent email is never left unrecorded silently: if the write fails,
// every task of the batch fails and graphile-worker runs those digests again — the claim resends
// them under the same Message-ID.
import { run, type Pool } from '../../lib/db.js';
import { sqlStatement } from '../../lib/sql.js';

const recordSent = sqlStatement<{ email_ids: string[] }, Record<string, unknown>>('email/record_sent');

export interface SentBatcher {
  record(emailId: string): Promise<void>;
}

interface Batch {
  ids: string[];
  written: Promise<void>;
}

export function makeSentBatcher(pool: Pool, maxBatch = 200): SentBatcher {
  let gathering: Batch | null = null;
  let previous: Promise<unknown> = Promise.resolve();
  const startBatch = (): Batch => {
    const batch: Batch = { ids: [], written: Promise.resolve() };
    // After the batch before it is written, and a turn of the event loop later (whatever finished
    // meanwhile joins), this batch stops gathering and is written.
    batch.written = previous
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(async () => {
        if (gathering === batch) gathering = null;
        await run(pool, recordSent, { email_ids: batch.ids });
      });
    previous = batch.written.catch(() => {});
    return batch;
  };
  return {
    record(emailId) {
      if (!gathering || gathering.ids.length >= maxBatch) gathering = startBatch();
      gathering.ids.push(emailId);
      return gathering.written;
    },
  };
}
