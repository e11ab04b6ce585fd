// Emails accepted by the SMTP server at about the same time are recorded together in one statement
// (oriva.email_digests_sent), one write in flight per worker process (lib/coalesce.ts): the emails
// sent while it runs are recorded together next. Concurrent writes each took the app's hourly email
// counter row (notification_stats_hourly) until their commit and queued behind one another. A task
// awaits the write of its email before it completes, so a sent email is never left unrecorded
// silently: if the write fails, every task of the batch fails and graphile-worker runs those digests
// again — the claim resends them under the same Message-ID.
import { Coalescer } from '../../lib/coalesce.js';
import { run, type Pool } from '../../lib/db.js';
import { sqlStatement } from '../../lib/sql.js';

const recordSent = sqlStatement<{ email_ids: string[] }, Record<string, unknown>>('email/record_sent');

export interface SentBatcher {
  record(emailId: string): Promise<void>;
}

export function makeSentBatcher(pool: Pool): SentBatcher {
  const writes = new Coalescer<string>(async (_key, emailIds) => {
    await run(pool, recordSent, { email_ids: emailIds });
    return emailIds.map(() => undefined);
  });
  return { record: (emailId) => writes.add('sent', emailId) };
}
