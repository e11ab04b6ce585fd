// The digest jobs running at about the same moment share their database statements: their claims
// go in one statement (oriva.email_digest_claim_many), the emails the SMTP server accepted are
// recorded in one (oriva.email_digests_sent) — one transaction and one commit each instead of one
// per email. A batch gathers what arrives before the next turn of the event loop (no added wait at
// low load), up to `maxBatch`. A task awaits its own batch's statement, so if that fails every task
// of the batch fails and graphile-worker runs those digests again (a claimed email is then resent
// under the same Message-ID).
import { run, type Pool } from '../../lib/db.js';
import { sqlStatement } from '../../lib/sql.js';
import type { DigestItem } from './render.js';

export interface Claimed {
  email_id: string;
  address: string;
  resend: boolean;
  attempts: number;
  /** The notifications it lists, as JSON (created_at a string). */
  items: (Omit<DigestItem, 'created_at'> & { created_at: string })[];
}

const claimMany = sqlStatement<{ user_ids: string[]; lease_ms: number; stale_ms: number }, Claimed & { entry: number }>('email/claim_many');
const recordSent = sqlStatement<{ email_ids: string[] }, Record<string, unknown>>('email/record_sent');

/** One call per input; the inputs gathered in a turn of the event loop run as one `flush`. */
export function batcher<In, Out>(flush: (inputs: In[]) => Promise<Out[]>, maxBatch = 200): (input: In) => Promise<Out> {
  let pending: { inputs: In[]; done: Promise<Out[]> } | null = null;
  return (input) => {
    if (!pending || pending.inputs.length >= maxBatch) {
      const inputs: In[] = [];
      const done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        if (pending?.inputs === inputs) pending = null;
        return flush(inputs);
      });
      pending = { inputs, done };
    }
    const index = pending.inputs.push(input) - 1;
    return pending.done.then((outputs) => outputs[index]!);
  };
}

export interface DigestStatements {
  /** The user's digest to send now (a new one, or one a previous run left unfinished), or null. */
  claim(userId: string): Promise<Claimed | null>;
  /** The SMTP server accepted this email. */
  sent(emailId: string): Promise<void>;
}

export function digestStatements(pool: Pool, lease: { leaseMs: number; staleMs: number }): DigestStatements {
  return {
    claim: batcher(async (userIds: string[]) => {
      // claimed in user order, so two batches (two workers) take users' locks in the same order
      const order = userIds.map((_, i) => i).sort((a, b) => (userIds[a]! < userIds[b]! ? -1 : userIds[a]! > userIds[b]! ? 1 : a - b));
      const rows = await run(pool, claimMany, { user_ids: order.map((i) => userIds[i]!), lease_ms: lease.leaseMs, stale_ms: lease.staleMs });
      const claimed: (Claimed | null)[] = userIds.map(() => null);
      for (const { entry, ...row } of rows) claimed[order[entry - 1]!] = row;
      return claimed;
    }),
    sent: batcher(async (emailIds: string[]) => {
      await run(pool, recordSent, { email_ids: emailIds });
      return emailIds.map(() => undefined);
    }),
  };
}
