// Emails accepted by the SMTP server at about the same time are recorded together in one statement
// (oriva.email_digests_sent). A task awaits the write of its batch before it completes, so a sent
// email is never left unrecorded silently: if the write fails, every task of the batch fails and
// graphile-worker runs those digests again — the claim resends them under the same Message-ID.
import { run, type Pool } from '../../lib/db.js';
import { sqlStatement } from '../../lib/sql.js';

const recordSent = sqlStatement<{ email_ids: string[] }, Record<string, unknown>>('email/record_sent');

export interface SentBatcher {
  record(emailId: string): Promise<void>;
}

export function makeSentBatcher(pool: Pool, maxBatch = 200): SentBatcher {
  let pending: { ids: string[]; done: Promise<void> } | null = null;
  return {
    record(emailId) {
      if (!pending || pending.ids.length >= maxBatch) {
        const ids: string[] = [];
        // Flush on the next turn of the event loop: whatever finished meanwhile joins the batch.
        const done = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
          if (pending?.ids === ids) pending = null;
          await run(pool, recordSent, { email_ids: ids });
        });
        pending = { ids, done };
      }
      pending.ids.push(emailId);
      return pending.done;
    },
  };
}
